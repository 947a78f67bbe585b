//! The settings and the rules they compile: access, requirement, defaults, guardrails, selection.
//!
//! Policy settings, validated by `validate_settings` with precise messages.

pub mod access;
pub mod defaults;
pub mod fields;
pub mod guardrails;
pub mod kubestash;
pub mod requirement;
pub mod selection;

use serde_json::{Map, Value};

use crate::report::{Problem, bounded, settings_problems, shorten};
use crate::settings::access::AccessRules;
use crate::settings::defaults::DefaultBlueprints;
use crate::settings::guardrails::Guardrails;
use crate::settings::kubestash::KubeStashSettings;
use crate::settings::requirement::RequireBackup;
use crate::support::json_fields::{
    alternatives, boolean, child, expect_list, expect_map, expect_str, field, item, kind, unknown_field, unknown_fields,
};

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
    pub kubestash: KubeStashSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings::compile(RawSettings::default()).unwrap_or_else(|_| unreachable!("the defaults are valid"))
    }
}

/// What to do when a check finds a problem that the administrator may downgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Check {
    #[default]
    Reject,
    /// Accept with a warning.
    Warn,
    /// Do not check at all (no lookup).
    Skip,
}

/// What to do when a cluster lookup fails for another reason than "not found".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnLookupError {
    #[default]
    Reject,
    /// Accept the object unchanged, with a warning.
    Accept,
}

/// Custom variables: which names a target may define and what their values may be.
#[derive(Debug, Clone)]
pub struct CustomVariables {
    /// Names a target may define with `vars.autobackup.kubewarden.io/<NAME>`.
    pub allowed: AllowedNames,
    /// The text of `value_regex`, for messages.
    pub value_pattern: String,
    /// Every value must match it.
    pub value_regex: crate::support::regex::Regex,
}

impl Default for CustomVariables {
    fn default() -> Self {
        Settings::default().custom_variables
    }
}

/// A set of names, in name order, as a map to empty strings: a [`StringMap`](crate::support::string_map::StringMap)
/// like every map of the policy, so that policy.wasm carries no second copy of the B-tree code.
pub type AllowedNames = crate::support::string_map::StringMap;

impl Settings {
    /// Which generations the rules name blueprints of: (Stash, KubeStash). A KubeStash
    /// blueprint is written `<namespace>/<name>`.
    pub fn generations_named(&self) -> (bool, bool) {
        // (Stash, KubeStash) as bits.
        let mut named = 0u8;
        for rule in &self.default_blueprints.rules {
            named |= generation_bit(&rule.blueprint);
        }
        for rule in self.blueprint_access.rules() {
            for pattern in &rule.blueprints {
                named |= generation_bit(pattern.text());
            }
        }
        (named & 1 != 0, named & 2 != 0)
    }
}

/// 2 for a KubeStash blueprint (`<namespace>/<name>`), 1 for a Stash one.
fn generation_bit(name: &str) -> u8 {
    match name.contains('/') {
        true => 2,
        false => 1,
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
    kubestash: Option<Value>,
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
            kubestash: None,
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
        "kubestash",
    ];

    /// The top-level settings, each problem with its field path; a field with a problem keeps
    /// its default so that the rest can still be checked.
    fn read(fields: Map<String, Value>, problems: &mut Vec<Problem>) -> RawSettings {
        let mut raw = RawSettings::default();
        for (name, value) in fields {
            if value.is_null() {
                continue;
            }
            let mut found = |result: Result<(), String>| {
                if let Err(why) = result {
                    problems.push(Problem::setting(name.as_str(), why));
                }
            };
            match name.as_str() {
                "emitResolvedObjects" => found(boolean(&value).map(|b| raw.emit_resolved_objects = b)),
                "storageSecretCheck" => found(choice(&value, Check::CHOICES).map(|c| raw.storage_secret_check = c)),
                "collisionCheck" => found(choice(&value, Check::CHOICES).map(|c| raw.collision_check = c)),
                "onLookupError" => found(choice(&value, OnLookupError::CHOICES).map(|c| raw.on_lookup_error = c)),
                "customVariables" => raw.custom_variables = RawCustomVariables::read(&value, problems),
                "blueprintAccess" => raw.blueprint_access = Some(value),
                "requireBackup" => raw.require_backup = Some(value),
                "defaultBlueprints" => raw.default_blueprints = Some(value),
                "guardrails" => raw.guardrails = Some(value),
                "kubestash" => raw.kubestash = Some(value),
                _ => found(Err(unknown_field(Self::FIELDS))),
            }
        }
        raw
    }
}

