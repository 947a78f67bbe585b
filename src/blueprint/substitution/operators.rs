//! The string operators of drone/envsubst's funcs.go: case change, substring, replace, and the
//! cut that ends a trim.

use super::MAX_STRING_BYTES;
use super::syntax::{Case, End, ReplaceMode};
use crate::support::case_mapping::{to_lower, to_upper};

pub(super) fn change_case(value: &str, case: Case) -> String {
    let mut chars = value.chars();
    match case {
        Case::Upper => chars.map(to_upper).collect(),
        Case::Lower => chars.map(to_lower).collect(),
        Case::UpperFirst | Case::LowerFirst => {
            let Some(first) = chars.next() else {
                return String::new();
            };
            let first = if matches!(case, Case::UpperFirst) {
                to_upper(first)
            } else {
                to_lower(first)
            };
            std::iter::once(first).chain(chars).collect()
        }
    }
}

/// `${X:offset}` and `${X:offset:length}`, in bytes as Go slices a string. As in envsubst, an
/// argument that is not an integer leaves the value alone, a negative offset counts from the
/// end, and ranges past the end are cut short. A negative length ends that many bytes before
/// the end (bash; envsubst panics). `Err` is the character a cut would split: Go would write
/// its bytes apart, which the API server receives as U+FFFD.
pub(super) fn substring(value: &str, offset: &str, length: Option<&str>) -> Result<String, char> {
    let Ok(offset) = offset.parse::<i64>() else {
        return Ok(value.to_owned());
    };
    let count = i64::try_from(value.len()).unwrap_or(i64::MAX);
    let start = if offset < 0 {
        count.saturating_add(offset).max(0)
    } else {
        offset
    };
    let end = match length.map(str::parse::<i64>) {
        None => count,
        Some(Err(_)) => return Ok(value.to_owned()),
        Some(Ok(length)) if length < 0 => count.saturating_add(length),
        Some(Ok(length)) => start.saturating_add(length).min(count),
    };
    if start >= count || end <= start {
        return Ok(String::new());
    }
    let (start, end) = (start as usize, end as usize);
    match value.get(start..end) {
        Some(kept) => Ok(kept.to_owned()),
        None => Err(split_character(value, start, end)),
    }
}

/// The character that the byte range `start..end` of `value` cuts, at one of its ends.
fn split_character(value: &str, start: usize, end: usize) -> char {
    let cut = if value.is_char_boundary(start) { end } else { start };
    value
        .char_indices()
        .take_while(|(at, _)| *at < cut)
        .last()
        .map_or(char::REPLACEMENT_CHARACTER, |(_, c)| c)
}

/// `${X/a/b}` and friends. The pattern is a literal string, as in envsubst, and an empty one
/// matches before every character (Go's strings.Replace).
pub(super) fn replace(value: &str, pattern: &str, replacement: Option<&str>, mode: ReplaceMode) -> String {
    let with = replacement.unwrap_or_default();
    match mode {
        ReplaceMode::First => value.replacen(pattern, with, 1),
        ReplaceMode::All => replace_all(value, pattern, with),
        // envsubst leaves the value alone when the replacement is left out: `${X/#a/}`.
        ReplaceMode::Prefix => match (replacement, value.strip_prefix(pattern)) {
            (Some(with), Some(rest)) => format!("{with}{rest}"),
            _ => value.to_owned(),
        },
        ReplaceMode::Suffix => match (replacement, value.strip_suffix(pattern)) {
            (Some(with), Some(rest)) => format!("{rest}{with}"),
            _ => value.to_owned(),
        },
    }
}

/// Replaces every match, giving up once the result is over the size limit (the caller reports it).
fn replace_all(value: &str, pattern: &str, with: &str) -> String {
    let mut out = String::new();
    let mut copied = 0;
    for (at, matched) in value.match_indices(pattern) {
        out.push_str(value.get(copied..at).unwrap_or_default());
        out.push_str(with);
        copied = at + matched.len();
        if out.len() > MAX_STRING_BYTES {
            return out;
        }
    }
    out.push_str(value.get(copied..).unwrap_or_default());
    out
}

/// `value` without its first (or last) `count` characters.
pub(super) fn cut(value: &str, count: usize, end: End) -> String {
    let at = match end {
        End::Prefix => value.char_indices().nth(count).map_or(value.len(), |(at, _)| at),
        End::Suffix => match count.checked_sub(1) {
            Some(back) => value.char_indices().rev().nth(back).map_or(0, |(at, _)| at),
            None => value.len(),
        },
    };
    let kept = match end {
        End::Prefix => value.get(at..),
        End::Suffix => value.get(..at),
    };
    kept.unwrap_or(value).to_owned()
}

