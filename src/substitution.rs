//! `${VAR}` substitution in blueprint values (SPEC §5.3).
//!
//! A port of the expansion Stash runs on BackupBlueprints, gomodules.xyz/envsubst v0.2.0 (a fork
//! of drone/envsubst). It applies to every string value and map key of a JSON tree, never to
//! serialized text. Where this port departs from envsubst on purpose:
//! - only `${NAME}` is a variable and names are ASCII `[A-Za-z_][A-Za-z0-9_]*`; `$$` means `$`
//!   everywhere, arguments included; a backslash escapes only in replace arguments (`\/`, `\\`);
//! - a defined but empty variable keeps its value under every default form, and an empty default
//!   (`${X:-}`) is allowed;
//! - lengths, offsets and case changes count characters, not bytes;
//! - `%`/`%%` match the glob against suffixes instead of reversing the pattern text, so classes
//!   and escapes work there too;
//! - `${X:pos:-n}` stops n characters before the end (as bash does) instead of panicking;
//! - forms envsubst quietly treats as "value, or the argument when empty" (`:?`, `:+`, `^,` …)
//!   are errors, and so is a replace pattern that contains `}`;
//! - every problem in the tree is reported with its JSON path, and all work is bounded.

use std::collections::BTreeMap;
use std::fmt;
use std::iter::Peekable;
use std::str::Chars;

use crate::case_mapping::{to_lower, to_upper};
use serde_json::{Map, Value};

pub type Variables = BTreeMap<String, String>;

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

const MISSING_CLOSE: &str = "missing closing '}'";

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
    /// Defaults nested deeper than MAX_NESTING, or a JSON tree deeper than MAX_TREE_DEPTH.
    TooDeep { path: String },
    /// A substituted string would exceed MAX_STRING_BYTES.
    TooLarge { path: String },
    /// The substituted tree would exceed MAX_TREE_BYTES; `path` is where it was crossed.
    TreeTooLarge { path: String },
}