impl Check {
    const CHOICES: &[(&str, Check)] = &[("reject", Check::Reject), ("warn", Check::Warn), ("skip", Check::Skip)];
}

impl OnLookupError {
    const CHOICES: &[(&str, OnLookupError)] = &[("reject", OnLookupError::Reject), ("accept", OnLookupError::Accept)];
}

/// The choice `value` names, or the message listing the choices.
pub(crate) fn choice<T: Copy>(value: &Value, choices: &[(&str, T)]) -> Result<T, String> {
    let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
    let got = match value {
        Value::String(text) => match choices.iter().find(|(name, _)| name == text) {
            Some((_, chosen)) => return Ok(*chosen),
            None => format!("'{}'", shorten(text)),
        },
        other => kind(other).to_string(),
    };
    Err(format!("expected {}, got {got}", alternatives(&names)))
}

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

impl RawCustomVariables {
    const FIELDS: &[&str] = &["allowed", "valuePattern"];

    /// `customVariables`, each problem with its field path; what is wrong keeps its default.
    fn read(value: &Value, problems: &mut Vec<Problem>) -> RawCustomVariables {
        let mut raw = RawCustomVariables::default();
        const PATH: &str = "customVariables";
        let Some(fields) = noted(expect_map(value, PATH, "a map with allowed and valuePattern"), problems) else {
            return raw;
        };
        problems.extend(
            unknown_fields(fields, Self::FIELDS, PATH)
                .into_iter()
                .map(Problem::object),
        );
        if let Some(allowed) = field(fields, "allowed") {
            let path = child(PATH, "allowed");
            let names = noted(expect_list(allowed, &path, "a list of variable names"), problems).unwrap_or_default();
            for (i, name) in names.iter().enumerate() {
                if let Some(name) = noted(expect_str(name, &item(&path, i)), problems) {
                    raw.allowed.push(name.to_string());
                }
            }
        }
        let pattern = field(fields, "valuePattern").map(|pattern| expect_str(pattern, &child(PATH, "valuePattern")));
        if let Some(pattern) = pattern.and_then(|pattern| noted(pattern, problems)) {
            raw.value_pattern = pattern.to_string();
        }
        raw
    }
}

/// Parses, validates and compiles the settings JSON. An empty payload or `null` means the
/// defaults.
pub fn parse(payload: &[u8]) -> Result<Settings, String> {
    let value: Value = match payload.iter().all(u8::is_ascii_whitespace) {
        true => Value::Null,
        false => serde_json::from_slice(payload).map_err(|e| bounded(format!("{INVALID}: {e}")))?,
    };
    from_value(value)
}

/// Validates and compiles settings already parsed; `null` means the defaults.
pub fn from_value(value: Value) -> Result<Settings, String> {
    let mut read_problems = Vec::new();
    let raw = match value {
        Value::Null => RawSettings::default(),
        Value::Object(fields) => RawSettings::read(fields, &mut read_problems),
        other => {
            return Err(format!(
                "{INVALID}: expected a map of setting names to values, got {}",
                crate::report::shorten(&crate::support::json_text::of(&other))
            ));
        }
    };
    match Settings::compile(raw) {
        Ok(settings) if read_problems.is_empty() => Ok(settings),
        Ok(_) => Err(settings_problems(&read_problems)),
        Err(problems) => {
            read_problems.extend(problems);
            Err(settings_problems(&read_problems))
        }
    }
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
        let kubestash = keep(KubeStashSettings::parse(raw.kubestash.as_ref(), "kubestash"), p);
        match (
            custom_variables,
            blueprint_access,
            require_backup,
            default_blueprints,
            guardrails,
            kubestash,
        ) {
            (
                Some(custom_variables),
                Some(blueprint_access),
                Some(require_backup),
                Some(default_blueprints),
                Some(guardrails),
                Some(kubestash),
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
                kubestash,
            }),
            _ => Err(problems),
        }
    }
}

