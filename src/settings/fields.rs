//! Reading rule settings from JSON with the field path in every problem: the shapes the
//! `blueprintAccess`, `requireBackup`, `defaultBlueprints` and `guardrails` rules share.

use serde_json::{Map, Value};

use crate::report::{Problem, shorten};
use crate::settings::selection::{Glob, NamespaceMatch};
use crate::support::json_fields::{self, expected, unknown_fields};
use crate::target;

/// An optional list of rules (`null` or absent: none), each parsed by `parse` with its path
/// (`blueprintAccess[2]`).
pub fn rules<T>(
    value: Option<&Value>,
    path: &str,
    parse: impl Fn(&Value, &str, &mut Vec<Problem>) -> Option<T>,
) -> Result<Vec<T>, Vec<Problem>> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let Some(items) = value.as_array() else {
        return Err(vec![Problem::setting(path, expected("a list of rules", value))]);
    };
    let mut problems = Vec::new();
    let mut rules = Vec::new();
    for (index, item) in items.iter().enumerate() {
        if let Some(rule) = parse(item, &json_fields::item(path, index), &mut problems) {
            rules.push(rule);
        }
    }
    match problems.is_empty() {
        true => Ok(rules),
        false => Err(problems),
    }
}

/// `value` as an object whose keys are all in `fields`; each unknown key is a problem.
pub fn object<'a>(
    value: &'a Value,
    path: &str,
    fields: &[&str],
    what: &str,
    problems: &mut Vec<Problem>,
) -> Option<&'a Map<String, Value>> {
    let Some(map) = value.as_object() else {
        problems.push(Problem::setting(path, expected(what, value)));
        return None;
    };
    problems.extend(unknown_fields(map, fields, path).into_iter().map(Problem::object));
    Some(map)
}

/// A required, non-empty list of strings, each parsed by `parse`.
pub fn list<T>(
    value: Option<&Value>,
    path: &str,
    what: &str,
    problems: &mut Vec<Problem>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Vec<T> {
    let items = match value {
        Some(Value::Array(items)) if !items.is_empty() => items,
        None | Some(Value::Array(_)) => {
            problems.push(Problem::setting(
                path,
                format!("is required: a non-empty list of {what}"),
            ));
            return Vec::new();
        }
        Some(other) => {
            problems.push(Problem::setting(path, expected(&format!("a list of {what}"), other)));
            return Vec::new();
        }
    };
    let mut parsed = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let item_path = json_fields::item(path, index);
        match item.as_str().map(&parse) {
            Some(Ok(one)) => parsed.push(one),
            Some(Err(why)) => problems.push(Problem::setting(item_path, why)),
            None => problems.push(Problem::setting(item_path, expected("a string", item))),
        }
    }
    parsed
}

/// `blueprints`: names or globs.
pub fn blueprint_globs(value: Option<&Value>, path: &str, problems: &mut Vec<Problem>) -> Vec<Glob> {
    list(value, path, "blueprint names or globs", problems, Glob::parse_blueprint)
}

/// `kinds`: kinds of objects the policy handles, as Kubernetes spells them.
pub fn kinds(value: Option<&Value>, path: &str, problems: &mut Vec<Problem>) -> Vec<String> {
    list(value, path, "kinds (e.g. StatefulSet)", problems, |kind| {
        let known = target::known_kinds();
        match known.contains(&kind) {
            true => Ok(kind.to_string()),
            false => Err(format!(
                "'{}' is not a kind this policy handles; use one of {} (kinds are case-sensitive)",
                shorten(kind),
                known.join(", ")
            )),
        }
    })
}

/// `namespaces` and `namespaceSelector` of a rule.
pub fn namespaces(rule: &Map<String, Value>, path: &str, problems: &mut Vec<Problem>) -> Option<NamespaceMatch> {
    NamespaceMatch::parse(rule.get("namespaces"), rule.get("namespaceSelector"), path)
        .map_err(|found| problems.extend(found.into_iter().map(Problem::object)))
        .ok()
}

/// An optional boolean.
pub fn boolean(value: Option<&Value>, path: &str, problems: &mut Vec<Problem>) -> bool {
    let value = value.filter(|value| !value.is_null());
    match value.map(json_fields::boolean) {
        None => false,
        Some(Ok(flag)) => flag,
        Some(Err(why)) => {
            problems.push(Problem::setting(path, why));
            false
        }
    }
}
