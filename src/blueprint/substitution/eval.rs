//! Evaluation: the walk over a JSON tree, and the value of each parsed string, within the
//! bounds on size, depth and work.

use serde_json::{Map, Value};

use super::glob::{Matched, match_len, parse_glob};
use super::operators::{change_case, cut, replace, substring};
use super::parse::{ParseError, parse_template};
use super::path::TreePath;
use super::syntax::{End, Expr, Op, Piece, Word};
use super::{MAX_STRING_BYTES, MAX_TREE_BYTES, MAX_TREE_DEPTH, SubstitutionError, Variables, WORK_BUDGET};
use crate::support::string_map::StringMap;

/// The work budget ran out; the error is already recorded.
pub(super) struct Exhausted;

/// State shared by every string of one call.
pub(super) struct Session<'v> {
    vars: &'v Variables,
    errors: Vec<SubstitutionError>,
    budget: u64,
    exhausted: bool,
    /// Bytes of substituted strings so far (MAX_TREE_BYTES).
    output: usize,
}

impl<'v> Session<'v> {
    pub(super) fn new(vars: &'v Variables) -> Self {
        Session {
            vars,
            errors: Vec::new(),
            budget: WORK_BUDGET,
            exhausted: false,
            output: 0,
        }
    }

    pub(super) fn finish<T>(self, output: T) -> Result<T, Vec<SubstitutionError>> {
        if self.errors.is_empty() {
            Ok(output)
        } else {
            Err(dedup(self.errors))
        }
    }

    /// Substitutes one string; None when it has errors (recorded) or the budget is gone.
    pub(super) fn substitute(&mut self, input: &str, path: &TreePath) -> Option<String> {
        let output = self.substitute_unbounded(input, path)?;
        self.output += output.len();
        if self.output > MAX_TREE_BYTES {
            self.errors
                .push(SubstitutionError::TreeTooLarge { path: path.render() });
            self.exhausted = true;
            return None;
        }
        Some(output)
    }

    fn substitute_unbounded(&mut self, input: &str, path: &TreePath) -> Option<String> {
        if self.exhausted {
            return None;
        }
        if !input.contains('$') {
            if input.len() > MAX_STRING_BYTES {
                self.errors.push(SubstitutionError::TooLarge { path: path.render() });
                return None;
            }
            return Some(input.to_owned());
        }
        let template = parse_template(input);
        let errors_before = self.errors.len();
        let mut sink = Sink::default();
        let mut eval = Eval {
            session: self,
            src: input,
            path,
        };
        if eval.word(&template, &mut sink).is_err() {
            self.exhausted = true;
        }
        (self.errors.len() == errors_before).then_some(sink.buf)
    }

    /// Substitutes the strings of `value`, which sits `depth` containers deep (the root is 1).
    /// What it returns only matters when no error was recorded.
    pub(super) fn walk(&mut self, value: &Value, path: &TreePath, depth: usize) -> Value {
        match value {
            Value::String(text) => self.substitute(text, path).map_or(Value::Null, Value::String),
            Value::Array(_) | Value::Object(_) if depth > MAX_TREE_DEPTH => {
                self.errors.push(SubstitutionError::TooDeep { path: path.render() });
                Value::Null
            }
            Value::Array(items) => {
                let items = items.iter().enumerate();
                Value::Array(
                    items
                        .map(|(i, item)| self.walk(item, &TreePath::Item(path, i), depth + 1))
                        .collect(),
                )
            }
            Value::Object(members) => Value::Object(self.walk_object(members, path, depth)),
            scalar => scalar.clone(),
        }
    }

    fn walk_object(&mut self, members: &Map<String, Value>, path: &TreePath, depth: usize) -> Map<String, Value> {
        let mut out = Map::new();
        // The keys that a substitution changed, by what they became; the others are as written.
        let mut written_as = StringMap::new();
        for (key, child) in members {
            let child_path = TreePath::Field(path, key);
            let resolved = self.substitute(key, &child_path);
            let resolved = resolved.filter(|resolved| {
                if !out.contains_key(resolved) {
                    return true;
                }
                let first = written_as.get(resolved).unwrap_or(resolved);
                self.errors.push(key_collision(first, key, resolved, &path.render()));
                false
            });
            let child = self.walk(child, &child_path, depth + 1);
            if let Some(resolved) = resolved {
                if resolved != *key {
                    written_as.insert(resolved.clone(), key.clone());
                }
                out.insert(resolved, child);
            }
        }
        out
    }
}

