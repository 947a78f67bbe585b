//! Variables, expected errors and a checker that the tests of every file of the module share.

use super::{SubstitutionError, Variables, substitute_str};

pub(super) fn vars() -> Variables {
    [
        ("A", "alpha"),
        ("EMPTY", ""),
        ("FILE", "bash.string.txt"),
        ("REL", "path/to/file"),
        ("ABS", "/path/to/file"),
        ("PATH_NAME", "/home/bozo/ideas/thoughts.for.today"),
        ("Z", "abcABC123ABCabc"),
        ("U", "héllo wörld"),
        ("CAPS", "ÉCOLE"),
        ("SZ", "straße"),
        ("GREEK", "ᾀßİxᾳ"),
        ("NEG", "-3"),
        ("FAR", "-100"),
        ("MIN", "-9223372036854775808"),
        ("SLASHED", "foo/bar"),
        ("DOTS", "foo.bar"),
        ("STAR", "*x"),
        ("PREFIX", "bash."),
        ("BS", r"a\b"),
        ("lower_1", "ok"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect()
}

pub(super) fn undefined(name: &str, path: &str) -> SubstitutionError {
    SubstitutionError::Undefined {
        name: name.into(),
        path: path.into(),
    }
}

pub(super) fn malformed(expression: &str, reason: &str, path: &str) -> SubstitutionError {
    SubstitutionError::Malformed {
        expression: expression.into(),
        reason: reason.into(),
        path: path.into(),
    }
}

pub(super) fn too_deep(path: &str) -> SubstitutionError {
    SubstitutionError::TooDeep { path: path.into() }
}

pub(super) fn too_large(path: &str) -> SubstitutionError {
    SubstitutionError::TooLarge { path: path.into() }
}

pub(super) fn check_ok(rows: &[(&str, &str)]) {
    let vars = vars();
    for (input, expected) in rows {
        assert_eq!(substitute_str(input, &vars, "p"), Ok((*expected).to_owned()), "{input}");
    }
}

/// Each input is one `SplitsCharacter` error naming its character, at path `p`.
pub(super) fn check_splits(rows: &[(&str, char)]) {
    let vars = vars();
    for (input, character) in rows {
        let expected = SubstitutionError::SplitsCharacter {
            expression: (*input).to_owned(),
            character: *character,
            path: "p".to_owned(),
        };
        assert_eq!(substitute_str(input, &vars, "p"), Err(vec![expected]), "{input}");
    }
}