/// The read value, or `None` with the problem (its message holds the field path) added to
/// `problems`.
fn noted<T>(read: Result<T, String>, problems: &mut Vec<Problem>) -> Option<T> {
    read.map_err(|why| problems.push(Problem::object(why))).ok()
}

/// The parsed value, or `None` with its problems added to `problems`.
fn keep<T>(parsed: Result<T, Vec<Problem>>, problems: &mut Vec<Problem>) -> Option<T> {
    parsed.map_err(|found| problems.extend(found)).ok()
}

fn compile_custom_variables(raw: RawCustomVariables, problems: &mut Vec<Problem>) -> Option<CustomVariables> {
    let mut allowed = AllowedNames::new();
    for (index, name) in raw.allowed.iter().enumerate() {
        let path = item("customVariables.allowed", index);
        if let Some(why) = variable_name_problem(name) {
            problems.push(Problem::setting(
                path,
                format!("'{}' {why}", crate::report::shorten(name)),
            ));
        } else if !allowed.insert(name.clone(), String::new()) {
            let name = crate::report::shorten(name);
            problems.push(Problem::setting(path, format!("'{name}' is listed twice")));
        }
    }
    match crate::support::regex::Regex::new(&raw.value_pattern) {
        Ok(value_regex) => Some(CustomVariables {
            allowed,
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
        assert!(s.custom_variables.allowed.keys().eq(["TEAM", "TIER"]));
        assert!(s.custom_variables.value_regex.is_match("abc"));
        assert!(!s.blueprint_access.is_empty());
    }

    /// `null` is an absent field, as in Kubernetes' decoder: the default.
    #[test]
    fn null_fields_are_defaults() {
        let s = parse(
            br#"{"emitResolvedObjects":null,"storageSecretCheck":null,"customVariables":{"allowed":null,"valuePattern":null},
                 "blueprintAccess":null,"requireBackup":null,"defaultBlueprints":null,"guardrails":null}"#,
        )
        .unwrap();
        assert!(s.emit_resolved_objects);
        assert_eq!(s.storage_secret_check, Check::Reject);
        assert_eq!(s.custom_variables.value_pattern, DEFAULT_VALUE_PATTERN);
        assert!(s.blueprint_access.is_empty() && s.require_backup.is_none());
    }

    #[test]
    fn invalid_settings_have_precise_messages() {
        let cases = [
            (
                r#"{"storageSecretCheck":"maybe"}"#,
                "storageSecretCheck: expected reject, warn or skip, got 'maybe'",
            ),
            (
                r#"{"collisionCheck":"ignore"}"#,
                "collisionCheck: expected reject, warn or skip, got 'ignore'",
            ),
            (
                r#"{"onLookupError":"ignore"}"#,
                "onLookupError: expected reject or accept, got 'ignore'",
            ),
            (
                r#"{"emitResolvedObjects":"yes"}"#,
                "emitResolvedObjects: expected true or false, got a string",
            ),
            (
                r#"{"emitResolvedObject":true}"#,
                "emitResolvedObject: unknown field; expected emitResolvedObjects, storageSecretCheck, collisionCheck, onLookupError, customVariables, blueprintAccess, requireBackup, defaultBlueprints, guardrails or kubestash",
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
                r#"{"customVariables":"x"}"#,
                "customVariables: expected a map with allowed and valuePattern, got a string",
            ),
            (
                r#"{"customVariables":{"allowed":"A","other":1}}"#,
                "customVariables.other: unknown field; expected allowed or valuePattern; customVariables.allowed: expected a list of variable names, got a string",
            ),
            (
                r#"{"customVariables":{"allowed":[1],"valuePattern":2}}"#,
                "customVariables.allowed[0]: expected a string, got a number; customVariables.valuePattern: expected a string, got a number",
            ),
            (
                r#"{"storageSecretCheck":7,"collisionCheck":null,"zzz":1,"guardrails":[]}"#,
                "storageSecretCheck: expected reject, warn or skip, got a number; zzz: unknown field; expected",
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