fn key_collision(first: &str, second: &str, resolved: &str, path: &str) -> SubstitutionError {
    let reason = format!(
        "keys '{}' and '{}' both resolve to '{}'",
        quote(first),
        quote(second),
        quote(resolved)
    );
    SubstitutionError::Malformed {
        expression: quote(second),
        reason,
        path: path.to_owned(),
    }
}

fn dedup(errors: Vec<SubstitutionError>) -> Vec<SubstitutionError> {
    // The keys as text (lengths make them unambiguous) in the map type the variables use: one
    // B-tree instantiation fewer in policy.wasm.
    let mut seen = Variables::new();
    let mut kept = Vec::new();
    for error in errors {
        let (kind, a, b, c) = error.key();
        let key = format!("{kind} {}:{a}{}:{b}{c}", a.len(), b.len());
        if seen.insert(key, String::new()) {
            kept.push(error);
        }
    }
    kept
}

/// `text`, cut short for an error message.
fn quote(text: &str) -> String {
    crate::report::shorten(text)
}

/// An output buffer that refuses to grow past MAX_STRING_BYTES.
#[derive(Default)]
struct Sink {
    buf: String,
    overflowed: bool,
}

impl Sink {
    /// Appends `text`; returns true the first time the limit is crossed.
    fn push(&mut self, text: &str) -> bool {
        if self.overflowed {
            return false;
        }
        if self.buf.len() + text.len() > MAX_STRING_BYTES {
            self.overflowed = true;
            return true;
        }
        self.buf.push_str(text);
        false
    }
}

/// Evaluates the parsed form of one string.
struct Eval<'e, 'v> {
    session: &'e mut Session<'v>,
    src: &'e str,
    path: &'e TreePath<'e>,
}

impl Eval<'_, '_> {
    fn report(&mut self, error: SubstitutionError) {
        self.session.errors.push(error);
    }

    fn expression_text(&self, start: usize, end: usize) -> String {
        quote(self.src.get(start..end).unwrap_or_default())
    }

    fn word(&mut self, word: &[Piece], sink: &mut Sink) -> Result<(), Exhausted> {
        for piece in word {
            match piece {
                Piece::Text(text) => self.emit(sink, text),
                Piece::Expr(expr) => {
                    let value = self.expr(expr)?;
                    self.emit(sink, &value);
                }
                Piece::Bad(error) => self.report_parse_error(error),
            }
        }
        Ok(())
    }

    fn emit(&mut self, sink: &mut Sink, text: &str) {
        if sink.push(text) {
            self.report(SubstitutionError::TooLarge {
                path: self.path.render(),
            });
        }
    }

    fn report_parse_error(&mut self, error: &ParseError) {
        let path = self.path.render();
        let error = match error {
            ParseError::TooDeep => SubstitutionError::TooDeep { path },
            ParseError::Malformed { start, reason, .. } => SubstitutionError::Malformed {
                expression: self.expression_text(*start, error.end(self.src)),
                reason: reason.clone(),
                path,
            },
        };
        self.report(error);
    }

    fn arg(&mut self, word: Option<&Word>) -> Result<Option<String>, Exhausted> {
        let Some(word) = word else { return Ok(None) };
        let mut sink = Sink::default();
        self.word(word, &mut sink)?;
        Ok(Some(sink.buf))
    }

