//! `${VAR}` substitution in blueprint values.
//!
//! A port of the expansion Stash runs on BackupBlueprints, gomodules.xyz/envsubst v0.2.0 (a fork
//! of drone/envsubst). It applies to every string value and map key of a JSON tree, never to
//! serialized text. Where this port departs from envsubst on purpose:
//! - only `${NAME}` is a variable and names are ASCII `[A-Za-z_][A-Za-z0-9_]*`; `$$` means `$`
//!   everywhere, arguments included; a backslash escapes only in replace arguments (`\/`, `\\`);
//! - a defined but empty variable keeps its value under every default form, and an empty default
//!   (`${X:-}`) is allowed;
//! - an offset, length or trim that would cut a multi-byte character in two is an error: Go
//!   counts bytes (`${#X}` and `${X:pos:len}`, and trims try every byte length), and writes
//!   the halves, which the API server stores as U+FFFD;
//! - `%`/`%%` match the glob against suffixes instead of reversing the pattern text, so classes
//!   and escapes work there too;
//! - `${X:pos:-n}` stops n bytes before the end (as bash does) instead of panicking;
//! - forms envsubst quietly treats as "value, or the argument when empty" (`:?`, `:+`, `^,` …)
//!   are errors, and so is a replace pattern that contains `}`;
//! - every problem in the tree is reported with its JSON path, and all work is bounded.

mod eval;
#[cfg(test)]
mod fixtures;
mod glob;
mod operators;
mod parse;
mod path;
mod syntax;

use std::fmt;

use eval::Session;
use path::TreePath;
use serde_json::Value;

use crate::support::string_map::StringMap;

pub type Variables = StringMap;

pub const MAX_NESTING: usize = 16;
pub const MAX_STRING_BYTES: usize = 65536;
pub const MAX_TREE_DEPTH: usize = 64;
/// The strings of one substituted tree, keys included, are at most this many bytes in all: a
/// blueprint is at most 1.5 MiB, and each of many fields may otherwise grow to
/// MAX_STRING_BYTES (`${X//a/${X}}` in every field).
pub const MAX_TREE_BYTES: usize = 2 << 20;

/// Work one call may do: bytes handled by operators plus glob matching steps. Real blueprints use
/// a tiny fraction of it; it stops crafted input such as `${X##*a*a*a…}` against a long value.
const WORK_BUDGET: u64 = 1 << 25;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubstitutionError {
    /// `${name}` has no value and no default.
    Undefined { name: String, path: String },
    /// `expression` could not be parsed; `reason` says why, e.g. "empty variable name",
    /// "missing closing '}'", "invalid character '.' in variable name".
    Malformed {
        expression: String,
        reason: String,
        path: String,
    },
    /// `${X:pos:len}` counts bytes, as Go does, and would cut `character` in two.
    SplitsCharacter {
        expression: String,
        character: char,
        path: String,
    },
    /// Defaults nested deeper than MAX_NESTING, or a JSON tree deeper than MAX_TREE_DEPTH.
    TooDeep { path: String },
    /// A substituted string would exceed MAX_STRING_BYTES.
    TooLarge { path: String },
    /// The substituted tree would exceed MAX_TREE_BYTES; `path` is where it was crossed.
    TreeTooLarge { path: String },
}

impl SubstitutionError {
    /// How to fix this error, but for an undefined variable (`None`): its fix depends on the
    /// generation of the blueprint.
    pub fn fix(&self) -> Option<&'static str> {
        match self {
            Self::Undefined { .. } => None,
            Self::Malformed { .. } => Some(
                "; write a variable as ${NAME} or with an envsubst operator (${NAME:-default}, ${NAME^^}, …), \
                 and a literal $ as $$",
            ),
            Self::SplitsCharacter { .. } => Some("; choose offsets between characters"),
            Self::TooDeep { .. } | Self::TooLarge { .. } | Self::TreeTooLarge { .. } => {
                Some("; simplify the blueprint field")
            }
        }
    }

    pub fn path(&self) -> &str {
        match self {
            Self::Undefined { path, .. }
            | Self::Malformed { path, .. }
            | Self::SplitsCharacter { path, .. }
            | Self::TooDeep { path }
            | Self::TooLarge { path }
            | Self::TreeTooLarge { path } => path,
        }
    }

    /// What makes two errors the same report.
    fn key(&self) -> (u8, &str, &str, &str) {
        match self {
            Self::Undefined { name, path } => (0, name, path, ""),
            Self::Malformed {
                expression,
                reason,
                path,
            } => (1, expression, reason, path),
            Self::SplitsCharacter { expression, path, .. } => (5, expression, path, ""),
            Self::TooDeep { path } => (2, path, "", ""),
            Self::TooLarge { path } => (3, path, "", ""),
            Self::TreeTooLarge { path } => (4, path, "", ""),
        }
    }
}

