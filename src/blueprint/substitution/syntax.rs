//! The syntax tree the parser builds and the evaluator walks.

use super::parse::ParseError;

/// A run of text and expressions: a whole string, or one argument of an operator.
pub(super) type Word = Vec<Piece>;

pub(super) enum Piece {
    Text(String),
    Expr(Box<Expr>),
    /// A malformed expression in the top-level string; parsing went on after it.
    Bad(ParseError),
}

pub(super) struct Expr {
    pub(super) name: String,
    pub(super) op: Op,
    /// Byte range of the expression in the source string, for error messages.
    pub(super) start: usize,
    pub(super) end: usize,
}

pub(super) enum Op {
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
pub(super) enum Case {
    Upper,
    Lower,
    UpperFirst,
    LowerFirst,
}

#[derive(Clone, Copy)]
pub(super) enum End {
    Prefix,
    Suffix,
}

#[derive(Clone, Copy)]
pub(super) enum ReplaceMode {
    First,
    All,
    Prefix,
    Suffix,
}

impl Op {
    /// The argument words, in source order.
    pub(super) fn args(&self) -> (Option<&Word>, Option<&Word>) {
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