    fn expr(&mut self, expr: &Expr) -> Result<String, Exhausted> {
        // Like envsubst, evaluate the arguments before looking at the variable, so their errors
        // count even when the argument ends up unused (`${SET:-${UNSET}}` is an error).
        let (first, second) = expr.op.args();
        let first = self.arg(first)?;
        let second = self.arg(second)?;
        let vars = self.session.vars;
        let value = vars.get(&expr.name);
        let size = [value, first.as_deref(), second.as_deref()]
            .into_iter()
            .flatten()
            .map(str::len);
        self.charge(expr, size.sum::<usize>() as u64 + 1)?;

        let Some(value) = value else {
            return Ok(self.undefined(expr, first));
        };
        let first = first.as_deref().unwrap_or_default();
        let second = second.as_deref();
        Ok(match &expr.op {
            Op::Value | Op::Default(_) => value.to_string(),
            // Go's len: bytes.
            Op::Length => value.len().to_string(),
            Op::Case(case) => change_case(value, *case),
            Op::Substring { .. } => match substring(value, first, second) {
                Ok(kept) => kept,
                Err(character) => self.splits(expr, character),
            },
            Op::Trim { end, longest, .. } => self.trim(expr, value, first, *end, *longest)?,
            Op::Replace { mode, .. } => replace(value, first, second, *mode),
        })
    }

    /// The value of an expression whose variable is not defined.
    fn undefined(&mut self, expr: &Expr, default: Option<String>) -> String {
        match (&expr.op, default) {
            (Op::Default(_), Some(default)) => default,
            _ => {
                let name = expr.name.clone();
                self.report(SubstitutionError::Undefined {
                    name,
                    path: self.path.render(),
                });
                String::new()
            }
        }
    }

    fn splits(&mut self, expr: &Expr, character: char) -> String {
        self.report(SubstitutionError::SplitsCharacter {
            expression: self.expression_text(expr.start, expr.end),
            character,
            path: self.path.render(),
        });
        String::new()
    }

    fn charge(&mut self, expr: &Expr, units: u64) -> Result<(), Exhausted> {
        match self.session.budget.checked_sub(units) {
            Some(left) => {
                self.session.budget = left;
                Ok(())
            }
            None => Err(self.exhaust(expr)),
        }
    }

    fn exhaust(&mut self, expr: &Expr) -> Exhausted {
        self.session.budget = 0;
        self.report(SubstitutionError::Malformed {
            expression: self.expression_text(expr.start, expr.end),
            reason: "too expensive to evaluate (work limit reached)".to_owned(),
            path: self.path.render(),
        });
        Exhausted
    }

