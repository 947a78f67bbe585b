//! The pattern's syntax tree, and the parser that builds it or says what is wrong.

use crate::report::escaped;

/// Deeper nesting of groups and repetitions than this is refused (regex-lite's limit too).
const MAX_NESTING: usize = 250;
/// The largest count in `{n}`, `{n,}` and `{n,m}`.
pub(super) const MAX_COUNT: u32 = 1000;

#[derive(Debug, Clone)]
pub(super) enum Node {
    Empty,
    /// One character from a set.
    Class(Class),
    Look(Look),
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Repeat {
        node: Box<Node>,
        min: u32,
        max: Option<u32>,
    },
}

/// A zero-width assertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Look {
    Start,
    End,
    WordBoundary,
    NotWordBoundary,
}

/// A set of characters as sorted, disjoint, non-adjacent ranges of code points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Class {
    pub(super) ranges: Vec<(u32, u32)>,
}

impl Class {
    fn new(ranges: Vec<(u32, u32)>) -> Class {
        let mut class = Class { ranges: Vec::new() };
        for (first, last) in ranges {
            class.add(first, last);
        }
        class
    }

    /// Adds `first..=last`, keeping the ranges sorted and merged (a class holds few ranges:
    /// inserting in place needs no sort code in policy.wasm).
    fn add(&mut self, mut first: u32, mut last: u32) {
        let ranges = &mut self.ranges;
        // The ranges that overlap or touch the new one are merged into it.
        let start = ranges.partition_point(|&(_, end)| end.saturating_add(1) < first);
        let mut end = start;
        while end < ranges.len() && ranges[end].0 <= last.saturating_add(1) {
            first = first.min(ranges[end].0);
            last = last.max(ranges[end].1);
            end += 1;
        }
        ranges.splice(start..end, [(first, last)]);
    }

    fn one(c: char) -> Class {
        Class {
            ranges: vec![(c as u32, c as u32)],
        }
    }

    fn negated(&self) -> Class {
        let mut ranges = Vec::with_capacity(self.ranges.len() + 1);
        let mut next = 0;
        for &(first, last) in &self.ranges {
            if first > next {
                ranges.push((next, first - 1));
            }
            next = last + 1;
        }
        if next <= char::MAX as u32 {
            ranges.push((next, char::MAX as u32));
        }
        Class { ranges }
    }

    pub(super) fn contains(&self, c: char) -> bool {
        let code = c as u32;
        let after = self.ranges.partition_point(|&(first, _)| first <= code);
        after > 0 && code <= self.ranges[after - 1].1
    }
}

