//! Label and field selectors of the list capabilities, evaluated against the objects of a
//! `--cluster` file the way the API server reads them (`k=v`, `k==v`, `k!=v`, `k`, `!k`,
//! `k in (a,b)`, `k notin (a,b)`; fields `metadata.name` and `metadata.namespace`).

use serde_json::Value;

/// One requirement of a selector.
#[derive(Debug, PartialEq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

impl Requirement {
    fn matches(&self, lookup: &dyn Fn(&str) -> Option<String>) -> bool {
        match self {
            Self::Equals(k, v) => lookup(k).as_deref() == Some(v.as_str()),
            Self::NotEquals(k, v) => lookup(k).as_deref() != Some(v.as_str()),
            Self::In(k, vs) => lookup(k).is_some_and(|x| vs.contains(&x)),
            Self::NotIn(k, vs) => lookup(k).is_none_or(|x| !vs.contains(&x)),
            Self::Exists(k) => lookup(k).is_some(),
            Self::NotExists(k) => lookup(k).is_none(),
        }
    }
}

/// Splits on the commas that are not inside `( … )`.
fn split_top_level(selector: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in selector.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&selector[start..]);
    parts.into_iter().map(str::trim).filter(|p| !p.is_empty()).collect()
}

fn parse_set(key: &str, rest: &str, selector: &str) -> Result<(String, Vec<String>), String> {
    let values = rest
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| format!("invalid selector '{selector}': expected a (value, …) list"))?;
    Ok((
        key.trim().to_string(),
        values.split(',').map(|v| v.trim().to_string()).collect(),
    ))
}

fn parse_requirement(part: &str, selector: &str) -> Result<Requirement, String> {
    if let Some((k, v)) = part.split_once("!=") {
        return Ok(Requirement::NotEquals(k.trim().into(), v.trim().into()));
    }
    if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
        return Ok(Requirement::Equals(k.trim().into(), v.trim().into()));
    }
    if let Some((k, rest)) = part.split_once(" notin ") {
        let (k, vs) = parse_set(k, rest, selector)?;
        return Ok(Requirement::NotIn(k, vs));
    }
    if let Some((k, rest)) = part.split_once(" in ") {
        let (k, vs) = parse_set(k, rest, selector)?;
        return Ok(Requirement::In(k, vs));
    }
    match part.strip_prefix('!') {
        Some(k) => Ok(Requirement::NotExists(k.trim().into())),
        None if !part.contains(char::is_whitespace) => Ok(Requirement::Exists(part.into())),
        None => Err(format!("invalid selector '{selector}'")),
    }
}

fn parse(selector: &str) -> Result<Vec<Requirement>, String> {
    split_top_level(selector)
        .into_iter()
        .map(|part| parse_requirement(part, selector))
        .collect()
}

/// True when the object's labels satisfy the label selector (`None` matches everything).
pub fn labels_match(object: &Value, selector: Option<&str>) -> Result<bool, String> {
    let Some(selector) = selector else { return Ok(true) };
    let labels = &object["metadata"]["labels"];
    let lookup = |key: &str| labels.get(key).and_then(Value::as_str).map(str::to_string);
    Ok(parse(selector)?.iter().all(|r| r.matches(&lookup)))
}

/// True when the object satisfies the field selector (`None` matches everything). Only the
/// fields every resource supports are known: `metadata.name`, `metadata.namespace`.
pub fn fields_match(object: &Value, selector: Option<&str>) -> Result<bool, String> {
    let Some(selector) = selector else { return Ok(true) };
    let requirements = parse(selector)?;
    for requirement in &requirements {
        let (Requirement::Equals(key, _) | Requirement::NotEquals(key, _)) = requirement else {
            return Err(format!(
                "invalid field selector '{selector}': only =, == and != are supported"
            ));
        };
        if key != "metadata.name" && key != "metadata.namespace" {
            return Err(format!("field label not supported: {key}"));
        }
    }
    let lookup = |key: &str| {
        let field = key.trim_start_matches("metadata.");
        Some(object["metadata"][field].as_str().unwrap_or_default().to_string())
    };
    Ok(requirements.iter().all(|r| r.matches(&lookup)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object() -> Value {
        json!({"metadata": {"name": "n1", "namespace": "demo", "labels": {"app": "web", "tier": "front"}}})
    }

    #[test]
    fn label_selector_forms() {
        let o = object();
        for (selector, expected) in [
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app", true),
            ("!app", false),
            ("!missing", true),
            ("app in (api, web)", true),
            ("app notin (api, web)", false),
            ("app=web,tier=back", false),
            ("app=web, tier in (front)", true),
        ] {
            assert_eq!(labels_match(&o, Some(selector)).unwrap(), expected, "{selector}");
        }
        assert!(labels_match(&o, None).unwrap());
    }

    #[test]
    fn field_selectors() {
        let o = object();
        assert!(fields_match(&o, Some("metadata.name=n1")).unwrap());
        assert!(!fields_match(&o, Some("metadata.namespace!=demo")).unwrap());
        assert_eq!(
            fields_match(&o, Some("spec.x=1")).unwrap_err(),
            "field label not supported: spec.x"
        );
    }

    #[test]
    fn malformed_selectors_are_errors() {
        assert!(labels_match(&object(), Some("app in web")).is_err());
        assert!(labels_match(&object(), Some("a b")).is_err());
    }
}
