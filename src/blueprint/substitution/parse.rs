//! The parser: a string to its syntax tree, with the errors of malformed expressions.

use super::MAX_NESTING;
use super::syntax::{Case, End, Expr, Op, Piece, ReplaceMode, Word};
use crate::report::escaped;

pub(super) const MISSING_CLOSE: &str = "missing closing '}'";

pub(super) enum ParseError {
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
    pub(super) fn end(&self, src: &str) -> usize {
        match self {
            ParseError::TooDeep => src.len(),
            ParseError::Malformed { at, .. } => src
                .get(*at..)
                .and_then(|rest| rest.find('}'))
                .map_or(src.len(), |offset| at + offset + 1),
        }
    }
}

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
pub(super) fn parse_template(src: &str) -> Word {
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
        escaped(c.unwrap_or(char::REPLACEMENT_CHARACTER))
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

#[cfg(test)]
mod tests {
    use crate::blueprint::substitution::fixtures::{check_ok, malformed, too_deep, vars};
    use crate::blueprint::substitution::{MAX_NESTING, substitute_str};

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
}
