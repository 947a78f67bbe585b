//! Walking JSON by hand (settings, an object's metadata): field paths, type names and unknown
//! fields for messages; and building it by hand (the emitted objects).

use serde_json::{Map, Value};

use crate::report::shorten;

/// A JSON map of `fields`, built without `json!`, which serializes each value through serde
/// and unwraps the result: kilobytes of policy.wasm.
pub(crate) fn object(fields: Vec<(&str, Value)>) -> Value {
    let mut map = Map::new();
    for (key, value) in fields {
        map.insert(key.to_owned(), value);
    }
    Value::Object(map)
}

pub(crate) fn text(value: &str) -> Value {
    Value::String(value.to_owned())
}

/// The value under the map keys `path`, like `Value::pointer` without its two string copies
/// per key (it unescapes `~0` and `~1`, which no path of the policy has).
pub(crate) fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |value, key| value.get(key))
}

/// `path.field`, or `field` alone when `path` is the top level.
pub(crate) fn child(path: &str, field: &str) -> String {
    match path.is_empty() {
        true => field.to_string(),
        false => format!("{path}.{field}"),
    }
}

/// `path[index]`.
pub(crate) fn item(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

/// The field `name` of `map`; `null` counts as absent, as in Kubernetes' decoder.
pub(crate) fn field<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.get(name).filter(|value| !value.is_null())
}

/// `expected {what}, got a string` (or a number, a list, …): the one wording of every value of
/// the wrong type, in the settings and in an object's metadata.
pub(crate) fn expected(what: &str, value: &Value) -> String {
    format!("expected {what}, got {}", kind(value))
}

/// `{path}: expected {what}, got a string` (see [`expected`]).
pub(crate) fn wrong_type(path: &str, what: &str, value: &Value) -> String {
    format!("{path}: {}", expected(what, value))
}

/// The boolean `value`, or the message saying it is not one.
pub(crate) fn boolean(value: &Value) -> Result<bool, String> {
    value.as_bool().ok_or_else(|| expected("true or false", value))
}

/// The string `value`, or the message saying it is not one.
pub(crate) fn expect_str<'a>(value: &'a Value, path: &str) -> Result<&'a str, String> {
    value.as_str().ok_or_else(|| wrong_type(path, "a string", value))
}

/// The list `value`, or the message saying it is not one.
pub(crate) fn expect_list<'a>(value: &'a Value, path: &str, expected: &str) -> Result<&'a [Value], String> {
    match value {
        Value::Array(items) => Ok(items),
        other => Err(wrong_type(path, expected, other)),
    }
}

/// The map `value`, or the message saying it is not one.
pub(crate) fn expect_map<'a>(value: &'a Value, path: &str, expected: &str) -> Result<&'a Map<String, Value>, String> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(wrong_type(path, expected, other)),
    }
}

/// One message per field of `map` not in `known`: `{path}.{field}: unknown field; expected a, b or c`.
pub(crate) fn unknown_fields(map: &Map<String, Value>, known: &[&str], path: &str) -> Vec<String> {
    map.keys()
        .filter(|name| !known.contains(&name.as_str()))
        .map(|name| format!("{}: {}", child(path, &shorten(name)), unknown_field(known)))
        .collect()
}

/// `unknown field; expected a, b or c`.
pub(crate) fn unknown_field(known: &[&str]) -> String {
    format!("unknown field; expected {}", alternatives(known))
}

/// `a`, `a or b`, `a, b or c`.
pub(crate) fn alternatives(words: &[&str]) -> String {
    match words.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// What kind of JSON value `value` is, as messages say it.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths() {
        assert_eq!(child("", "namespaces"), "namespaces");
        assert_eq!(
            child("blueprintAccess[2]", "namespaces"),
            "blueprintAccess[2].namespaces"
        );
        assert_eq!(item("a.values", 3), "a.values[3]");
    }

    #[test]
    fn type_messages_name_what_was_found() {
        let cases = [
            (json!(null), "p: expected a string, got null"),
            (json!(true), "p: expected a string, got a boolean"),
            (json!(1), "p: expected a string, got a number"),
            (json!([]), "p: expected a string, got a list"),
            (json!({}), "p: expected a string, got a map"),
        ];
        for (value, expected) in cases {
            assert_eq!(expect_str(&value, "p"), Err(expected.to_string()));
        }
        assert_eq!(expect_str(&json!("x"), "p"), Ok("x"));
    }

    #[test]
    fn null_fields_count_as_absent() {
        let map = json!({"a": null, "b": 1});
        let map = map.as_object().unwrap();
        assert_eq!(field(map, "a"), None);
        assert_eq!(field(map, "b"), Some(&json!(1)));
        assert_eq!(field(map, "c"), None);
    }

    #[test]
    fn unknown_fields_list_the_known_ones() {
        let map = json!({"key": "a", "value": "b"});
        assert_eq!(
            unknown_fields(map.as_object().unwrap(), &["key", "operator", "values"], "e[0]"),
            ["e[0].value: unknown field; expected key, operator or values"]
        );
        assert_eq!(alternatives(&["a"]), "a");
        assert_eq!(alternatives(&["a", "b"]), "a or b");
    }
}
