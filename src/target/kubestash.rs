//! KubeStash's annotations on a target: the blueprint (`blueprint.kubestash.com/{name,namespace}`),
//! the sessions to use, and the variables (`variables.kubestash.com/<var>`).

use crate::report::{AnnotationProblems, Problem, shorten};
use crate::support::string_map::StringMap;
use crate::target::annotations::{
    KUBESTASH_BLUEPRINT_NAME as NAME, KUBESTASH_BLUEPRINT_NAMESPACE as NAMESPACE,
    KUBESTASH_OLD_SESSIONS as OLD_SESSIONS, KUBESTASH_SESSION_NAMES as SESSION_NAMES,
    KUBESTASH_VARIABLES_PREFIX as VARIABLES_PREFIX,
};
use crate::target::naming::{is_dns1123_label, is_dns1123_subdomain};

/// More variables than this on one target is an error: it bounds the checks and the substitution.
pub const MAX_VARIABLES: usize = 100;
/// A longer variable value is an error.
pub const MAX_VALUE_CHARS: usize = 1024;
/// More session names than this is an error (a blueprint with more is unusual; it bounds the checks).
pub const MAX_SESSION_NAMES: usize = 32;

/// A KubeStash BackupBlueprint: namespaced, named by two annotations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlueprintRef {
    pub namespace: String,
    pub name: String,
}

