//! Text keys to text values, in key order: annotations, labels, variables, allowed names.
//!
//! A JSON map of strings underneath: policy.wasm then carries one copy of the B-tree code, the
//! one every JSON object needs, instead of a second one for `BTreeMap<String, String>` (6 KB).
//! Every value is a JSON string, so the maps an object's metadata holds are taken as they are.

use serde_json::{Map, Value};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StringMap(Map<String, Value>);

/// The entries of a [`StringMap`], in key order.
pub type Iter<'a> = std::iter::Map<serde_json::map::Iter<'a>, fn((&'a String, &'a Value)) -> (&'a str, &'a str)>;

fn entry<'a>((key, value): (&'a String, &'a Value)) -> (&'a str, &'a str) {
    (key, value.as_str().unwrap_or_default())
}

/// The key of the first value of a JSON map that is no string, with that value.
pub type NotAString = (String, Value);

impl StringMap {
    pub fn new() -> StringMap {
        StringMap(Map::new())
    }

    /// `map` as it is when all its values are strings.
    pub fn from_json(map: Map<String, Value>) -> Result<StringMap, NotAString> {
        match map.iter().find(|(_, value)| !value.is_string()) {
            Some((key, value)) => Err((key.clone(), value.clone())),
            None => Ok(StringMap(map)),
        }
    }

    /// The string values of `map`; the others are left out.
    pub fn strings_of(map: &Map<String, Value>) -> StringMap {
        let mut strings = StringMap::new();
        for (key, value) in map {
            if let Value::String(text) = value {
                strings.insert(key.clone(), text.clone());
            }
        }
        strings
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// Sets `key` to `value`, replacing the value it had; whether `key` is new.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) -> bool {
        self.0.insert(key.into(), Value::String(value.into())).is_none()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entries in key order.
    pub fn iter(&self) -> Iter<'_> {
        self.0.iter().map(entry)
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &str> + Clone {
        self.0.keys().map(String::as_str)
    }
}

impl<K: Into<String>, V: Into<String>> Extend<(K, V)> for StringMap {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, entries: I) {
        for (key, value) in entries {
            self.insert(key, value);
        }
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for StringMap {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(entries: I) -> StringMap {
        let mut map = StringMap::new();
        map.extend(entries);
        map
    }
}

impl<'a> IntoIterator for &'a StringMap {
    type Item = (&'a str, &'a str);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl IntoIterator for StringMap {
    type Item = (String, String);
    type IntoIter = std::iter::Map<serde_json::map::IntoIter, fn((String, Value)) -> (String, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter().map(|(key, value)| match value {
            Value::String(text) => (key, text),
            _ => (key, String::new()),
        })
    }
}

impl<K: Into<String>, V: Into<String>, const N: usize> From<[(K, V); N]> for StringMap {
    fn from(entries: [(K, V); N]) -> StringMap {
        entries.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_are_in_key_order_and_the_last_value_of_a_key_wins() {
        let map = StringMap::from([("b", "2"), ("a", "1"), ("b", "3")]);
        assert_eq!(map.iter().collect::<Vec<_>>(), [("a", "1"), ("b", "3")]);
        assert_eq!((map.get("b"), map.get("c"), map.len()), (Some("3"), None, 2));
        assert!(map.contains_key("a") && !map.contains_key("c"));
    }

    #[test]
    fn json_maps_are_taken_when_all_values_are_strings() {
        let Value::Object(strings) = json!({"a": "1", "b": ""}) else {
            unreachable!()
        };
        assert_eq!(
            StringMap::from_json(strings),
            Ok(StringMap::from([("a", "1"), ("b", "")]))
        );
        let Value::Object(mixed) = json!({"a": "1", "b": 2, "c": null}) else {
            unreachable!()
        };
        assert_eq!(StringMap::from_json(mixed.clone()), Err(("b".to_string(), json!(2))));
        assert_eq!(StringMap::strings_of(&mixed), StringMap::from([("a", "1")]));
    }
}
