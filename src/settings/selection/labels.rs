//! The syntax of label keys and values, as the API server checks it (`IsQualifiedName`,
//! `IsValidLabelValue` in k8s.io/apimachinery/pkg/util/validation).

use crate::report::shorten;
use crate::target::naming::is_dns1123_subdomain;

const MAX_NAME_PART_LENGTH: usize = 63;
const MAX_VALUE_LENGTH: usize = 63;
const NAME_SHAPE: &str = "letters, digits, '-', '_' and '.', starting and ending with a letter or digit";

/// Why `key` cannot be a label key, if it cannot. A key is a name of at most 63 characters,
/// optionally after a DNS subdomain prefix and `/` (`example.com/team`).
pub fn label_key_problem(key: &str) -> Option<String> {
    if key.is_empty() {
        return Some("it is empty".to_string());
    }
    let (prefix, name) = match key.split_once('/') {
        Some((_, name)) if name.contains('/') => return Some("it has more than one '/'".to_string()),
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    prefix
        .and_then(prefix_problem)
        .or_else(|| name_part_problem(name, prefix.is_some()))
}

/// Why `value` cannot be a label value, if it cannot. The empty value is valid.
pub fn label_value_problem(value: &str) -> Option<String> {
    if !value.is_empty() && !is_name_shaped(value) {
        Some(format!("it must be {NAME_SHAPE} (or empty)"))
    } else if value.len() > MAX_VALUE_LENGTH {
        Some(format!("it is longer than {MAX_VALUE_LENGTH} characters"))
    } else {
        None
    }
}

fn prefix_problem(prefix: &str) -> Option<String> {
    match (prefix.is_empty(), is_dns1123_subdomain(prefix)) {
        (true, _) => Some("the prefix before '/' is empty".to_string()),
        (false, false) => Some(format!(
            "the prefix '{}' is not a DNS subdomain (lower-case letters, digits, '-' and '.', \
             at most 253 characters)",
            shorten(prefix)
        )),
        (false, true) => None,
    }
}

fn name_part_problem(name: &str, after_prefix: bool) -> Option<String> {
    let subject = match after_prefix {
        true => "the name after '/'",
        false => "it",
    };
    if name.is_empty() {
        Some(format!("{subject} is empty"))
    } else if !is_name_shaped(name) {
        Some(format!("{subject} must be {NAME_SHAPE}"))
    } else if name.len() > MAX_NAME_PART_LENGTH {
        Some(format!("{subject} is longer than {MAX_NAME_PART_LENGTH} characters"))
    } else {
        None
    }
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`: Kubernetes' qualified-name shape.
fn is_name_shaped(text: &str) -> bool {
    let bytes = text.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        let long_name = "n".repeat(64);
        let long_prefix = format!("{}.io/team", "a".repeat(251));
        let cases: [(&str, Option<&str>); 16] = [
            ("team", None),
            ("Team_1.x-y", None),
            ("9", None),
            ("app.kubernetes.io/name", None),
            (&"n".repeat(63), None),
            ("", Some("it is empty")),
            ("a/b/c", Some("it has more than one '/'")),
            ("/team", Some("the prefix before '/' is empty")),
            (
                "Example.com/team",
                Some(
                    "the prefix 'Example.com' is not a DNS subdomain (lower-case letters, digits, '-' and '.', \
                     at most 253 characters)",
                ),
            ),
            (
                &long_prefix,
                Some(
                    "the prefix 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…' \
                     is not a DNS subdomain (lower-case letters, digits, '-' and '.', at most 253 characters)",
                ),
            ),
            ("example.com/", Some("the name after '/' is empty")),
            (
                "example.com/-team",
                Some(
                    "the name after '/' must be letters, digits, '-', '_' and '.', starting and ending with a \
                     letter or digit",
                ),
            ),
            (
                "team ",
                Some("it must be letters, digits, '-', '_' and '.', starting and ending with a letter or digit"),
            ),
            (
                "tëam",
                Some("it must be letters, digits, '-', '_' and '.', starting and ending with a letter or digit"),
            ),
            (&long_name, Some("it is longer than 63 characters")),
            (
                &format!("example.com/{long_name}"),
                Some("the name after '/' is longer than 63 characters"),
            ),
        ];
        for (key, expected) in cases {
            assert_eq!(label_key_problem(key).as_deref(), expected, "{key:?}");
        }
    }

    #[test]
    fn values() {
        let shape =
            "it must be letters, digits, '-', '_' and '.', starting and ending with a letter or digit (or empty)";
        let cases = [
            ("", None),
            ("gold", None),
            ("A.b_c-9", None),
            ("-gold", Some(shape)),
            ("gold.", Some(shape)),
            ("a b", Some(shape)),
            ("a/b", Some(shape)),
        ];
        for (value, expected) in cases {
            assert_eq!(label_value_problem(value).as_deref(), expected, "{value:?}");
        }
        assert_eq!(label_value_problem(&"v".repeat(63)), None);
        assert_eq!(
            label_value_problem(&"v".repeat(64)).as_deref(),
            Some("it is longer than 63 characters")
        );
    }
}