impl BlueprintRef {
    /// `<namespace>/<name>`, as messages and `blueprintAccess` name it.
    pub fn reference(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// What the KubeStash annotations of a target ask for; what failed to parse is left empty and
/// reported separately.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubeStashAnnotations {
    /// `None` when the name or the namespace is missing or invalid.
    pub blueprint: Option<BlueprintRef>,
    /// `blueprint.kubestash.com/session-names`: `None` means every session.
    pub session_names: Option<Vec<String>>,
    /// `variables.kubestash.com/<var>`, by variable name.
    pub variables: StringMap,
    /// Variables with a problem (reported): never reported again as undefined.
    pub rejected_variables: Vec<String>,
}

/// The problem line for a name without a namespace or the reverse.
pub fn incomplete_trigger_problem(missing: &str) -> String {
    let present = if missing == NAME { NAMESPACE } else { NAME };
    format!(
        "{present} is set but {missing} is missing; KubeStash needs both: the BackupBlueprint's name and the namespace it is in"
    )
}

/// Parses the KubeStash annotations; returns what parsed and the problems of what did not.
pub fn parse(annotations: &StringMap) -> (KubeStashAnnotations, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut parsed = KubeStashAnnotations::default();
    let name = annotations
        .get(NAME)
        .and_then(|v| checked_name(NAME, v, is_dns1123_subdomain, &mut problems));
    let namespace = annotations
        .get(NAMESPACE)
        .and_then(|v| checked_name(NAMESPACE, v, is_dns1123_label, &mut problems));
    if let (Some(name), Some(namespace)) = (name, namespace) {
        parsed.blueprint = Some(BlueprintRef { namespace, name });
    }
    if annotations.contains_key(OLD_SESSIONS) {
        problems.push(Problem::annotation(
            OLD_SESSIONS,
            format!("KubeStash no longer reads this key (renamed in v2024.4.27); use {SESSION_NAMES}"),
        ));
    }
    if let Some(value) = annotations.get(SESSION_NAMES) {
        parsed.session_names = session_names(value, &mut problems);
    }
    variables(annotations, &mut parsed, &mut problems);
    (parsed, problems)
}

fn checked_name(key: &str, value: &str, valid: fn(&str) -> bool, problems: &mut Vec<Problem>) -> Option<String> {
    if valid(value) {
        return Some(value.to_string());
    }
    let what = match key == NAMESPACE {
        true => {
            "a namespace name (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63)"
        }
        false => {
            "a BackupBlueprint name (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit)"
        }
    };
    problems.push(Problem::annotation(key, format!("'{}' is not {what}", shorten(value))));
    None
}

/// The session names, or `None` (every session) when the list has a problem: the problem is
/// reported, and nothing is resolved.
fn session_names(value: &str, problems: &mut Vec<Problem>) -> Option<Vec<String>> {
    let mut found = AnnotationProblems::new(SESSION_NAMES);
    let count = value.split(',').count();
    let mut names: Vec<String> = Vec::new();
    if count > MAX_SESSION_NAMES {
        found.push(|| format!("{count} sessions listed; at most {MAX_SESSION_NAMES} are allowed"));
    } else {
        for element in value.split(',') {
            if element.is_empty() {
                found.push(|| {
                    format!(
                        "empty session name in '{}'; separate session names with a single ','",
                        shorten(value)
                    )
                });
            } else if element.trim() != element {
                found.push(|| format!("'{}' has surrounding white space; remove it", shorten(element)));
            } else if names.iter().any(|n| n == element) {
                found.push(|| format!("'{}' is listed twice; list each session once", shorten(element)));
            } else {
                names.push(element.to_string());
            }
        }
    }
    let usable = found.is_empty();
    problems.extend(found.into_problems());
    usable.then_some(names)
}

fn variables(annotations: &StringMap, parsed: &mut KubeStashAnnotations, problems: &mut Vec<Problem>) {
    let entries = annotations
        .iter()
        .filter_map(|(key, value)| Some((key, key.strip_prefix(VARIABLES_PREFIX)?, value)));
    // Counted before any per-entry work.
    let count = entries.clone().count();
    if count > MAX_VARIABLES {
        problems.push(Problem::annotation(
            format!("{VARIABLES_PREFIX}*"),
            format!("{count} variables; at most {MAX_VARIABLES} are allowed on one object"),
        ));
        for (_, name, _) in entries {
            parsed.rejected_variables.push(name.to_string());
        }
        return;
    }
    for (key, name, value) in entries {
        match variable_problem(name, value) {
            Some(why) => {
                problems.push(Problem::annotation(key, why));
                parsed.rejected_variables.push(name.to_string());
            }
            None => {
                parsed.variables.insert(name, value);
            }
        }
    }
}

/// Why a `variables.kubestash.com/<name>` annotation cannot be used, if it cannot.
fn variable_problem(name: &str, value: &str) -> Option<String> {
    if !is_identifier(name) {
        return Some(format!(
            "'{}' is not a variable name envsubst can reference (letters, digits and '_', not starting with a digit): \
             ${{{}}} is a blueprint error, so this value can never be used; rename the variable",
            shorten(name),
            shorten(name)
        ));
    }
    let chars = value.chars().count();
    if chars > MAX_VALUE_CHARS {
        return Some(format!(
            "the value has {chars} characters; at most {MAX_VALUE_CHARS} are allowed"
        ));
    }
    let unsafe_char = value.chars().find(|c| *c == '"' || *c == '\\' || c.is_control());
    unsafe_char.map(|c| {
        let what = match c {
            '"' => "a double quote".to_string(),
            '\\' => "a backslash".to_string(),
            other => format!("the control character '{}'", crate::report::escaped(other)),
        };
        format!(
            "the value '{}' has {what}: KubeStash pastes values into the blueprint's JSON text unescaped, where it \
             breaks the BackupConfiguration or adds fields to it; remove it",
            shorten(value),
        )
    })
}

/// `[A-Za-z_][A-Za-z0-9_]*`: a name envsubst can reference.
pub fn is_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::render;

