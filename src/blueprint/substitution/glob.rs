//! Globs for `#`, `##`, `%`, `%%`: the shortest or longest prefix or suffix a shell glob
//! matches.

use std::iter::Peekable;
use std::str::Chars;

use super::eval::Exhausted;
use super::syntax::End;

pub(super) enum Token {
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
pub(super) fn parse_glob(pattern: &str) -> Option<Vec<Token>> {
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

/// What a trim's glob matched.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Matched {
    /// That many characters, from the trimmed end.
    Chars(usize),
    /// Part of this character's bytes: Go's trims try every byte length, and a partial
    /// character reads as U+FFFD to `?`, `*` and `[^…]`, so envsubst would cut it in two.
    Splits(char),
}

/// The shortest (or longest) non-empty prefix (or suffix) of `text` that the glob matches,
/// tried at every byte length as envsubst does (`path.Match` on `s[:n]`). envsubst never
/// considers the empty match, so `${X#*}` drops one byte. Runs the glob as an NFA over the
/// characters, so time is at most bytes × tokens, charged to `budget`.
pub(super) fn match_len(
    tokens: &[Token],
    text: &str,
    end: End,
    longest: bool,
    budget: &mut u64,
) -> Result<Option<Matched>, Exhausted> {
    let (tokens, chars): (Vec<&Token>, Box<dyn Iterator<Item = char>>) = match end {
        End::Prefix => (tokens.iter().collect(), Box::new(text.chars())),
        End::Suffix => (tokens.iter().rev().collect(), Box::new(text.chars().rev())),
    };
    let mut nfa = Nfa::new(tokens);
    let mut best = None;
    for (consumed, c) in (1..).zip(chars) {
        let cost = (nfa.active.len() as u64 + 1) * c.len_utf8() as u64;
        *budget = budget.checked_sub(cost).ok_or(Exhausted)?;
        if c.len_utf8() > 1 && nfa.accepts_part_of(c) {
            best = Some(Matched::Splits(c));
            if !longest {
                break;
            }
        }
        if !nfa.step(c) {
            break;
        }
        if nfa.accepts() {
            best = Some(Matched::Chars(consumed));
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

    /// Whether the glob, having matched the text before `c`, matches it followed by the first
    /// byte of `c`, or its first two, … each of which Go decodes as U+FFFD. The live states
    /// are left as they were, for `c` itself.
    fn accepts_part_of(&mut self, c: char) -> bool {
        let mut states = self.active.clone();
        for _ in 1..c.len_utf8() {
            self.generation += 1;
            self.next.clear();
            for &state in &states {
                match self.tokens.get(state) {
                    Some(Token::Star) => self.add(state),
                    Some(token) if token.matches(char::REPLACEMENT_CHARACTER) => self.add(state + 1),
                    _ => {}
                }
            }
            if self.accepts() {
                return true;
            }
            std::mem::swap(&mut states, &mut self.next);
        }
        false
    }

    fn accepts(&self) -> bool {
        self.seen.get(self.tokens.len()) == Some(&self.generation)
    }
}

#[cfg(test)]
mod tests {
    use crate::blueprint::substitution::fixtures::check_ok;

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
            ("${U#h??}", "lo wörld"),
            ("${U%???}", "héllo wö"),
            ("${U%?????}", "héllo "),
            ("${U%ö*}", "héllo w"),
            ("${U%%l*}", "hé"),
            ("${U#[é-ü]}", "héllo wörld"),
            ("${U%%[ö]*}", "héllo w"),
            ("${EMPTY#*}", ""),
        ]);
    }

    /// envsubst tries every byte length, and to `?`, `*` and `[^…]` a partial character is
    /// U+FFFD: it would cut these characters in two (`${CAPS#*}` drops the first byte of `É`).
    #[test]
    fn a_trim_inside_a_character_is_named() {
        crate::blueprint::substitution::fixtures::check_splits(&[
            ("${CAPS#*}", 'É'),
            ("${U#h?}", 'é'),
            ("${U#h[^x]}", 'é'),
            ("${U%????}", 'ö'),
            ("${CAPS##[^É]}", 'É'),
        ]);
    }
}