/// `\d`, `\w` and `\s` (ASCII, as regex-lite has them), and `.`.
fn perl_class(letter: char) -> Option<Class> {
    let ranges: &[(char, char)] = match letter.to_ascii_lowercase() {
        'd' => &[('0', '9')],
        'w' => &[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')],
        's' => &[('\t', '\r'), (' ', ' ')],
        _ => return None,
    };
    let class = Class::new(ranges.iter().map(|&(a, b)| (a as u32, b as u32)).collect());
    Some(if letter.is_ascii_uppercase() {
        class.negated()
    } else {
        class
    })
}

/// The character an escape outside a class or inside one stands for, when it stands for one.
fn escaped_char(c: char) -> Option<char> {
    match c {
        'n' => Some('\n'),
        't' => Some('\t'),
        'r' => Some('\r'),
        'f' => Some('\x0C'),
        'v' => Some('\x0B'),
        'a' => Some('\x07'),
        // `\<` and `\>` are word-start and word-end assertions in regex-lite.
        c if (c.is_ascii_punctuation() && !matches!(c, '<' | '>')) || c == ' ' => Some(c),
        _ => None,
    }
}

fn unsupported_escape(c: char) -> String {
    match c {
        'x' | 'u' | 'U' => "hexadecimal and Unicode escapes (\\x, \\u) are not supported".into(),
        'p' | 'P' => "Unicode classes (\\p, \\P) are not supported".into(),
        '<' | '>' => "word-start and word-end assertions (\\<, \\>) are not supported; use \\b".into(),
        c => format!("the escape \\{} is not supported", escaped(c)),
    }
}

pub(super) fn parse(pattern: &str) -> Result<Node, String> {
    let mut parser = Parser {
        chars: pattern.chars().collect(),
        pos: 0,
        depth: 0,
        names: Vec::new(),
    };
    let node = parser.alternation()?;
    match parser.peek() {
        None => Ok(node),
        Some(_) => Err("found ')' without a matching '('".into()),
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
    /// The group names so far: each may be used once.
    names: Vec<String>,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        let found = self.peek() == Some(c);
        self.pos += usize::from(found);
        found
    }

    fn nested<T>(&mut self, parse: impl FnOnce(&mut Self) -> Result<T, String>) -> Result<T, String> {
        if self.depth >= MAX_NESTING {
            return Err("the pattern has too much nesting".into());
        }
        self.depth += 1;
        let parsed = parse(self);
        self.depth -= 1;
        parsed
    }

    fn alternation(&mut self) -> Result<Node, String> {
        self.nested(|p| {
            let mut alternatives = vec![p.concat()?];
            while p.eat('|') {
                alternatives.push(p.concat()?);
            }
            Ok(match alternatives.len() {
                1 => alternatives.remove(0),
                _ => Node::Alt(alternatives),
            })
        })
    }

    fn concat(&mut self) -> Result<Node, String> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom()?;
            items.push(self.repetitions(atom)?);
        }
        Ok(match items.len() {
            0 => Node::Empty,
            1 => items.remove(0),
            _ => Node::Concat(items),
        })
    }

    fn atom(&mut self) -> Result<Node, String> {
        let Some(c) = self.next() else {
            return Ok(Node::Empty);
        };
        Ok(match c {
            '(' => self.group()?,
            '[' => Node::Class(self.class()?),
            '.' => Node::Class(Class::one('\n').negated()),
            '^' => Node::Look(Look::Start),
            '$' => Node::Look(Look::End),
            '\\' => self.escape()?,
            '*' | '+' | '?' | '{' => return Err(format!("the repetition operator '{c}' follows nothing")),
            c => Node::Class(Class::one(c)),
        })
    }

    fn escape(&mut self) -> Result<Node, String> {
        let Some(c) = self.next() else {
            return Err("the pattern ends with an incomplete escape '\\'".into());
        };
        if let Some(class) = perl_class(c) {
            return Ok(Node::Class(class));
        }
        Ok(match c {
            'A' => Node::Look(Look::Start),
            'z' => Node::Look(Look::End),
            'b' if self.peek() == Some('{') && self.chars.get(self.pos + 1).is_some_and(char::is_ascii_alphabetic) => {
                return Err("special word boundaries such as \\b{start} are not supported; use \\b".into());
            }
            'b' => Node::Look(Look::WordBoundary),
            'B' => Node::Look(Look::NotWordBoundary),
            c => Node::Class(Class::one(escaped_char(c).ok_or_else(|| unsupported_escape(c))?)),
        })
    }

    fn group(&mut self) -> Result<Node, String> {
        if self.eat('?') {
            let named = match self.eat('P') {
                true if !self.eat('<') => return Err("a named group is written (?P<name>...)".into()),
                true => true,
                false => self.eat('<'),
            };
            if named {
                self.group_name()?;
            } else if !self.eat(':') {
                return Err("flags such as (?i) are not supported; write the cases out, e.g. [Aa]".into());
            }
        }
        let inner = self.alternation()?;
        match self.eat(')') {
            true => Ok(inner),
            false => Err("a group '(' is not closed".into()),
        }
    }

    /// Skips a capture group's name and its closing `>`.
    fn group_name(&mut self) -> Result<(), String> {
        let start = self.pos;
        while let Some(c) = self.peek().filter(|&c| c != '>') {
            let allowed = c == '_'
                || c.is_ascii_alphabetic()
                || (self.pos > start && (c.is_ascii_digit() || matches!(c, '.' | '[' | ']')));
            if !allowed {
                return Err(format!("'{}' is not allowed in a group name", escaped(c)));
            }
            self.pos += 1;
        }
        let name: String = self.chars[start..self.pos].iter().collect();
        if name.is_empty() || !self.eat('>') {
            return Err("a group name is empty or not closed with '>'".into());
        }
        if self.names.contains(&name) {
            return Err(format!("the group name '{name}' is used twice"));
        }
        self.names.push(name);
        Ok(())
    }

    fn repetitions(&mut self, mut node: Node) -> Result<Node, String> {
        loop {
            let operator = match self.peek() {
                Some(c @ ('*' | '+' | '?' | '{')) => c,
                _ => return Ok(node),
            };
            self.pos += 1;
            let (min, max) = match operator {
                '*' => (0, None),
                '+' => (1, None),
                '?' => (0, Some(1)),
                _ => self.counted()?,
            };
            self.eat('?');
            node = self.nested(|_| {
                Ok(Node::Repeat {
                    node: Box::new(node),
                    min,
                    max,
                })
            })?;
        }
    }

    /// `{n}`, `{n,}` or `{n,m}` after the `{`, spaces allowed around the numbers.
    fn counted(&mut self) -> Result<(u32, Option<u32>), String> {
        self.skip_spaces();
        let min = self.count()?.ok_or("a counted repetition '{' needs a number")?;
        self.skip_spaces();
        let max = match self.eat(',') {
            true => {
                self.skip_spaces();
                let max = self.count()?;
                self.skip_spaces();
                max
            }
            false => Some(min),
        };
        if !self.eat('}') {
            return Err("a counted repetition '{' is not closed".into());
        }
        match max {
            Some(max) if max < min => Err(format!(
                "the counted repetition {{{min},{max}}} has its minimum above its maximum"
            )),
            _ => Ok((min, max)),
        }
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn count(&mut self) -> Result<Option<u32>, String> {
        let start = self.pos;
        let mut value: u32 = 0;
        while let Some(digit) = self.peek().and_then(|c| c.to_digit(10)) {
            value = value.saturating_mul(10).saturating_add(digit);
            self.pos += 1;
        }
        match self.pos > start {
            false => Ok(None),
            true if value > MAX_COUNT => Err(format!("a counted repetition may not exceed {MAX_COUNT}")),
            true => Ok(Some(value)),
        }
    }

    /// A class after its `[`.
    fn class(&mut self) -> Result<Class, String> {
        let negated = self.eat('^');
        let mut ranges = Vec::new();
        let mut first = true;
        loop {
            let Some(c) = self.next() else {
                return Err("a character class '[' is not closed".into());
            };
            match c {
                ']' if !first => break,
                '[' if self.peek() == Some(':') => {
                    return Err(
                        "POSIX classes such as [[:alpha:]] are not supported; write the ranges, e.g. [a-zA-Z]".into(),
                    );
                }
                '[' => return Err("nested classes are not supported; write '\\[' for a '['".into()),
                // `--` opening the class is two hyphens; anywhere else it is a difference.
                '&' | '~' | '-' if self.peek() == Some(c) && (c != '-' || !first) => {
                    return Err("class set operations (&&, --, ~~) are not supported".into());
                }
                _ => {}
            }
            // A class opening with hyphens takes them as hyphens.
            if first && c == '-' {
                while self.eat('-') {}
                ranges.push(('-' as u32, '-' as u32));
                first = false;
                continue;
            }
            first = false;
            let start = match c {
                '\\' => match self.class_escape()? {
                    Ok(single) => single,
                    Err(_) if self.range_follows() => {
                        return Err("a class range cannot start or end with \\d, \\w or \\s".into());
                    }
                    Err(set) => {
                        ranges.extend(set.ranges);
                        continue;
                    }
                },
                c => c,
            };
            if !self.range_follows() {
                ranges.push((start as u32, start as u32));
                continue;
            }
            self.pos += 1;
            let end = match self.next() {
                Some('\\') => self
                    .class_escape()?
                    .map_err(|_| "a class range cannot start or end with \\d, \\w or \\s".to_string())?,
                Some('[') => return Err("nested classes are not supported; write '\\[' for a '['".into()),
                Some(end) => end,
                None => return Err("a character class '[' is not closed".into()),
            };
            if end < start {
                return Err(format!(
                    "the class range {}-{} goes backwards",
                    escaped(start),
                    escaped(end)
                ));
            }
            ranges.push((start as u32, end as u32));
        }
        let class = Class::new(ranges);
        Ok(if negated { class.negated() } else { class })
    }

    /// Whether a `-` comes next and makes a range (not before the closing `]`, nor as `--`).
    fn range_follows(&self) -> bool {
        self.peek() == Some('-') && !matches!(self.chars.get(self.pos + 1), Some(']' | '-') | None)
    }

    /// An escape inside a class: one character, or a set (`\d`, …).
    fn class_escape(&mut self) -> Result<Result<char, Class>, String> {
        let Some(c) = self.next() else {
            return Err("a character class '[' is not closed".into());
        };
        if let Some(class) = perl_class(c) {
            return Ok(Err(class));
        }
        escaped_char(c).map(Ok).ok_or_else(|| unsupported_escape(c))
    }
}
