//! Policy settings (SPEC §8), validated by `validate_settings` with precise messages.

pub mod fields;

use serde::{Deserialize, de};
use serde_json::{Map, Value};

use crate::access::AccessRules;
use crate::defaults::DefaultBlueprints;
use crate::guardrails::Guardrails;
use crate::report::{Problem, bounded, settings_problems};
use crate::requirement::RequireBackup;

pub const DEFAULT_VALUE_PATTERN: &str = "^[A-Za-z0-9._-]{1,63}$";
const BUILTIN_PREFIX: &str = "TARGET_";
const INVALID: &str = "invalid settings";

/// The settings as an evaluation uses them: parsed, validated and compiled once.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Write `autobackup.kubewarden.io/resolved` on accepted targets.
    pub emit_resolved_objects: bool,
    pub storage_secret_check: Check,
    pub collision_check: Check,
    pub on_lookup_error: OnLookupError,
    pub custom_variables: CustomVariables,
    pub blueprint_access: AccessRules,
    pub require_backup: Option<RequireBackup>,
    pub default_blueprints: DefaultBlueprints,
    pub guardrails: Guardrails,
}

impl Default for Settings {
    fn default() -> Self {
        Settings::compile(RawSettings::default()).unwrap_or_else(|_| unreachable!("the defaults are valid"))
    }
}

/// What to do when a check finds a problem that the administrator may downgrade.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub enum Check {
    #[default]
    Reject,
    /// Accept with a warning.
    Warn,
    /// Do not check at all (no lookup).
    Skip,
}

/// What to do when a cluster lookup fails for another reason than "not found".
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub enum OnLookupError {
    #[default]
    Reject,
    /// Accept the object unchanged, with a warning.
    Accept,
}

/// Custom variables (SPEC §5.2): which names a target may define and what their values may be.
#[derive(Debug, Clone)]
pub struct CustomVariables {
    /// Names a target may define with `vars.autobackup.kubewarden.io/<NAME>`.
    pub allowed: Vec<String>,
    /// The text of `value_regex`, for messages.
    pub value_pattern: String,
    /// Every value must match it.
    pub value_regex: regex_lite::Regex,
}

impl Default for CustomVariables {
    fn default() -> Self {
        Settings::default().custom_variables
    }
}

/// The settings JSON as written; rules are kept as JSON and parsed with their field paths.
struct RawSettings {
    emit_resolved_objects: bool,
    storage_secret_check: Check,
    collision_check: Check,
    on_lookup_error: OnLookupError,
    custom_variables: RawCustomVariables,
    blueprint_access: Option<Value>,
    require_backup: Option<Value>,
    default_blueprints: Option<Value>,
    guardrails: Option<Value>,
}

impl Default for RawSettings {
    fn default() -> Self {
        RawSettings {
            emit_resolved_objects: true,
            storage_secret_check: Check::Reject,
            collision_check: Check::Reject,
            on_lookup_error: OnLookupError::Reject,
            custom_variables: RawCustomVariables::default(),
            blueprint_access: None,
            require_backup: None,
            default_blueprints: None,
            guardrails: None,
        }
    }
}

impl RawSettings {
    const FIELDS: &[&str] = &[
        "emitResolvedObjects",
        "storageSecretCheck",
        "collisionCheck",
        "onLookupError",
        "customVariables",
        "blueprintAccess",
        "requireBackup",
        "defaultBlueprints",
        "guardrails",
    ];

    /// What `#[derive(Deserialize)]` with `deny_unknown_fields` and `default` reads, with its
    /// messages, without a second copy of serde's struct machinery for JSON values.
    fn read(fields: Map<String, Value>) -> Result<RawSettings, serde_json::Error> {
        let mut raw = RawSettings::default();
        for (name, value) in fields {
            match name.as_str() {
                "emitResolvedObjects" => raw.emit_resolved_objects = bool::deserialize(&value)?,
                "storageSecretCheck" => raw.storage_secret_check = Check::deserialize(&value)?,
                "collisionCheck" => raw.collision_check = Check::deserialize(&value)?,
                "onLookupError" => raw.on_lookup_error = OnLookupError::deserialize(&value)?,
                "customVariables" => raw.custom_variables = RawCustomVariables::deserialize(&value)?,
                "blueprintAccess" => raw.blueprint_access = rules(value),
                "requireBackup" => raw.require_backup = rules(value),
                "defaultBlueprints" => raw.default_blueprints = rules(value),
                "guardrails" => raw.guardrails = rules(value),
                unknown => return Err(de::Error::unknown_field(unknown, Self::FIELDS)),
            }
        }
        Ok(raw)
    }
}

