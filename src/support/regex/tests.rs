use super::Regex;

/// The oracle: regex-lite, which the policy used before this engine.
fn lite(pattern: &str) -> Option<regex_lite::Regex> {
    regex_lite::Regex::new(pattern).ok()
}

#[test]
fn the_default_value_pattern() {
    let regex = Regex::new(crate::settings::DEFAULT_VALUE_PATTERN).unwrap();
    assert!(regex.is_match("team-a.1_X"));
    assert!(regex.is_match(&"a".repeat(63)));
    assert!(!regex.is_match(&"a".repeat(64)));
    assert!(!regex.is_match(""));
    assert!(!regex.is_match("a b"));
    assert!(!regex.is_match("../x/é"));
}

#[test]
fn unsupported_syntax_is_named() {
    let error = |pattern: &str| Regex::new(pattern).unwrap_err();
    assert_eq!(
        error("(?i)abc"),
        "flags such as (?i) are not supported; write the cases out, e.g. [Aa]"
    );
    assert_eq!(
        error("[[:alpha:]]"),
        "POSIX classes such as [[:alpha:]] are not supported; write the ranges, e.g. [a-zA-Z]"
    );
    assert_eq!(
        error(r"\x41"),
        r"hexadecimal and Unicode escapes (\x, \u) are not supported"
    );
    assert_eq!(error(r"\pL"), r"Unicode classes (\p, \P) are not supported");
    assert_eq!(error("[a&&b]"), "class set operations (&&, --, ~~) are not supported");
    assert_eq!(
        error(r"\<a"),
        r"word-start and word-end assertions (\<, \>) are not supported; use \b"
    );
    assert_eq!(
        error(r"\b{start}"),
        r"special word boundaries such as \b{start} are not supported; use \b"
    );
    assert_eq!(
        error("[a[b]]"),
        "nested classes are not supported; write '\\[' for a '['"
    );
}

#[test]
fn invalid_patterns_say_why() {
    let error = |pattern: &str| Regex::new(pattern).unwrap_err();
    assert_eq!(error("(["), "a character class '[' is not closed");
    assert_eq!(error("(a"), "a group '(' is not closed");
    assert_eq!(error("a)"), "found ')' without a matching '('");
    assert_eq!(error("*a"), "the repetition operator '*' follows nothing");
    assert_eq!(
        error("a{2,1}"),
        "the counted repetition {2,1} has its minimum above its maximum"
    );
    assert_eq!(error("a{1001}"), "a counted repetition may not exceed 1000");
    assert_eq!(error("[z-a]"), "the class range z-a goes backwards");
    assert_eq!(error("a\\"), "the pattern ends with an incomplete escape '\\'");
    assert_eq!(
        error("(a{1000}){1000}"),
        "the pattern is too large (its counted repetitions copy too much)"
    );
    assert_eq!(error(&"(".repeat(300)), "the pattern has too much nesting");
    assert_eq!(error(r"\e"), r"the escape \e is not supported");
    assert_eq!(error("(?Pn)"), "a named group is written (?P<name>...)");
    assert_eq!(error("(?<a-b>x)"), "'-' is not allowed in a group name");
    assert_eq!(error("(?<>x)"), "a group name is empty or not closed with '>'");
    assert_eq!(error("(?<n>a)(?<n>b)"), "the group name 'n' is used twice");
    assert_eq!(error("a{,2}"), "a counted repetition '{' needs a number");
    assert_eq!(error("a{2"), "a counted repetition '{' is not closed");
    assert_eq!(error(r"[\d-z]"), r"a class range cannot start or end with \d, \w or \s");
    assert_eq!(error(r"[a-\w]"), r"a class range cannot start or end with \d, \w or \s");
}

#[test]
fn matching_is_linear() {
    // (a*)*b on a long run of a: exponential for a backtracking engine.
    let regex = Regex::new("^(a*)*b$").unwrap();
    assert!(!regex.is_match(&"a".repeat(100_000)));
    let regex = Regex::new("(x+x+)+y").unwrap();
    assert!(!regex.is_match(&"x".repeat(20_000)));
}

/// A small deterministic generator (xorshift), so that the comparison is the same every run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const PIECES: &[&str] = &[
    "a",
    "b",
    "c",
    "-",
    ".",
    "_",
    "1",
    "é",
    " ",
    "^",
    "$",
    "|",
    "(",
    ")",
    "(?:",
    "(?P<n>",
    "(?<m>",
    "[",
    "]",
    "[^",
    "a-c",
    "*",
    "+",
    "?",
    "*?",
    "{2}",
    "{1,3}",
    "{2,}",
    "{0}",
    "\\d",
    "\\w",
    "\\s",
    "\\D",
    "\\W",
    "\\S",
    "\\b",
    "\\B",
    "\\A",
    "\\z",
    "\\<",
    "\\ ",
    "\\%",
    "{ 1, 2 }",
    "{start}",
    "&&",
    "--",
    "~~",
    "[:alpha:]",
    "(?i)",
    "\\x41",
    "\\.",
    "\\-",
    "\\\\",
    "\\n",
    "\\t",
    "\\[",
    "\\]",
    "\\*",
    "\\{",
    "\\}",
    "{",
    "}",
    ",",
];
const TEXT: &[&str] = &[
    "a", "b", "c", "-", ".", "_", "1", "é", " ", "\n", "ab", "aa", "[", "]", "*", "\\", "{",
];

/// Every pattern regex-lite accepts is accepted here unless it uses syntax refused as not
/// supported, every pattern it refuses is refused here, and the answers agree on every text.
#[test]
fn answers_as_regex_lite_does() {
    let mut random = Random(0x9E37_79B9_7F4A_7C15);
    let (mut compared, mut texts) = (0, 0);
    for _ in 0..100_000 {
        let pattern: String = (0..random.next() % 10).map(|_| random.pick(PIECES)).collect();
        let ours = Regex::new(&pattern);
        match (lite(&pattern), &ours) {
            (None, Ok(_)) => panic!("{pattern:?}: regex-lite refuses it, this engine accepts it"),
            (Some(_), Err(why)) if !why.contains("not supported") => {
                panic!("{pattern:?}: regex-lite accepts it, this engine says: {why}")
            }
            (_, Err(_)) => continue,
            (Some(oracle), Ok(regex)) => {
                compared += 1;
                for _ in 0..12 {
                    let text: String = (0..random.next() % 6).map(|_| random.pick(TEXT)).collect();
                    texts += 1;
                    assert_eq!(regex.is_match(&text), oracle.is_match(&text), "{pattern:?} on {text:?}");
                }
            }
        }
    }
    assert!(
        compared > 20_000 && texts > 200_000,
        "{compared} patterns, {texts} texts"
    );
}
