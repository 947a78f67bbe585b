//! Policy settings (SPEC §8), validated by `validate_settings` with precise messages.

use serde::Deserialize;
use serde_json::Value;

pub const DEFAULT_VALUE_PATTERN: &str = "^[A-Za-z0-9._-]{1,63}$";
const BUILTIN_PREFIX: &str = "TARGET_";

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Settings {
    /// Write `autobackup.kubewarden.io/resolved` on accepted targets.
    pub emit_resolved_objects: bool,
    pub storage_secret_check: StorageSecretCheck,
    pub on_lookup_error: OnLookupError,
    pub custom_variables: CustomVariables,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            emit_resolved_objects: true,
            storage_secret_check: StorageSecretCheck::Reject,
            on_lookup_error: OnLookupError::Reject,
            custom_variables: CustomVariables::default(),
        }
    }
}

/// What to do when the storage Secret is missing from the Repository namespace.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub enum StorageSecretCheck {
    #[default]
    Reject,
    Warn,
    /// Do not look the Secret up at all.
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

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct CustomVariables {
    /// Names a target may define with `vars.autobackup.kubewarden.io/<NAME>`.
    pub allowed: Vec<String>,
    /// Every value must match this regular expression.
    pub value_pattern: String,
}

impl Default for CustomVariables {
    fn default() -> Self {
        CustomVariables {
            allowed: Vec::new(),
            value_pattern: DEFAULT_VALUE_PATTERN.to_string(),
        }
    }
}

impl CustomVariables {
    pub fn value_regex(&self) -> Result<regex_lite::Regex, String> {
        regex_lite::Regex::new(&self.value_pattern).map_err(|e| {
            format!(
                "customVariables.valuePattern '{}' is not a valid regular expression: {e}",
                self.value_pattern
            )
        })
    }
}

/// Parses and validates the settings JSON. An empty payload or `null` means the defaults.
pub fn parse(payload: &[u8]) -> Result<Settings, String> {
    let value: Value = match payload.iter().all(u8::is_ascii_whitespace) {
        true => Value::Null,
        false => serde_json::from_slice(payload).map_err(|e| format!("invalid settings: {e}"))?,
    };
    let settings = match value {
        Value::Null => Settings::default(),
        Value::Object(_) => serde_json::from_value(value).map_err(|e| format!("invalid settings: {e}"))?,
        other => {
            return Err(format!(
                "invalid settings: expected a map of setting names to values, got {other}"
            ));
        }
    };
    settings.validate()?;
    Ok(settings)
}

impl Settings {
    pub fn validate(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        if let Err(e) = self.custom_variables.value_regex() {
            problems.push(e);
        }
        for (index, name) in self.custom_variables.allowed.iter().enumerate() {
            if let Some(why) = variable_name_problem(name) {
                problems.push(format!("customVariables.allowed[{index}]: '{name}' {why}"));
            } else if self.custom_variables.allowed[..index].contains(name) {
                problems.push(format!("customVariables.allowed[{index}]: '{name}' is listed twice"));
            }
        }
        match problems.is_empty() {
            true => Ok(()),
            false => Err(problems.join("; ")),
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
            assert_eq!(parse(payload.as_bytes()), Ok(Settings::default()), "{payload:?}");
        }
        let s = Settings::default();
        assert!(s.emit_resolved_objects);
        assert_eq!(s.storage_secret_check, StorageSecretCheck::Reject);
        assert_eq!(s.on_lookup_error, OnLookupError::Reject);
        assert!(s.custom_variables.allowed.is_empty());
        assert_eq!(s.custom_variables.value_pattern, DEFAULT_VALUE_PATTERN);
    }

    #[test]
    fn full_settings() {
        let s = parse(
            br#"{"emitResolvedObjects":false,"storageSecretCheck":"warn","onLookupError":"accept",
                 "customVariables":{"allowed":["TEAM","TIER"],"valuePattern":"^[a-z]+$"}}"#,
        )
        .unwrap();
        assert!(!s.emit_resolved_objects);
        assert_eq!(s.storage_secret_check, StorageSecretCheck::Warn);
        assert_eq!(s.on_lookup_error, OnLookupError::Accept);
        assert_eq!(s.custom_variables.allowed, ["TEAM", "TIER"]);
    }

    #[test]
    fn invalid_settings_have_precise_messages() {
        let cases = [
            (
                r#"{"storageSecretCheck":"maybe"}"#,
                "invalid settings: unknown variant `maybe`, expected one of `reject`, `warn`, `skip`",
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
                "invalid settings: unknown field `emitResolvedObject`, expected one of `emitResolvedObjects`, `storageSecretCheck`, `onLookupError`, `customVariables`",
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
                "customVariables.valuePattern '([' is not a valid regular expression: ",
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