    fn map(pairs: &[(&str, &str)]) -> StringMap {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn problems_of(pairs: &[(&str, &str)]) -> Vec<String> {
        render(&parse(&map(pairs)).1)
    }

    #[test]
    fn a_valid_target_parses() {
        let (parsed, problems) = parse(&map(&[
            (NAME, "gcs"),
            (NAMESPACE, "backup"),
            (SESSION_NAMES, "daily,weekly"),
            ("variables.kubestash.com/repoName", "web"),
            ("variables.kubestash.com/empty", ""),
        ]));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(parsed.blueprint.as_ref().unwrap().reference(), "backup/gcs");
        assert_eq!(
            parsed.session_names,
            Some(vec!["daily".to_string(), "weekly".to_string()])
        );
        assert_eq!(parsed.variables, map(&[("empty", ""), ("repoName", "web")]));
    }

    #[test]
    fn annotation_mistakes_are_named() {
        assert_eq!(
            problems_of(&[
                (NAME, "GCS"),
                (NAMESPACE, "back.up"),
                (OLD_SESSIONS, "daily"),
                (SESSION_NAMES, "a,, b,a"),
            ]),
            [
                "blueprint.kubestash.com/name: 'GCS' is not a BackupBlueprint name (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit)",
                "blueprint.kubestash.com/namespace: 'back.up' is not a namespace name (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63)",
                "blueprint.kubestash.com/sessions: KubeStash no longer reads this key (renamed in v2024.4.27); use blueprint.kubestash.com/session-names",
                "blueprint.kubestash.com/session-names: empty session name in 'a,, b,a'; separate session names with a single ','",
                "blueprint.kubestash.com/session-names: ' b' has surrounding white space; remove it",
                "blueprint.kubestash.com/session-names: 'a' is listed twice; list each session once",
            ]
        );
        assert_eq!(
            incomplete_trigger_problem(NAMESPACE),
            "blueprint.kubestash.com/name is set but blueprint.kubestash.com/namespace is missing; KubeStash needs both: \
             the BackupBlueprint's name and the namespace it is in"
        );
    }

    #[test]
    fn variables_that_would_break_or_inject_json_are_refused() {
        let (parsed, problems) = parse(&map(&[
            ("variables.kubestash.com/repoName", r#"r","deletionPolicy":"WipeOut"#),
            ("variables.kubestash.com/dir", "a\\b"),
            ("variables.kubestash.com/line", "a\nb"),
            ("variables.kubestash.com/repo-name", "x"),
        ]));
        assert_eq!(
            render(&problems),
            [
                "variables.kubestash.com/dir: the value 'a\\b' has a backslash: KubeStash pastes values into the blueprint's JSON text \
                 unescaped, where it breaks the BackupConfiguration or adds fields to it; remove it",
                "variables.kubestash.com/line: the value 'a\\nb' has the control character '\\n': KubeStash pastes values into the blueprint's JSON text \
                 unescaped, where it breaks the BackupConfiguration or adds fields to it; remove it",
                "variables.kubestash.com/repo-name: 'repo-name' is not a variable name envsubst can reference (letters, digits \
                 and '_', not starting with a digit): ${repo-name} is a blueprint error, so this value can never be used; rename the variable",
                "variables.kubestash.com/repoName: the value 'r\",\"deletionPolicy\":\"WipeOut' has a double quote: KubeStash pastes values \
                 into the blueprint's JSON text unescaped, where it breaks the BackupConfiguration or adds fields to it; remove it",
            ]
        );
        assert!(parsed.variables.is_empty());
        assert_eq!(parsed.rejected_variables.len(), 4);
    }

    #[test]
    fn too_many_or_too_long_variables() {
        let many: Vec<(String, String)> = (0..=MAX_VARIABLES)
            .map(|i| (format!("variables.kubestash.com/v{i}"), "x".to_string()))
            .collect();
        let many: StringMap = many.into_iter().collect();
        assert_eq!(
            render(&parse(&many).1),
            ["variables.kubestash.com/*: 101 variables; at most 100 are allowed on one object"]
        );
        let long = "é".repeat(MAX_VALUE_CHARS + 1);
        assert_eq!(
            problems_of(&[("variables.kubestash.com/v", &long)]),
            ["variables.kubestash.com/v: the value has 1025 characters; at most 1024 are allowed"]
        );
        assert!(problems_of(&[("variables.kubestash.com/v", &"é".repeat(MAX_VALUE_CHARS))]).is_empty());
    }

    #[test]
    fn identifiers_are_envsubst_names() {
        for name in ["a", "_", "A_1", "targetName"] {
            assert!(is_identifier(name), "{name}");
        }
        for name in ["", "1a", "repo-name", "é", "a.b"] {
            assert!(!is_identifier(name), "{name}");
        }
    }
}
