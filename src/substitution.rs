// TEMPORARY: replaced by the full engine (helper in progress). Minimal ${NAME} only.
use serde_json::{Map, Value};
use std::collections::BTreeMap;
pub type Variables = BTreeMap<String, String>;
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubstitutionError {
    Undefined {
        name: String,
        path: String,
    },
    Malformed {
        expression: String,
        reason: String,
        path: String,
    },
    TooDeep {
        path: String,
    },
    TooLarge {
        path: String,
    },
}
impl SubstitutionError {
    pub fn path(&self) -> &str {
        match self {
            Self::Undefined { path, .. }
            | Self::Malformed { path, .. }
            | Self::TooDeep { path }
            | Self::TooLarge { path } => path,
        }
    }
}
impl std::fmt::Display for SubstitutionError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Self::Undefined { name, .. } => write!(f, "variable ${{{name}}} is not defined"),
            Self::Malformed { expression, reason, .. } => write!(f, "malformed expression '{expression}': {reason}"),
            Self::TooDeep { .. } => write!(f, "too deep"),
            Self::TooLarge { .. } => write!(f, "too large"),
        }
    }
}
pub fn substitute_str(input: &str, vars: &Variables, path: &str) -> Result<String, Vec<SubstitutionError>> {
    let mut out = String::new();
    let mut rest = input;
    let mut errors = Vec::new();
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find('}') else { break };
        let name = &after[..j];
        match vars.get(name) {
            Some(v) => out.push_str(v),
            None => errors.push(SubstitutionError::Undefined {
                name: name.into(),
                path: path.into(),
            }),
        }
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}
pub fn substitute_tree(value: &Value, vars: &Variables, path: &str) -> Result<Value, Vec<SubstitutionError>> {
    let mut errors = Vec::new();
    let v = walk(value, vars, path, &mut errors);
    if errors.is_empty() { Ok(v) } else { Err(errors) }
}
fn walk(value: &Value, vars: &Variables, path: &str, errors: &mut Vec<SubstitutionError>) -> Value {
    match value {
        Value::String(s) => match substitute_str(s, vars, path) {
            Ok(s) => Value::String(s),
            Err(e) => {
                errors.extend(e);
                Value::Null
            }
        },
        Value::Array(a) => Value::Array(
            a.iter()
                .enumerate()
                .map(|(i, v)| walk(v, vars, &format!("{path}[{i}]"), errors))
                .collect(),
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), walk(v, vars, &format!("{path}.{k}"), errors)))
                .collect::<Map<_, _>>(),
        ),
        other => other.clone(),
    }
}
