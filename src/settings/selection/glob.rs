//! Name globs: `*` is any run of characters (including none), `?` exactly one character.

use std::fmt;

use crate::report::{escaped, shorten};

const ALLOWED: &str = "use lower-case letters, digits, '-', '.', '*' (any run of characters) \
                       and '?' (exactly one character)";

/// A validated name pattern, e.g. `team-*` or `db-?`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    text: String,
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Literal(char),
    AnyOne,
    AnyRun,
}

impl Glob {
    /// Parses `pattern`; the error says what is wrong and what is allowed, without a field path.
    pub fn parse(pattern: &str) -> Result<Glob, String> {
        if pattern.is_empty() {
            return Err(format!("the pattern is empty; {ALLOWED}"));
        }
        if let Some(bad) = pattern.chars().find(|c| !is_allowed(*c)) {
            return Err(format!(
                "'{}' has '{}', which is never in a Kubernetes name; {ALLOWED}",
                shorten(pattern),
                escaped(bad)
            ));
        }
        Ok(Glob {
            text: pattern.to_string(),
            tokens: tokenize(pattern),
        })
    }

    /// Parses a blueprint pattern: a Stash blueprint's name, or a KubeStash blueprint's
    /// `<namespace>/<name>` (one `/`, with a pattern on each side; `*` also matches across it).
    pub fn parse_blueprint(pattern: &str) -> Result<Glob, String> {
        let Some((namespace, name)) = pattern.split_once('/') else {
            return Glob::parse(pattern);
        };
        if namespace.is_empty() || name.is_empty() || name.contains('/') {
            return Err(format!(
                "'{}' is not <namespace>/<name>: a KubeStash blueprint is named by one namespace, one '/' and one name",
                shorten(pattern)
            ));
        }
        Glob::parse(namespace)?;
        Glob::parse(name)?;
        Ok(Glob {
            text: pattern.to_string(),
            tokens: tokenize(pattern),
        })
    }

    /// The pattern as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// True when the pattern has no `*` or `?`: it matches only itself.
    pub fn is_literal(&self) -> bool {
        self.tokens.iter().all(|token| matches!(token, Token::Literal(_)))
    }

    /// Whether `name` matches the whole pattern. At most O(len(pattern) × len(name)) steps:
    /// only the last `*` is ever retried, which is enough because a later `*` can absorb
    /// whatever an earlier one would have.
    pub fn matches(&self, name: &str) -> bool {
        let mut token = 0;
        let mut position = 0;
        // The token after the last `*` seen, and where in `name` that `*` currently ends.
        let mut retry: Option<(usize, usize)> = None;
        while let Some(next) = char_at(name, position) {
            match self.tokens.get(token) {
                Some(Token::AnyRun) => {
                    retry = Some((token + 1, position));
                    token += 1;
                }
                Some(single) if single.accepts(next) => {
                    token += 1;
                    position += next.len_utf8();
                }
                _ => {
                    // The last `*` absorbs one more character, and matching resumes after it.
                    let Some((after_star, star_end)) = retry else {
                        return false;
                    };
                    let Some(absorbed) = char_at(name, star_end) else {
                        return false;
                    };
                    retry = Some((after_star, star_end + absorbed.len_utf8()));
                    token = after_star;
                    position = star_end + absorbed.len_utf8();
                }
            }
        }
        self.tokens
            .get(token..)
            .is_some_and(|rest| rest.iter().all(|t| *t == Token::AnyRun))
    }
}