/// A rule list as written, `null` being none (what serde reads into an `Option<Value>`).
fn rules(value: Value) -> Option<Value> {
    (!value.is_null()).then_some(value)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
struct RawCustomVariables {
    allowed: Vec<String>,
    value_pattern: String,
}

impl Default for RawCustomVariables {
    fn default() -> Self {
        RawCustomVariables {
            allowed: Vec::new(),
            value_pattern: DEFAULT_VALUE_PATTERN.to_string(),
        }
    }
}

/// Parses, validates and compiles the settings JSON. An empty payload or `null` means the
/// defaults.
pub fn parse(payload: &[u8]) -> Result<Settings, String> {
    let value: Value = match payload.iter().all(u8::is_ascii_whitespace) {
        true => Value::Null,
        false => serde_json::from_slice(payload).map_err(|e| bounded(format!("{INVALID}: {e}")))?,
    };
    let raw = match value {
        Value::Null => RawSettings::default(),
        Value::Object(fields) => RawSettings::read(fields).map_err(|e| bounded(format!("{INVALID}: {e}")))?,
        other => {
            return Err(format!(
                "{INVALID}: expected a map of setting names to values, got {}",
                crate::report::shorten(&crate::emission::json_text(&other))
            ));
        }
    };
    Settings::compile(raw).map_err(|problems| settings_problems(&problems))
}

impl Settings {
    fn compile(raw: RawSettings) -> Result<Settings, Vec<Problem>> {
        let mut problems = Vec::new();
        let custom_variables = compile_custom_variables(raw.custom_variables, &mut problems);
        let p = &mut problems;
        let blueprint_access = keep(AccessRules::parse(raw.blueprint_access.as_ref(), "blueprintAccess"), p);
        let require_backup = keep(RequireBackup::parse(raw.require_backup.as_ref(), "requireBackup"), p);
        let default_blueprints = keep(
            DefaultBlueprints::parse(raw.default_blueprints.as_ref(), "defaultBlueprints"),
            p,
        );
        let guardrails = keep(Guardrails::parse(raw.guardrails.as_ref(), "guardrails"), p);
        match (
            custom_variables,
            blueprint_access,
            require_backup,
            default_blueprints,
            guardrails,
        ) {
            (
                Some(custom_variables),
                Some(blueprint_access),
                Some(require_backup),
                Some(default_blueprints),
                Some(guardrails),
            ) if problems.is_empty() => Ok(Settings {
                emit_resolved_objects: raw.emit_resolved_objects,
                storage_secret_check: raw.storage_secret_check,
                collision_check: raw.collision_check,
                on_lookup_error: raw.on_lookup_error,
                custom_variables,
                blueprint_access,
                require_backup,
                default_blueprints,
                guardrails,
            }),
            _ => Err(problems),
        }
    }
}

/// The parsed value, or `None` with its problems added to `problems`.
fn keep<T>(parsed: Result<T, Vec<Problem>>, problems: &mut Vec<Problem>) -> Option<T> {
    parsed.map_err(|found| problems.extend(found)).ok()
}

fn compile_custom_variables(raw: RawCustomVariables, problems: &mut Vec<Problem>) -> Option<CustomVariables> {
    let mut seen = std::collections::BTreeSet::new();
    for (index, name) in raw.allowed.iter().enumerate() {
        let path = format!("customVariables.allowed[{index}]");
        if let Some(why) = variable_name_problem(name) {
            problems.push(Problem::setting(
                path,
                format!("'{}' {why}", crate::report::shorten(name)),
            ));
        } else if !seen.insert(name.as_str()) {
            let name = crate::report::shorten(name);
            problems.push(Problem::setting(path, format!("'{name}' is listed twice")));
        }
    }
    match regex_lite::Regex::new(&raw.value_pattern) {
        Ok(value_regex) => Some(CustomVariables {
            allowed: raw.allowed,
            value_pattern: raw.value_pattern,
            value_regex,
        }),
        Err(e) => {
            let why = format!(
                "'{}' is not a valid regular expression: {e}",
                crate::report::shorten(&raw.value_pattern)
            );
            problems.insert(0, Problem::setting("customVariables.valuePattern", why));
            None
        }
    }
}

/// Why `name` cannot be a custom variable name, if it cannot.
pub fn variable_name_problem(name: &str) -> Option<&'static str> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        Some("is not a variable name (letters, digits and '_', not starting with a digit)")
    } else if name.starts_with(BUILTIN_PREFIX) {
        Some("is reserved: TARGET_* variables are built in and cannot be overridden")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        for payload in ["", "{}", "null", " "] {
            let s = parse(payload.as_bytes()).unwrap();
            assert!(s.emit_resolved_objects, "{payload:?}");
            assert_eq!(s.storage_secret_check, Check::Reject);
            assert_eq!(s.collision_check, Check::Reject);
            assert_eq!(s.on_lookup_error, OnLookupError::Reject);
            assert!(s.custom_variables.allowed.is_empty());
            assert_eq!(s.custom_variables.value_pattern, DEFAULT_VALUE_PATTERN);
            assert!(s.blueprint_access.is_empty());
        }
    }

    #[test]
    fn full_settings() {
        let s = parse(
            br#"{"emitResolvedObjects":false,"storageSecretCheck":"warn","collisionCheck":"skip","onLookupError":"accept",
                 "customVariables":{"allowed":["TEAM","TIER"],"valuePattern":"^[a-z]+$"},
                 "blueprintAccess":[{"blueprints":["team-a-*"],"namespaces":["team-a"]}]}"#,
        )
        .unwrap();
        assert!(!s.emit_resolved_objects);
        assert_eq!(s.storage_secret_check, Check::Warn);
        assert_eq!(s.collision_check, Check::Skip);
        assert_eq!(s.on_lookup_error, OnLookupError::Accept);
        assert_eq!(s.custom_variables.allowed, ["TEAM", "TIER"]);
        assert!(s.custom_variables.value_regex.is_match("abc"));
        assert!(!s.blueprint_access.is_empty());
    }

    /// The manual reader of the top-level settings says what serde's derive said.
    #[test]
    fn read_matches_the_derive() {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields, default)]
        #[allow(dead_code)]
        struct Derived {
            emit_resolved_objects: bool,
            storage_secret_check: Check,
            collision_check: Check,
            on_lookup_error: OnLookupError,
            custom_variables: RawCustomVariables,
            blueprint_access: Option<Value>,
            require_backup: Option<Value>,
            default_blueprints: Option<Value>,
            guardrails: Option<Value>,
        }
        impl Default for Derived {
            fn default() -> Self {
                let raw = RawSettings::default();
                Derived {
                    emit_resolved_objects: raw.emit_resolved_objects,
                    storage_secret_check: raw.storage_secret_check,
                    collision_check: raw.collision_check,
                    on_lookup_error: raw.on_lookup_error,
                    custom_variables: raw.custom_variables,
                    blueprint_access: None,
                    require_backup: None,
                    default_blueprints: None,
                    guardrails: None,
                }
            }
        }
        let payloads = [
            r#"{}"#,
            r#"{"emitResolvedObjects":false,"storageSecretCheck":"warn","collisionCheck":"skip","onLookupError":"accept"}"#,
            r#"{"emitResolvedObjects":null}"#,
            r#"{"emitResolvedObjects":1.5}"#,
            r#"{"emitResolvedObjects":-3}"#,
            r#"{"emitResolvedObjects":[true]}"#,
            r#"{"emitResolvedObjects":{"a":1}}"#,
            r#"{"storageSecretCheck":null}"#,
            r#"{"storageSecretCheck":7}"#,
            r#"{"storageSecretCheck":{"warn":null}}"#,
            r#"{"storageSecretCheck":{"warn":1}}"#,
            r#"{"storageSecretCheck":{"maybe":null}}"#,
            r#"{"storageSecretCheck":["warn"]}"#,
            r#"{"onLookupError":"Accept"}"#,
            r#"{"customVariables":null}"#,
            r#"{"customVariables":"x"}"#,
            r#"{"customVariables":[]}"#,
            r#"{"customVariables":[["A"]]}"#,
            r#"{"customVariables":[["A"],"^a$"]}"#,
            r#"{"customVariables":[["A"],"^a$",1]}"#,
            r#"{"customVariables":{"allowed":"A"}}"#,
            r#"{"customVariables":{"allowed":[1]}}"#,
            r#"{"customVariables":{"valuePattern":null}}"#,
            r#"{"customVariables":{"other":1}}"#,
            r#"{"blueprintAccess":null,"requireBackup":null,"defaultBlueprints":null,"guardrails":null}"#,
            r#"{"blueprintAccess":1,"requireBackup":"x","defaultBlueprints":{},"guardrails":[]}"#,
            r#"{"zzz":1,"blueprintAccess":2}"#,
            r#"{"aaa":1,"emitResolvedObjects":"yes"}"#,
            r#"{"collisionCheck":"no","emitResolvedObjects":"yes"}"#,
        ];
        for payload in payloads {
            let Value::Object(fields) = serde_json::from_str(payload).unwrap() else {
                unreachable!()
            };
            let derived = serde_json::from_value::<Derived>(Value::Object(fields.clone()));
            let read = RawSettings::read(fields);
            match (derived, read) {
                (Ok(derived), Ok(read)) => {
                    assert_eq!(derived.emit_resolved_objects, read.emit_resolved_objects, "{payload}");
                    assert_eq!(derived.storage_secret_check, read.storage_secret_check, "{payload}");
                    assert_eq!(derived.collision_check, read.collision_check, "{payload}");
                    assert_eq!(derived.on_lookup_error, read.on_lookup_error, "{payload}");
                    assert_eq!(
                        derived.custom_variables.allowed, read.custom_variables.allowed,
                        "{payload}"
                    );
                    assert_eq!(
                        derived.custom_variables.value_pattern, read.custom_variables.value_pattern,
                        "{payload}"
                    );
                    assert_eq!(derived.blueprint_access, read.blueprint_access, "{payload}");
                    assert_eq!(derived.require_backup, read.require_backup, "{payload}");
                    assert_eq!(derived.default_blueprints, read.default_blueprints, "{payload}");
                    assert_eq!(derived.guardrails, read.guardrails, "{payload}");
                }
                (Err(derived), Err(read)) => assert_eq!(derived.to_string(), read.to_string(), "{payload}"),
                (derived, read) => panic!("{payload}: {:?} / {:?}", derived.err(), read.err()),
            }
        }
    }

    #[test]
    fn invalid_settings_have_precise_messages() {
        let cases = [
            (
                r#"{"storageSecretCheck":"maybe"}"#,
                "invalid settings: unknown variant `maybe`, expected one of `reject`, `warn`, `skip`",
            ),
            (
                r#"{"collisionCheck":"ignore"}"#,
                "invalid settings: unknown variant `ignore`, expected one of `reject`, `warn`, `skip`",
            ),
            (
                r#"{"onLookupError":"ignore"}"#,
                "invalid settings: unknown variant `ignore`, expected `reject` or `accept`",
            ),
            (
                r#"{"emitResolvedObjects":"yes"}"#,
                "invalid settings: invalid type: string \"yes\", expected a boolean",
            ),
            (
                r#"{"emitResolvedObject":true}"#,
                "invalid settings: unknown field `emitResolvedObject`, expected one of `emitResolvedObjects`, `storageSecretCheck`, `collisionCheck`, `onLookupError`, `customVariables`, `blueprintAccess`, `requireBackup`, `defaultBlueprints`, `guardrails`",
            ),
            (
                r#"{"customVariables":{"allowed":["TARGET_NAME"]}}"#,
                "customVariables.allowed[0]: 'TARGET_NAME' is reserved: TARGET_* variables are built in and cannot be overridden",
            ),
            (
                r#"{"customVariables":{"allowed":["A","1X","A"]}}"#,
                "customVariables.allowed[1]: '1X' is not a variable name (letters, digits and '_', not starting with a digit); customVariables.allowed[2]: 'A' is listed twice",
            ),
            (
                r#"{"customVariables":{"valuePattern":"(["}}"#,
                "customVariables.valuePattern: '([' is not a valid regular expression: ",
            ),
            (
                "[1]",
                "invalid settings: expected a map of setting names to values, got [1]",
            ),
            ("{", "invalid settings: EOF while parsing an object at line 1 column 1"),
        ];
        for (payload, expected) in cases {
            let err = parse(payload.as_bytes()).unwrap_err();
            assert!(err.starts_with(expected), "{payload}\n got: {err}\nwant: {expected}");
        }
    }
}