impl fmt::Display for SubstitutionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Undefined { name, .. } => write!(f, "variable ${{{name}}} is not defined"),
            Self::Malformed { expression, reason, .. } => {
                write!(f, "malformed expression '{expression}': {reason}")
            }
            Self::SplitsCharacter {
                expression, character, ..
            } => write!(
                f,
                "'{expression}' cuts the character '{character}' in two: Stash counts offsets and \
                 lengths in bytes ('{character}' is {} bytes)",
                character.len_utf8()
            ),
            // The variant does not say which bound was crossed, so the message names both.
            Self::TooDeep { .. } => write!(
                f,
                "nested deeper than {MAX_NESTING} levels of defaults \
                 or {MAX_TREE_DEPTH} levels of objects and arrays"
            ),
            Self::TooLarge { .. } => {
                write!(f, "substituted value is larger than {MAX_STRING_BYTES} bytes")
            }
            Self::TreeTooLarge { .. } => {
                write!(f, "the substituted blueprint grows past {MAX_TREE_BYTES} bytes here")
            }
        }
    }
}

impl std::error::Error for SubstitutionError {}

/// Substitute one string. `path` is only used to label errors.
pub fn substitute_str(input: &str, vars: &Variables, path: &str) -> Result<String, Vec<SubstitutionError>> {
    let mut session = Session::new(vars);
    let output = session.substitute(input, &TreePath::Root(path));
    session.finish(output.unwrap_or_default())
}

/// Substitute every string value and map key of `value`; `path` is the path of `value` itself
/// (e.g. "spec"). Object members append ".key" (the key as written, before substitution), array
/// items "[i]".
pub fn substitute_tree(value: &Value, vars: &Variables, path: &str) -> Result<Value, Vec<SubstitutionError>> {
    let mut session = Session::new(vars);
    let output = session.walk(value, &TreePath::Root(path), 1);
    session.finish(output)
}

#[cfg(test)]
mod tests {
    use super::fixtures::{malformed, too_deep, too_large, undefined, vars};
    use super::parse::MISSING_CLOSE;
    use super::*;

    #[test]
    fn all_errors_of_a_string_in_order() {
        let input = "${M1} ${A.B} ${A} ${M2:-${M3}} ${X@} ${M1}";
        assert_eq!(
            substitute_str(input, &vars(), "p"),
            Err(vec![
                undefined("M1", "p"),
                malformed("${A.B}", "invalid character '.' in variable name", "p"),
                undefined("M3", "p"),
                malformed("${X@}", "unknown operator '@'", "p"),
            ])
        );
    }

    #[test]
    fn error_messages_and_paths() {
        let rows = [
            (undefined("TEAM", "spec.x"), "variable ${TEAM} is not defined"),
            (
                malformed("${A.B}", "invalid character '.' in variable name", "spec.x"),
                "malformed expression '${A.B}': invalid character '.' in variable name",
            ),
            (
                too_deep("spec.x"),
                "nested deeper than 16 levels of defaults or 64 levels of objects and arrays",
            ),
            (too_large("spec.x"), "substituted value is larger than 65536 bytes"),
            (
                SubstitutionError::SplitsCharacter {
                    expression: "${TEAM:0:1}".into(),
                    character: 'é',
                    path: "spec.x".into(),
                },
                "'${TEAM:0:1}' cuts the character 'é' in two: Stash counts offsets and lengths in bytes ('é' is 2 bytes)",
            ),
        ];
        for (error, message) in rows {
            assert_eq!(error.to_string(), message);
            assert_eq!(error.path(), "spec.x");
        }
    }

    /// A small deterministic generator, so the test needs no dependency.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) as usize
        }
    }

    #[test]
    fn arbitrary_input_never_panics() {
        let alphabet: Vec<char> = "${}${}:-=#%/^,.\\*?[]!@aAb_1 é日\n".chars().collect();
        let vars = vars();
        let mut rng = Lcg(7);
        for _ in 0..20_000 {
            let len = rng.next() % 40;
            let input: String = (0..len).map(|_| alphabet[rng.next() % alphabet.len()]).collect();
            let _ = substitute_str(&input, &vars, "p");
        }
        for _ in 0..2_000 {
            let bytes: Vec<u8> = (0..rng.next() % 64).map(|_| rng.next() as u8).collect();
            let input = String::from_utf8_lossy(&bytes);
            let _ = substitute_str(&input, &vars, "p");
        }
    }

    #[test]
    fn huge_inputs_return() {
        let vars = vars();
        let unclosed = format!("${{A:-{}", "${A}".repeat(200_000));
        let errors = substitute_str(&unclosed, &vars, "p").unwrap_err();
        assert!(matches!(&errors[0], SubstitutionError::Malformed { reason, .. } if reason == MISSING_CLOSE));
        let dollars = "$".repeat(1_000_000);
        assert_eq!(substitute_str(&dollars, &vars, "p"), Err(vec![too_large("p")]));
        let bad = "${ ".repeat(300_000);
        let errors = substitute_str(&bad, &vars, "p").unwrap_err();
        assert_eq!(errors.len(), 1, "parsing resumes after the next closing brace");
    }
}