impl SubstitutionError {
    pub fn path(&self) -> &str {
        match self {
            Self::Undefined { path, .. }
            | Self::Malformed { path, .. }
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
    let output = session.substitute(input, path);
    session.finish(output.unwrap_or_default())
}

/// Substitute every string value and map key of `value`; `path` is the path of `value` itself
/// (e.g. "spec"). Object members append ".key" (the key as written, before substitution), array
/// items "[i]".
pub fn substitute_tree(value: &Value, vars: &Variables, path: &str) -> Result<Value, Vec<SubstitutionError>> {
    let mut session = Session::new(vars);
    let output = session.walk(value, path, 1);
    session.finish(output)
}

// ---------------------------------------------------------------------------------------------
// Syntax tree
// ---------------------------------------------------------------------------------------------

/// A run of text and expressions: a whole string, or one argument of an operator.
type Word = Vec<Piece>;

enum Piece {
    Text(String),
    Expr(Box<Expr>),
    /// A malformed expression in the top-level string; parsing went on after it.
    Bad(ParseError),
}

struct Expr {
    name: String,
    op: Op,
    /// Byte range of the expression in the source string, for error messages.
    start: usize,
    end: usize,
}

enum Op {
    Value,
    Length,
    /// `=`, `:=` and `:-`, which behave the same.
    Default(Word),
    Case(Case),
    Substring {
        offset: Word,
        length: Option<Word>,
    },
    Trim {
        end: End,
        longest: bool,
        pattern: Word,
    },
    Replace {
        mode: ReplaceMode,
        pattern: Word,
        replacement: Option<Word>,
    },
}

#[derive(Clone, Copy)]
enum Case {
    Upper,
    Lower,
    UpperFirst,
    LowerFirst,
}

#[derive(Clone, Copy)]
enum End {
    Prefix,
    Suffix,
}

#[derive(Clone, Copy)]
enum ReplaceMode {
    First,
    All,
    Prefix,
    Suffix,
}

impl Op {
    /// The argument words, in source order.
    fn args(&self) -> (Option<&Word>, Option<&Word>) {
        match self {
            Op::Value | Op::Length | Op::Case(_) => (None, None),
            Op::Default(word) => (Some(word), None),
            Op::Substring { offset, length } => (Some(offset), length.as_ref()),
            Op::Trim { pattern, .. } => (Some(pattern), None),
            Op::Replace {
                pattern, replacement, ..
            } => (Some(pattern), replacement.as_ref()),
        }
    }
}

enum ParseError {
    /// The expression starting at byte `start` is malformed; the problem was found at `at`.
    Malformed {
        start: usize,
        at: usize,
        reason: String,
    },
    TooDeep,
}

impl ParseError {
    /// Where the bad expression most likely ends: past the next `}`.
    fn end(&self, src: &str) -> usize {
        match self {
            ParseError::TooDeep => src.len(),
            ParseError::Malformed { at, .. } => src
                .get(*at..)
                .and_then(|rest| rest.find('}'))
                .map_or(src.len(), |offset| at + offset + 1),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

/// What ends a word, and whether `\/` and `\\` are escapes in it.
#[derive(Clone, Copy)]
struct Delimiters {
    stop: &'static [u8],
    backslash: bool,
}

const TOP_LEVEL: Delimiters = Delimiters {
    stop: b"",
    backslash: false,
};
const UNTIL_CLOSE: Delimiters = Delimiters {
    stop: b"}",
    backslash: false,
};
const OFFSET: Delimiters = Delimiters {
    stop: b":}",
    backslash: false,
};
const REPLACE_PATTERN: Delimiters = Delimiters {
    stop: b"/}",
    backslash: true,
};
const REPLACEMENT: Delimiters = Delimiters {
    stop: b"}",
    backslash: true,
};

/// Characters that start an operator; right after `${` they mean the name is missing.
const OPERATOR_BYTES: &[u8] = b":=-+?^,/#%@";

#[derive(Default)]
struct WordBuilder {
    pieces: Word,
    text: String,
}

impl WordBuilder {
    fn push(&mut self, piece: Piece) {
        self.flush();
        self.pieces.push(piece);
    }

    fn flush(&mut self) {
        if !self.text.is_empty() {
            self.pieces.push(Piece::Text(std::mem::take(&mut self.text)));
        }
    }

    fn finish(mut self) -> Word {
        self.flush();
        self.pieces
    }
}

/// A recursive-descent parser over `src`. Every delimiter is ASCII, so positions it stops at are
/// always character boundaries.
struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

/// Parses a whole string. Malformed expressions become `Piece::Bad` and parsing resumes after
/// them, so one pass finds every problem.
fn parse_template(src: &str) -> Word {
    let mut parser = Parser { src, pos: 0 };
    let mut word = WordBuilder::default();
    while parser.peek().is_some() {
        if !parser.at_expr() {
            parser.text(&mut word, TOP_LEVEL);
            continue;
        }
        match parser.parse_expr(0) {
            Ok(expr) => word.push(Piece::Expr(Box::new(expr))),
            Err(error) => {
                parser.pos = error.end(src);
                word.push(Piece::Bad(error));
            }
        }
    }
    word.finish()
}

impl Parser<'_> {
    fn byte_at(&self, at: usize) -> Option<u8> {
        self.src.as_bytes().get(at).copied()
    }

    fn peek(&self) -> Option<u8> {
        self.byte_at(self.pos)
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.pos += 1;
        }
        found
    }

    fn at_escaped_dollar(&self) -> bool {
        self.peek() == Some(b'$') && self.byte_at(self.pos + 1) == Some(b'$')
    }

    fn at_expr(&self) -> bool {
        self.peek() == Some(b'$') && self.byte_at(self.pos + 1) == Some(b'{')
    }

    /// The character at the current position, escaped for an error message.
    fn current_char(&self) -> String {
        let c = self.src.get(self.pos..).and_then(|rest| rest.chars().next());
        c.unwrap_or(char::REPLACEMENT_CHARACTER).escape_debug().to_string()
    }

    fn malformed(&self, start: usize, reason: impl Into<String>) -> ParseError {
        ParseError::Malformed {
            start,
            at: self.pos,
            reason: reason.into(),
        }
    }

    /// Consumes one escape, or a run of plain text up to the next special byte.
    fn text(&mut self, word: &mut WordBuilder, delimiters: Delimiters) {
        if self.at_escaped_dollar() {
            word.text.push('$');
            self.pos += 2;
            return;
        }
        if delimiters.backslash
            && self.peek() == Some(b'\\')
            && let Some(escaped @ (b'/' | b'\\')) = self.byte_at(self.pos + 1)
        {
            word.text.push(char::from(escaped));
            self.pos += 2;
            return;
        }
        let start = self.pos;
        self.pos += 1;
        while let Some(byte) = self.peek() {
            let special = byte == b'$' || (delimiters.backslash && byte == b'\\');
            if special || delimiters.stop.contains(&byte) {
                break;
            }
            self.pos += 1;
        }
        word.text.push_str(self.src.get(start..self.pos).unwrap_or_default());
    }

    /// Parses an argument up to one of its stop bytes, which is left unconsumed. `start` is the
    /// expression the argument belongs to, `depth` its nesting.
    fn parse_word(&mut self, delimiters: Delimiters, depth: usize, start: usize) -> Result<Word, ParseError> {
        let mut word = WordBuilder::default();
        loop {
            match self.peek() {
                None => return Err(self.malformed(start, MISSING_CLOSE)),
                Some(byte) if delimiters.stop.contains(&byte) => return Ok(word.finish()),
                _ if self.at_expr() => {
                    let expr = self.parse_expr(depth + 1)?;
                    word.push(Piece::Expr(Box::new(expr)));
                }
                _ => self.text(&mut word, delimiters),
            }
        }
    }

    /// Parses `${...}` at the current position; `depth` counts the expressions around it.
    fn parse_expr(&mut self, depth: usize) -> Result<Expr, ParseError> {
        if depth > MAX_NESTING {
            return Err(ParseError::TooDeep);
        }
        let start = self.pos;
        self.pos += 2;
        let length = self.eat(b'#');
        let name = self.parse_name(start)?;
        let op = if length {
            self.close(start)?;
            Op::Length
        } else {
            self.parse_op(start, depth)?
        };
        Ok(Expr {
            name,
            op,
            start,
            end: self.pos,
        })
    }

    fn parse_name(&mut self, start: usize) -> Result<String, ParseError> {
        let name_start = self.pos;
        match self.peek() {
            None => return Err(self.malformed(start, MISSING_CLOSE)),
            Some(byte) if byte.is_ascii_alphabetic() || byte == b'_' => {}
            Some(byte) if byte == b'}' || OPERATOR_BYTES.contains(&byte) => {
                return Err(self.malformed(start, "empty variable name"));
            }
            Some(_) => {
                let reason = format!("invalid character '{}' at start of variable name", self.current_char());
                return Err(self.malformed(start, reason));
            }
        }
        while matches!(self.peek(), Some(byte) if byte.is_ascii_alphanumeric() || byte == b'_') {
            self.pos += 1;
        }
        Ok(self.src.get(name_start..self.pos).unwrap_or_default().to_owned())
    }

    /// Parses what follows the name, through the closing `}`.
    fn parse_op(&mut self, start: usize, depth: usize) -> Result<Op, ParseError> {
        let Some(byte) = self.peek() else {
            return Err(self.malformed(start, MISSING_CLOSE));
        };
        match byte {
            b'}' => {
                self.pos += 1;
                Ok(Op::Value)
            }
            b':' => match self.byte_at(self.pos + 1) {
                Some(b'=' | b'-') => {
                    self.pos += 2;
                    self.parse_default(start, depth)
                }
                Some(b'?' | b'+') => Err(self.unsupported(start, 2)),
                _ => {
                    self.pos += 1;
                    self.parse_substring(start, depth)
                }
            },
            b'=' => {
                self.pos += 1;
                self.parse_default(start, depth)
            }
            b'-' | b'+' | b'?' => Err(self.unsupported(start, 1)),
            b'^' | b',' => self.parse_case(start),
            b'#' | b'%' => self.parse_trim(start, depth),
            b'/' => self.parse_replace(start, depth),
            b'@' => Err(self.malformed(start, "unknown operator '@'")),
            _ => {
                let reason = format!("invalid character '{}' in variable name", self.current_char());
                Err(self.malformed(start, reason))
            }
        }
    }

    /// Bash operators envsubst parses but does not implement.
    fn unsupported(&self, start: usize, len: usize) -> ParseError {
        let op = self.src.get(self.pos..self.pos + len).unwrap_or_default();
        self.malformed(start, format!("unsupported operator '{op}'"))
    }

    fn close(&mut self, start: usize) -> Result<(), ParseError> {
        if self.eat(b'}') {
            return Ok(());
        }
        let reason = match self.peek() {
            None => MISSING_CLOSE.to_owned(),
            Some(_) => format!("unexpected character '{}', expected '}}'", self.current_char()),
        };
        Err(self.malformed(start, reason))
    }

    fn parse_default(&mut self, start: usize, depth: usize) -> Result<Op, ParseError> {
        let default = self.parse_word(UNTIL_CLOSE, depth, start)?;
        self.close(start)?;
        Ok(Op::Default(default))
    }

    fn parse_substring(&mut self, start: usize, depth: usize) -> Result<Op, ParseError> {
        let offset = self.parse_word(OFFSET, depth, start)?;
        if offset.is_empty() {
            return Err(self.malformed(start, "missing substring offset"));
        }
        let mut length = None;
        if self.eat(b':') {
            let word = self.parse_word(UNTIL_CLOSE, depth, start)?;
            if word.is_empty() {
                return Err(self.malformed(start, "missing substring length"));
            }
            length = Some(word);
        }
        self.close(start)?;
        Ok(Op::Substring { offset, length })
    }

    fn parse_case(&mut self, start: usize) -> Result<Op, ParseError> {
        let op_start = self.pos;
        while matches!(self.peek(), Some(b'^' | b',')) {
            self.pos += 1;
        }
        let case = match self.src.get(op_start..self.pos).unwrap_or_default() {
            "^^" => Case::Upper,
            ",," => Case::Lower,
            "^" => Case::UpperFirst,
            "," => Case::LowerFirst,
            other => return Err(self.malformed(start, format!("unknown operator '{other}'"))),
        };
        self.close(start)?;
        Ok(Op::Case(case))
    }

    fn parse_trim(&mut self, start: usize, depth: usize) -> Result<Op, ParseError> {
        let (mark, end) = match self.peek() {
            Some(b'%') => (b'%', End::Suffix),
            _ => (b'#', End::Prefix),
        };
        self.pos += 1;
        let longest = self.eat(mark);
        let pattern = self.parse_word(UNTIL_CLOSE, depth, start)?;
        if pattern.is_empty() {
            return Err(self.malformed(start, "missing pattern"));
        }
        self.close(start)?;
        Ok(Op::Trim { end, longest, pattern })
    }

    fn parse_replace(&mut self, start: usize, depth: usize) -> Result<Op, ParseError> {
        self.pos += 1;
        let mode = match self.peek() {
            Some(b'/') => ReplaceMode::All,
            Some(b'#') => ReplaceMode::Prefix,
            Some(b'%') => ReplaceMode::Suffix,
            _ => ReplaceMode::First,
        };
        if !matches!(mode, ReplaceMode::First) {
            self.pos += 1;
        }
        let pattern = self.parse_word(REPLACE_PATTERN, depth, start)?;
        if pattern.is_empty() {
            return Err(self.malformed(start, "missing pattern"));
        }
        if !self.eat(b'/') {
            return Err(self.malformed(start, "missing '/' after the pattern"));
        }
        // `${X/a/}` has no replacement, which is not the same as an empty one for `/#` and `/%`.
        let replacement = match self.peek() {
            Some(b'}') => None,
            _ => Some(self.parse_word(REPLACEMENT, depth, start)?),
        };
        self.close(start)?;
        Ok(Op::Replace {
            mode,
            pattern,
            replacement,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------

/// The work budget ran out; the error is already recorded.
struct Exhausted;

/// State shared by every string of one call.
struct Session<'v> {
    vars: &'v Variables,
    errors: Vec<SubstitutionError>,
    budget: u64,
    exhausted: bool,
    /// Bytes of substituted strings so far (MAX_TREE_BYTES).
    output: usize,
}

impl<'v> Session<'v> {
    fn new(vars: &'v Variables) -> Self {
        Session {
            vars,
            errors: Vec::new(),
            budget: WORK_BUDGET,
            exhausted: false,
            output: 0,
        }
    }

    fn finish<T>(self, output: T) -> Result<T, Vec<SubstitutionError>> {
        if self.errors.is_empty() {
            Ok(output)
        } else {
            Err(dedup(self.errors))
        }
    }

    /// Substitutes one string; None when it has errors (recorded) or the budget is gone.
    fn substitute(&mut self, input: &str, path: &str) -> Option<String> {
        let output = self.substitute_unbounded(input, path)?;
        self.output += output.len();
        if self.output > MAX_TREE_BYTES {
            self.errors
                .push(SubstitutionError::TreeTooLarge { path: path.to_owned() });
            self.exhausted = true;
            return None;
        }
        Some(output)
    }

    fn substitute_unbounded(&mut self, input: &str, path: &str) -> Option<String> {
        if self.exhausted {
            return None;
        }
        if !input.contains('$') {
            if input.len() > MAX_STRING_BYTES {
                self.errors.push(SubstitutionError::TooLarge { path: path.to_owned() });
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
    fn walk(&mut self, value: &Value, path: &str, depth: usize) -> Value {
        match value {
            Value::String(text) => self.substitute(text, path).map_or(Value::Null, Value::String),
            Value::Array(_) | Value::Object(_) if depth > MAX_TREE_DEPTH => {
                self.errors.push(SubstitutionError::TooDeep { path: path.to_owned() });
                Value::Null
            }
            Value::Array(items) => {
                let items = items.iter().enumerate();
                Value::Array(
                    items
                        .map(|(i, item)| self.walk(item, &format!("{path}[{i}]"), depth + 1))
                        .collect(),
                )
            }
            Value::Object(members) => Value::Object(self.walk_object(members, path, depth)),
            scalar => scalar.clone(),
        }
    }

    fn walk_object(&mut self, members: &Map<String, Value>, path: &str, depth: usize) -> Map<String, Value> {
        let mut out = Map::new();
        let mut written_as: BTreeMap<String, String> = BTreeMap::new();
        for (key, child) in members {
            let child_path = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            let resolved = self.substitute(key, &child_path);
            let resolved = resolved.filter(|resolved| match written_as.get(resolved) {
                Some(first) => {
                    self.errors.push(key_collision(first, key, resolved, path));
                    false
                }
                None => true,
            });
            let child = self.walk(child, &child_path, depth + 1);
            if let Some(resolved) = resolved {
                written_as.insert(resolved.clone(), key.clone());
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
    let keep: Vec<bool> = errors
        .iter()
        .map(|error| {
            let (kind, a, b, c) = error.key();
            let key = format!("{kind} {}:{a}{}:{b}{c}", a.len(), b.len());
            seen.insert(key, String::new()).is_none()
        })
        .collect();
    drop(seen);
    errors
        .into_iter()
        .zip(keep)
        .filter_map(|(error, keep)| keep.then_some(error))
        .collect()
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
    path: &'e str,
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
                path: self.path.to_owned(),
            });
        }
    }

    fn report_parse_error(&mut self, error: &ParseError) {
        let path = self.path.to_owned();
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
        let size = [value, first.as_ref(), second.as_ref()]
            .into_iter()
            .flatten()
            .map(String::len);
        self.charge(expr, size.sum::<usize>() as u64 + 1)?;

        let Some(value) = value else {
            return Ok(self.undefined(expr, first));
        };
        let first = first.as_deref().unwrap_or_default();
        let second = second.as_deref();
        Ok(match &expr.op {
            Op::Value | Op::Default(_) => value.clone(),
            Op::Length => value.chars().count().to_string(),
            Op::Case(case) => change_case(value, *case),
            Op::Substring { .. } => substring(value, first, second),
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
                    path: self.path.to_owned(),
                });
                String::new()
            }
        }
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
            path: self.path.to_owned(),
        });
        Exhausted
    }

    fn trim(&mut self, expr: &Expr, value: &str, pattern: &str, end: End, longest: bool) -> Result<String, Exhausted> {
        // envsubst leaves the value alone when the pattern is malformed.
        let Some(tokens) = parse_glob(pattern) else {
            return Ok(value.to_owned());
        };
        match match_len(&tokens, value, end, longest, &mut self.session.budget) {
            Ok(Some(count)) => Ok(cut(value, count, end)),
            Ok(None) => Ok(value.to_owned()),
            Err(Exhausted) => Err(self.exhaust(expr)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// String operators (drone funcs.go)
// ---------------------------------------------------------------------------------------------

fn change_case(value: &str, case: Case) -> String {
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

/// `${X:offset}` and `${X:offset:length}`, in characters. As in envsubst, an argument that is
/// not an integer leaves the value alone, a negative offset counts from the end, and ranges past
/// the end are cut short. A negative length ends that many characters before the end (bash).
fn substring(value: &str, offset: &str, length: Option<&str>) -> String {
    let Ok(offset) = offset.parse::<i64>() else {
        return value.to_owned();
    };
    let count = i64::try_from(value.chars().count()).unwrap_or(i64::MAX);
    let start = if offset < 0 {
        count.saturating_add(offset).max(0)
    } else {
        offset
    };
    let end = match length.map(str::parse::<i64>) {
        None => count,
        Some(Err(_)) => return value.to_owned(),
        Some(Ok(length)) if length < 0 => count.saturating_add(length),
        Some(Ok(length)) => start.saturating_add(length).min(count),
    };
    if start >= count || end <= start {
        return String::new();
    }
    let skip = usize::try_from(start).unwrap_or(usize::MAX);
    let take = usize::try_from(end - start).unwrap_or(0);
    value.chars().skip(skip).take(take).collect()
}

/// `${X/a/b}` and friends. The pattern is a literal string, as in envsubst, and an empty one
/// matches before every character (Go's strings.Replace).
fn replace(value: &str, pattern: &str, replacement: Option<&str>, mode: ReplaceMode) -> String {
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
fn cut(value: &str, count: usize, end: End) -> String {
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

// ---------------------------------------------------------------------------------------------
// Globs for `#`, `##`, `%`, `%%`
// ---------------------------------------------------------------------------------------------

enum Token {
    Char(char),
    AnyChar,
    Class { negated: bool, ranges: Vec<(char, char)> },
    Star,
}

impl Token {
    fn matches(&self, c: char) -> bool {
        match self {
            Token::Char(expected) => *expected == c,
            Token::AnyChar | Token::Star => true,
            Token::Class { negated, ranges } => ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated,
        }
    }
}

/// Reads a glob as Go's path.Match does (`*`, `?`, `[^a-z]`, `\` escapes), except that `*`
/// also matches `/` (drone's change). None when the pattern is malformed.
fn parse_glob(pattern: &str) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        let token = match c {
            '*' if matches!(tokens.last(), Some(Token::Star)) => continue,
            '*' => Token::Star,
            '?' => Token::AnyChar,
            '\\' => Token::Char(chars.next()?),
            '[' => parse_class(&mut chars)?,
            c => Token::Char(c),
        };
        tokens.push(token);
    }
    Some(tokens)
}

fn parse_class(chars: &mut Peekable<Chars<'_>>) -> Option<Token> {
    let negated = chars.next_if_eq(&'^').is_some();
    let mut ranges = Vec::new();
    loop {
        if !ranges.is_empty() && chars.next_if_eq(&']').is_some() {
            return Some(Token::Class { negated, ranges });
        }
        let lo = class_char(chars)?;
        let hi = if chars.next_if_eq(&'-').is_some() {
            class_char(chars)?
        } else {
            lo
        };
        ranges.push((lo, hi));
    }
}

fn class_char(chars: &mut Peekable<Chars<'_>>) -> Option<char> {
    match chars.next()? {
        '-' | ']' => None,
        '\\' => chars.next(),
        c => Some(c),
    }
}

/// The length in characters of the shortest (or longest) non-empty prefix (or suffix) of `text`
/// that the glob matches. envsubst never considers the empty match, so `${X#*}` drops one
/// character. Runs the glob as an NFA over the characters, so time is at most
/// characters × tokens, charged to `budget`.
fn match_len(
    tokens: &[Token],
    text: &str,
    end: End,
    longest: bool,
    budget: &mut u64,
) -> Result<Option<usize>, Exhausted> {
    let (tokens, chars): (Vec<&Token>, Box<dyn Iterator<Item = char>>) = match end {
        End::Prefix => (tokens.iter().collect(), Box::new(text.chars())),
        End::Suffix => (tokens.iter().rev().collect(), Box::new(text.chars().rev())),
    };
    let mut nfa = Nfa::new(tokens);
    let mut best = None;
    for (consumed, c) in (1..).zip(chars) {
        let cost = nfa.active.len() as u64 + 1;
        *budget = budget.checked_sub(cost).ok_or(Exhausted)?;
        if !nfa.step(c) {
            break;
        }
        if nfa.accepts() {
            best = Some(consumed);
            if !longest {
                break;
            }
        }
    }
    Ok(best)
}

/// Simulates a glob: state `i` means the first `i` tokens have matched.
struct Nfa<'t> {
    tokens: Vec<&'t Token>,
    active: Vec<usize>,
    next: Vec<usize>,
    /// The generation in which each state was last added, to add it once per step.
    seen: Vec<usize>,
    generation: usize,
}

impl<'t> Nfa<'t> {
    fn new(tokens: Vec<&'t Token>) -> Self {
        let seen = vec![0; tokens.len() + 1];
        let mut nfa = Nfa {
            tokens,
            active: Vec::new(),
            next: Vec::new(),
            seen,
            generation: 1,
        };
        nfa.add(0);
        std::mem::swap(&mut nfa.active, &mut nfa.next);
        nfa
    }

    fn add(&mut self, mut state: usize) {
        loop {
            match self.seen.get_mut(state) {
                Some(mark) if *mark != self.generation => *mark = self.generation,
                _ => return,
            }
            self.next.push(state);
            // A star may match nothing, so the state after it is live too.
            if !matches!(self.tokens.get(state), Some(Token::Star)) {
                return;
            }
            state += 1;
        }
    }

    /// Consumes `c`; false when no state is left.
    fn step(&mut self, c: char) -> bool {
        self.generation += 1;
        self.next.clear();
        let active = std::mem::take(&mut self.active);
        for &state in &active {
            match self.tokens.get(state) {
                Some(Token::Star) => self.add(state),
                Some(token) if token.matches(c) => self.add(state + 1),
                _ => {}
            }
        }
        self.active = active;
        std::mem::swap(&mut self.active, &mut self.next);
        !self.active.is_empty()
    }

    fn accepts(&self) -> bool {
        self.seen.get(self.tokens.len()) == Some(&self.generation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> Variables {
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

    fn undefined(name: &str, path: &str) -> SubstitutionError {
        SubstitutionError::Undefined {
            name: name.into(),
            path: path.into(),
        }
    }

    fn malformed(expression: &str, reason: &str, path: &str) -> SubstitutionError {
        SubstitutionError::Malformed {
            expression: expression.into(),
            reason: reason.into(),
            path: path.into(),
        }
    }

    fn too_deep(path: &str) -> SubstitutionError {
        SubstitutionError::TooDeep { path: path.into() }
    }

    fn too_large(path: &str) -> SubstitutionError {
        SubstitutionError::TooLarge { path: path.into() }
    }

    fn check_ok(rows: &[(&str, &str)]) {
        let vars = vars();
        for (input, expected) in rows {
            assert_eq!(substitute_str(input, &vars, "p"), Ok((*expected).to_owned()), "{input}");
        }
    }

    #[test]
    fn literal_text_and_escapes() {
        check_ok(&[
            ("plain text", "plain text"),
            ("", ""),
            ("${A}", "alpha"),
            ("x${A}y${A}", "xalphayalpha"),
            ("${lower_1}", "ok"),
            ("$A", "$A"),
            ("$", "$"),
            ("a$", "a$"),
            ("$1", "$1"),
            ("$ {A}", "$ {A}"),
            ("{A} }{", "{A} }{"),
            ("$$", "$"),
            ("$$$", "$$"),
            ("$$A", "$A"),
            ("$${A}", "${A}"),
            ("$$${A}", "$alpha"),
            ("some ${A}$${var$${A}$A${A}", "some alpha${var${A}$Aalpha"),
            (r"C:\dir\\x\/y", r"C:\dir\\x\/y"),
            ("http://example.com/${A}", "http://example.com/alpha"),
            ("日本${A}語", "日本alpha語"),
        ]);
    }

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
    fn case_operators() {
        check_ok(&[
            ("${A^}", "Alpha"),
            ("${A^^}", "ALPHA"),
            ("${CAPS,}", "éCOLE"),
            ("${CAPS,,}", "école"),
            ("${U^}", "Héllo wörld"),
            ("${U^^}", "HÉLLO WÖRLD"),
            ("${SZ^^}", "STRAßE"),
            ("${EMPTY^}", ""),
            ("${EMPTY,,}", ""),
        ]);
    }

    #[test]
    fn length() {
        check_ok(&[("${#A}", "5"), ("${#U}", "11"), ("${#EMPTY}", "0"), ("n=${#Z}", "n=15")]);
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
            ("${U:1:4}", "éllo"),
            ("${U:-5}", "héllo wörld"),
            ("${U:${NEG}}", "rld"),
        ]);
    }

    #[test]
    fn glob_trims() {
        check_ok(&[
            ("${FILE#*.}", "string.txt"),
            ("${FILE##*.}", "txt"),
            ("${FILE%.*}", "bash.string"),
            ("${FILE%%.*}", "bash"),
            ("${REL#*/}", "to/file"),
            ("${REL##*/}", "file"),
            ("${ABS#*/}", "path/to/file"),
            ("${ABS##*/}", "file"),
            ("${ABS%/*}", "/path/to"),
            ("${ABS%%/*}", ""),
            ("${FILE#nomatch}", "bash.string.txt"),
            ("${FILE%nomatch}", "bash.string.txt"),
            ("${FILE#bash.}", "string.txt"),
            ("${FILE#${PREFIX}}", "string.txt"),
            ("${FILE#b?sh}", ".string.txt"),
            ("${FILE#[abc]}", "ash.string.txt"),
            ("${FILE#[^b]}", "bash.string.txt"),
            ("${FILE#[^a]}", "ash.string.txt"),
            ("${FILE%[a-z]}", "bash.string.tx"),
            ("${FILE%%[.a-z]*}", ""),
            ("${FILE%[}", "bash.string.txt"),
            ("${FILE#[]}", "bash.string.txt"),
            ("${FILE#[a-]}", "bash.string.txt"),
            (r"${FILE#\}", "bash.string.txt"),
            (r"${STAR#\*}", "x"),
            (r"${STAR#[\*]}", "x"),
            ("${FILE#*}", "ash.string.txt"),
            ("${FILE##*}", ""),
            ("${FILE%*}", "bash.string.tx"),
            ("${FILE%%*}", ""),
            ("${FILE#*s*}", "h.string.txt"),
            ("${FILE##*s*}", ""),
            ("${FILE##*s?}", "ring.txt"),
            ("${U#h?}", "llo wörld"),
            ("${U%ö*}", "héllo w"),
            ("${U%%l*}", "hé"),
            ("${U#[é-ü]}", "héllo wörld"),
            ("${U%%[ö]*}", "héllo w"),
            ("${EMPTY#*}", ""),
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

    #[test]
    fn malformed_expressions() {
        let rows: &[(&str, &str, &str)] = &[
            ("${}", "${}", "empty variable name"),
            ("${:-x}", "${:-x}", "empty variable name"),
            ("${#}", "${#}", "empty variable name"),
            ("${X", "${X", "missing closing '}'"),
            ("a ${X:-b", "${X:-b", "missing closing '}'"),
            ("${X:-${A}", "${X:-${A}", "missing closing '}'"),
            ("${", "${", "missing closing '}'"),
            ("${A.B}", "${A.B}", "invalid character '.' in variable name"),
            ("${ X }", "${ X }", "invalid character ' ' at start of variable name"),
            ("${1X}", "${1X}", "invalid character '1' at start of variable name"),
            ("${é}", "${é}", "invalid character 'é' at start of variable name"),
            ("${X\n}", "${X\\n}", "invalid character '\\n' in variable name"),
            ("${X@}", "${X@}", "unknown operator '@'"),
            ("${X^,}", "${X^,}", "unknown operator '^,'"),
            ("${X^^^}", "${X^^^}", "unknown operator '^^^'"),
            ("${X:?msg}", "${X:?msg}", "unsupported operator ':?'"),
            ("${X:+v}", "${X:+v}", "unsupported operator ':+'"),
            ("${X-d}", "${X-d}", "unsupported operator '-'"),
            ("${X+d}", "${X+d}", "unsupported operator '+'"),
            ("${X?}", "${X?}", "unsupported operator '?'"),
            ("${#X:-a}", "${#X:-a}", "unexpected character ':', expected '}'"),
            ("${X^^x}", "${X^^x}", "unexpected character 'x', expected '}'"),
            ("${X:}", "${X:}", "missing substring offset"),
            ("${X::2}", "${X::2}", "missing substring offset"),
            ("${X:1:}", "${X:1:}", "missing substring length"),
            ("${X#}", "${X#}", "missing pattern"),
            ("${X%%}", "${X%%}", "missing pattern"),
            ("${X//}", "${X//}", "missing pattern"),
            ("${X///b}", "${X///b}", "missing pattern"),
            ("${X/a}", "${X/a}", "missing '/' after the pattern"),
            ("${A:-${B.C}}", "${B.C}", "invalid character '.' in variable name"),
        ];
        let vars = vars();
        for (input, expression, reason) in rows {
            let expected = vec![malformed(expression, reason, "p")];
            assert_eq!(substitute_str(input, &vars, "p"), Err(expected), "{input}");
        }
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
        ];
        for (error, message) in rows {
            assert_eq!(error.to_string(), message);
            assert_eq!(error.path(), "spec.x");
        }
    }

    fn nested_defaults(levels: usize, closed: bool) -> String {
        let mut input = "${A:-".repeat(levels);
        input.push('x');
        if closed {
            input.push_str(&"}".repeat(levels));
        }
        input
    }

    #[test]
    fn nesting_is_bounded() {
        let vars = vars();
        // The outer expression plus MAX_NESTING expressions inside defaults.
        let deepest = nested_defaults(MAX_NESTING + 1, true);
        assert_eq!(substitute_str(&deepest, &vars, "p"), Ok("alpha".into()));
        let too_deep_input = nested_defaults(MAX_NESTING + 2, true);
        assert_eq!(substitute_str(&too_deep_input, &vars, "p"), Err(vec![too_deep("p")]));
        for closed in [true, false] {
            let huge = nested_defaults(10_000, closed);
            assert_eq!(substitute_str(&huge, &vars, "p"), Err(vec![too_deep("p")]));
        }
    }

    #[test]
    fn output_size_is_bounded() {
        let mut vars = vars();
        vars.insert("BIG".into(), "y".repeat(40_000));
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
        vars.insert("LONG".into(), "a".repeat(60_000));
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
        vars.insert("LONG".into(), "a".repeat(60_000));
        let expensive = format!("${{LONG##{}b}}", "*a".repeat(2_000));
        let spec = json!({"a": expensive, "b": expensive, "c": "${MISSING}"});
        let errors = substitute_tree(&spec, &vars, "spec").unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].path(), "spec.a");
    }
}