impl Token {
    /// Whether this single-character token accepts `c` (never true for `*`).
    fn accepts(self, c: char) -> bool {
        match self {
            Token::Literal(expected) => expected == c,
            Token::AnyOne => true,
            Token::AnyRun => false,
        }
    }
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn is_allowed(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.' | '*' | '?')
}

/// The tokens of `pattern`, consecutive `*` collapsed into one.
fn tokenize(pattern: &str) -> Vec<Token> {
    let mut tokens: Vec<Token> = Vec::with_capacity(pattern.len());
    for c in pattern.chars() {
        let token = match c {
            '*' => Token::AnyRun,
            '?' => Token::AnyOne,
            literal => Token::Literal(literal),
        };
        if !(token == Token::AnyRun && tokens.last() == Some(&Token::AnyRun)) {
            tokens.push(token);
        }
    }
    tokens
}

/// The character starting at byte `position` of `name`, if any.
fn char_at(name: &str, position: usize) -> Option<char> {
    name.get(position..).and_then(|rest| rest.chars().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(pattern: &str) -> Glob {
        Glob::parse(pattern).unwrap()
    }

    #[test]
    fn matching() {
        let cases = [
            ("team-a", "team-a", true),
            ("team-a", "team-ab", false),
            ("team-a", "team-", false),
            ("team-*", "team-", true),
            ("team-*", "team-payments", true),
            ("team-*", "teams", false),
            ("*-prod", "shop-prod", true),
            ("*-prod", "shop-prod-2", false),
            ("*", "", true),
            ("*", "anything", true),
            ("***", "", true),
            ("***", "abc", true),
            ("db-?", "db-1", true),
            ("db-?", "db-", false),
            ("db-?", "db-12", false),
            ("?", "", false),
            ("??", "ab", true),
            ("a", "", false),
            ("t*-?-*x", "team-a-box", true),
            ("t*-?-*x", "team-ab-box", false),
            ("t*-?-*x", "t-a-x", true),
            ("a*b*c", "abc", true),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "acb", false),
            ("*a", "bab", false),
            ("*ab", "aab", true),
            ("ab*", "a", false),
            ("?*", "", false),
            ("?*", "é", true),
            ("??", "é", false),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(glob(pattern).matches(name), expected, "{pattern} against {name:?}");
        }
    }

    #[test]
    fn pathological_patterns_do_not_backtrack_exponentially() {
        let name = "a".repeat(10_000);
        assert!(!glob("*a*a*a*a*a*a*b").matches(&name));
        assert!(glob("*a*a*a*a*a*a*").matches(&name));
        assert!(!glob("?*?*?*?*?*?*b").matches(&name));
        assert!(glob(&"*a".repeat(100)).matches(&name));
    }

    #[test]
    fn literals_and_display() {
        assert!(glob("team-a").is_literal());
        assert!(!glob("team-*").is_literal());
        assert!(!glob("db-?").is_literal());
        assert_eq!(glob("team-**").to_string(), "team-**");
        assert!(glob("team-**").matches("team-x"));
    }

    #[test]
    fn blueprint_patterns_name_kubestash_blueprints_with_their_namespace() {
        let glob = Glob::parse_blueprint("team-*/gcs-?").unwrap();
        assert!(glob.matches("team-a/gcs-1"));
        assert!(!glob.matches("team-a/gcs-12"));
        assert!(Glob::parse_blueprint("gcs-*").unwrap().matches("gcs-daily"));
        assert_eq!(
            Glob::parse_blueprint("a/b/c").unwrap_err(),
            "'a/b/c' is not <namespace>/<name>: a KubeStash blueprint is named by one namespace, one '/' and one name"
        );
        assert!(Glob::parse_blueprint("/gcs").is_err());
        assert!(Glob::parse_blueprint("Team/gcs").is_err());
    }

    #[test]
    fn invalid_patterns() {
        let cases = [
            (
                "",
                "the pattern is empty; use lower-case letters, digits, '-', '.', '*' (any run of characters) \
                 and '?' (exactly one character)",
            ),
            (
                "Team-*",
                "'Team-*' has 'T', which is never in a Kubernetes name; use lower-case letters, digits, '-', '.', \
                 '*' (any run of characters) and '?' (exactly one character)",
            ),
            (
                "team_[ab]",
                "'team_[ab]' has '_', which is never in a Kubernetes name; use lower-case letters, digits, '-', \
                 '.', '*' (any run of characters) and '?' (exactly one character)",
            ),
            (
                "a\nb",
                "'a\\nb' has '\\n', which is never in a Kubernetes name; use lower-case letters, digits, '-', '.', \
                 '*' (any run of characters) and '?' (exactly one character)",
            ),
        ];
        for (pattern, expected) in cases {
            assert_eq!(Glob::parse(pattern), Err(expected.to_string()), "{pattern:?}");
        }
    }
}