#[cfg(test)]
mod tests {
    use crate::blueprint::substitution::fixtures::check_ok;

    #[test]
    fn case_operators() {
        check_ok(&[
            ("${A^}", "Alpha"),
            ("${A^^}", "ALPHA"),
            ("${CAPS,}", "éCOLE"),
            ("${CAPS,,}", "école"),
            ("${U^}", "Héllo wörld"),
            ("${U^^}", "HÉLLO WÖRLD"),
            ("${SZ^^}", "STRAßE"),
            // Go's simple mappings: ᾀ → ᾈ and ᾳ → ᾼ (Rust's full ones give two letters each).
            ("u-${GREEK^^}/l-${GREEK,,}/f-${GREEK^}", "u-ᾈßİXᾼ/l-ᾀßixᾳ/f-ᾈßİxᾳ"),
            ("${EMPTY^}", ""),
            ("${EMPTY,,}", ""),
        ]);
    }

    #[test]
    fn substrings() {
        check_ok(&[
            ("${PATH_NAME:11}", "ideas/thoughts.for.today"),
            ("${PATH_NAME:11:5}", "ideas"),
            ("${A:0}", "alpha"),
            ("${A:1:3}", "lph"),
            ("${A:4}", "a"),
            ("${A:5}", ""),
            ("${A:10}", ""),
            ("${A:10:2}", ""),
            ("${A:2:100}", "pha"),
            ("${A:0:0}", ""),
            ("${A:${NEG}}", "pha"),
            ("${A:${NEG}:2}", "ph"),
            ("${A:${FAR}}", "alpha"),
            ("${A:1:-1}", "lph"),
            ("${A:3:-3}", ""),
            ("${A:1:${FAR}}", ""),
            ("${A:x}", "alpha"),
            ("${A: 1}", "alpha"),
            ("${A:1:y}", "alpha"),
            ("${A:1:2:3}", "alpha"),
            ("${A:99999999999999999999}", "alpha"),
            ("${A:1:9223372036854775807}", "lpha"),
            ("${A:9223372036854775807:9223372036854775807}", ""),
            ("${A:${MIN}}", "alpha"),
            ("${A:1:${MIN}}", ""),
            ("${A:${EMPTY}}", "alpha"),
            ("${U:1:5}", "éllo"),
            ("${U:-5}", "héllo wörld"),
            ("${U:${NEG}}", "rld"),
            ("${U:3}", "llo wörld"),
        ]);
    }

    /// Go slices bytes: `${U:1:1}` of `héllo` is half of `é`, which envsubst writes as it is
    /// and the API server stores as U+FFFD; here it is an error naming the character.
    #[test]
    fn a_cut_inside_a_character_is_named() {
        crate::blueprint::substitution::fixtures::check_splits(&[
            ("${U:1:1}", 'é'),
            ("${U:2}", 'é'),
            ("${U:0:2}", 'é'),
            ("${U:9}", 'ö'),
        ]);
    }

    #[test]
    fn replacements() {
        check_ok(&[
            ("${Z/abc/xyz}", "xyzABC123ABCabc"),
            ("${Z//abc/xyz}", "xyzABC123ABCxyz"),
            ("${Z/#abc/XYZ}", "XYZABC123ABCabc"),
            ("${Z/%abc/XYZ}", "abcABC123ABCXYZ"),
            ("${Z/#ABC/X}", "abcABC123ABCabc"),
            ("${Z/%ABC/X}", "abcABC123ABCabc"),
            ("${Z/abc/}", "ABC123ABCabc"),
            ("${Z//abc/}", "ABC123ABC"),
            ("${Z/#abc/}", "abcABC123ABCabc"),
            ("${Z/%abc/}", "abcABC123ABCabc"),
            ("${Z/#abc/${EMPTY}}", "ABC123ABCabc"),
            ("${Z/a*c/X}", "abcABC123ABCabc"),
            ("${Z//[aA]/_}", "abcABC123ABCabc"),
            ("${DOTS/./}", "foobar"),
            (r"${SLASHED/\//-}", "foo-bar"),
            (r"${SLASHED/\//\/\/}", "foo//bar"),
            (r"${BS/\\/-}", "a-b"),
            (r"${BS/\b/-}", "a-"),
            ("${A/l/${A}}", "aalphapha"),
            ("${A/${EMPTY}/-}", "-alpha"),
            ("${A//${EMPTY}/-}", "-a-l-p-h-a-"),
            ("${A/#${EMPTY}/-}", "-alpha"),
            ("${A/%${EMPTY}/-}", "alpha-"),
            ("${U//ö/oe}", "héllo woerld"),
            ("${A/x/$$}", "alpha"),
            ("${A/a/$$}", "$lpha"),
        ]);
    }
}