    fn trim(&mut self, expr: &Expr, value: &str, pattern: &str, end: End, longest: bool) -> Result<String, Exhausted> {
        // envsubst leaves the value alone when the pattern is malformed.
        let Some(tokens) = parse_glob(pattern) else {
            return Ok(value.to_owned());
        };
        match match_len(&tokens, value, end, longest, &mut self.session.budget) {
            Ok(Some(Matched::Chars(count))) => Ok(cut(value, count, end)),
            Ok(Some(Matched::Splits(character))) => Ok(self.splits(expr, character)),
            Ok(None) => Ok(value.to_owned()),
            Err(Exhausted) => Err(self.exhaust(expr)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blueprint::substitution::fixtures::{check_ok, malformed, too_deep, too_large, undefined, vars};
    use crate::blueprint::substitution::parse::MISSING_CLOSE;
    use crate::blueprint::substitution::{substitute_str, substitute_tree};
    use serde_json::json;

    #[test]
    fn defaults() {
        check_ok(&[
            ("${A:-d}", "alpha"),
            ("${UNSET:-d}", "d"),
            ("${EMPTY:-d}", ""),
            ("${A:=d}", "alpha"),
            ("${UNSET:=d}", "d"),
            ("${EMPTY:=d}", ""),
            ("${A=d}", "alpha"),
            ("${UNSET=d}", "d"),
            ("${EMPTY=d}", ""),
            ("${UNSET:-}", ""),
            ("${UNSET:=}", ""),
            ("${UNSET=}", ""),
            ("${UNSET:-a b:c/d#e%f}", "a b:c/d#e%f"),
            ("${UNSET:--1}", "-1"),
            ("${UNSET:-3}", "3"),
            ("${UNSET==x}", "=x"),
            ("${UNSET:-{x}}", "{x}"),
            ("${UNSET:-$}", "$"),
            ("${UNSET:-$A}", "$A"),
            ("${UNSET:-$${A}}", "${A}"),
            ("${UNSET:-${A}}", "alpha"),
            ("${UNSET:-x${A}y}", "xalphay"),
            ("${UNSET:-${A^^}}", "ALPHA"),
            ("${UNSET:-${OTHER:-deep}}", "deep"),
            ("${A:-${EMPTY}}", "alpha"),
        ]);
    }

    #[test]
    fn length() {
        // Go's len counts bytes: `héllo wörld` is 13.
        check_ok(&[("${#A}", "5"), ("${#U}", "13"), ("${#EMPTY}", "0"), ("n=${#Z}", "n=15")]);
    }

    #[test]
    fn malformed_expression_is_quoted_briefly() {
        let input = format!("${{X:-{}", "y".repeat(1000));
        let errors = substitute_str(&input, &vars(), "p").unwrap_err();
        let expected = format!("${{X:-{}…", "y".repeat(80 - 5));
        assert_eq!(errors, vec![malformed(&expected, MISSING_CLOSE, "p")]);
    }

    #[test]
    fn undefined_variables() {
        let rows: &[(&str, &[&str])] = &[
            ("${MISSING}", &["MISSING"]),
            ("${MISSING^^}", &["MISSING"]),
            ("${#MISSING}", &["MISSING"]),
            ("${MISSING:1}", &["MISSING"]),
            ("${MISSING#a}", &["MISSING"]),
            ("${MISSING/a/b}", &["MISSING"]),
            ("${A:-${MISSING}}", &["MISSING"]),
            ("${A:1:${MISSING}}", &["MISSING"]),
            ("${M1:-${M2^}}${M3}", &["M2", "M3"]),
            ("${M1} ${M2} ${M1}", &["M1", "M2"]),
            ("${M2:0:${M1}}", &["M1", "M2"]),
        ];
        let vars = vars();
        for (input, names) in rows {
            let expected: Vec<_> = names.iter().map(|name| undefined(name, "p")).collect();
            assert_eq!(substitute_str(input, &vars, "p"), Err(expected), "{input}");
        }
    }

    #[test]
    fn output_size_is_bounded() {
        let mut vars = vars();
        vars.insert("BIG", "y".repeat(40_000));
        let rows = [
            ("x".repeat(MAX_STRING_BYTES), true),
            ("x".repeat(MAX_STRING_BYTES + 1), false),
            (format!("{}${{A}}", "x".repeat(MAX_STRING_BYTES - 5)), true),
            (format!("{}${{A}}", "x".repeat(MAX_STRING_BYTES - 4)), false),
            ("${BIG}${BIG}".into(), false),
            ("${BIG//y/yyyyyyyy}".into(), false),
            ("${BIG//${EMPTY}/zz}".into(), false),
            ("${UNSET:-${BIG}${BIG}}".into(), false),
            ("${BIG^^}${BIG:0:30000}".into(), false),
        ];
        for (input, fits) in rows {
            let result = substitute_str(&input, &vars, "p");
            if fits {
                assert_eq!(result.map(|s| s.len()), Ok(MAX_STRING_BYTES), "{}", quote(&input));
            } else {
                assert_eq!(result, Err(vec![too_large("p")]), "{}", quote(&input));
            }
        }
    }

    #[test]
    fn work_is_bounded() {
        let mut vars = vars();
        vars.insert("LONG", "a".repeat(60_000));
        let backtracking = format!("${{LONG##{}b}}", "*a".repeat(2_000));
        let many = "${#LONG}".repeat(20_000);
        for input in [backtracking, many] {
            let errors = substitute_str(&input, &vars, "p").unwrap_err();
            assert_eq!(errors.len(), 1);
            let SubstitutionError::Malformed { reason, .. } = &errors[0] else {
                panic!("{errors:?}");
            };
            assert!(reason.contains("work limit"), "{reason}");
        }
        // A glob that needs no backtracking stays cheap on the same value.
        assert_eq!(substitute_str("${LONG##*a}", &vars, "p"), Ok(String::new()));
        assert_eq!(substitute_str("${LONG%a*}", &vars, "p").map(|s| s.len()), Ok(59_999));
    }

    #[test]
    fn tree_substitutes_values_and_keys() {
        let spec = json!({
            "backend": {"gcs": {"bucket": "b", "prefix": "${A}/${FILE%%.*}"}},
            "${A}-key": ["${A^^}", 1, 2.5, true, null, {"k": "$${A}"}],
            "n": 3,
        });
        let expected = json!({
            "backend": {"gcs": {"bucket": "b", "prefix": "alpha/bash"}},
            "alpha-key": ["ALPHA", 1, 2.5, true, null, {"k": "${A}"}],
            "n": 3,
        });
        assert_eq!(substitute_tree(&spec, &vars(), "spec"), Ok(expected));
        assert_eq!(substitute_tree(&json!(42), &vars(), "spec"), Ok(json!(42)));
        assert_eq!(substitute_tree(&json!("${A}"), &vars(), "spec"), Ok(json!("alpha")));
    }

    #[test]
    fn tree_reports_every_error_with_its_path() {
        let spec = json!({
            "backend": {"gcs": {"prefix": "${TEAM}/x"}},
            "task": {"params": [{"name": "ok", "value": "${A.B} ${TEAM}"}]},
            "${KEYVAR}": "${KEYVAR}-${OTHER}",
        });
        let errors = substitute_tree(&spec, &vars(), "spec").unwrap_err();
        assert_eq!(
            errors,
            vec![
                undefined("KEYVAR", "spec.${KEYVAR}"),
                undefined("OTHER", "spec.${KEYVAR}"),
                undefined("TEAM", "spec.backend.gcs.prefix"),
                malformed(
                    "${A.B}",
                    "invalid character '.' in variable name",
                    "spec.task.params[0].value"
                ),
                undefined("TEAM", "spec.task.params[0].value"),
            ]
        );
    }

    #[test]
    fn tree_with_empty_root_path() {
        let errors = substitute_tree(&json!({"a": ["${M}"]}), &vars(), "").unwrap_err();
        assert_eq!(errors, vec![undefined("M", "a[0]")]);
    }

    #[test]
    fn tree_key_collisions() {
        let spec = json!({"outer": {"${A}": 1, "alpha": 2, "${UNSET:-alpha}": 3}});
        let errors = substitute_tree(&spec, &vars(), "spec").unwrap_err();
        let reason = |key: &str| format!("keys '${{A}}' and '{key}' both resolve to 'alpha'");
        assert_eq!(
            errors,
            vec![
                malformed("${UNSET:-alpha}", &reason("${UNSET:-alpha}"), "spec.outer"),
                malformed("alpha", &reason("alpha"), "spec.outer"),
            ]
        );
        // A key as written ("!" sorts before "$"), then one that a substitution makes the same.
        let errors = substitute_tree(&json!({"!": 1, "${UNSET:-!}": 2}), &vars(), "").unwrap_err();
        let reason = "keys '!' and '${UNSET:-!}' both resolve to '!'";
        assert_eq!(errors, vec![malformed("${UNSET:-!}", reason, "")]);
    }

    fn nested_arrays(levels: usize, leaf: &str) -> Value {
        let mut value = json!(leaf);
        for _ in 0..levels {
            value = Value::Array(vec![value]);
        }
        value
    }

    #[test]
    fn tree_depth_is_bounded() {
        let vars = vars();
        let deepest = nested_arrays(MAX_TREE_DEPTH, "${A}");
        let expected = nested_arrays(MAX_TREE_DEPTH, "alpha");
        assert_eq!(substitute_tree(&deepest, &vars, "spec"), Ok(expected));
        let path = format!("spec{}", "[0]".repeat(MAX_TREE_DEPTH));
        let too_deep_tree = nested_arrays(MAX_TREE_DEPTH + 1, "${A}");
        assert_eq!(
            substitute_tree(&too_deep_tree, &vars, "spec"),
            Err(vec![too_deep(&path)])
        );
    }

    #[test]
    fn tree_stops_after_the_work_limit() {
        let mut vars = vars();
        vars.insert("LONG", "a".repeat(60_000));
        let expensive = format!("${{LONG##{}b}}", "*a".repeat(2_000));
        let spec = json!({"a": expensive, "b": expensive, "c": "${MISSING}"});
        let errors = substitute_tree(&spec, &vars, "spec").unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].path(), "spec.a");
    }
}
