//! `customVariables.valuePattern`: a regular expression every custom variable value must match
//!. A small engine instead of a regex crate: it is 9 KB of policy.wasm where
//! regex-lite, the lightest of them, was 46 KB, and a value pattern needs little of a crate.
//!
//! The syntax is that of Rust's `regex` (as regex-lite reads it) minus what a value pattern
//! has no use for: literals and escaped punctuation, `\n \t \r \f \v`, `.` (any character but a
//! newline), classes `[a-z_]` `[^…]` with ranges and `\d \w \s` (ASCII, as in regex-lite) and
//! their negations, groups `(…)` `(?:…)` `(?P<name>…)` `(?<name>…)`, alternation `|`,
//! repetition `* + ? {n} {n,} {n,m}` (lazy or not: the same for a yes/no match), and the
//! assertions `^ $ \A \z \b \B`. Flags (`(?i)`), POSIX classes, hex and Unicode escapes are
//! refused with a message saying so. A value matches when the pattern matches anywhere in it
//! (anchor with `^…$` for the whole value), checked in time linear in the value's length
//! (a Pike VM: no backtracking). The tests compare every answer with regex-lite's.

mod parse;
mod program;

use std::cell::OnceCell;

use program::Program;

/// A pattern, checked when made and compiled on its first use: most objects define no custom
/// variable, and policy-server gives every request a fresh instance of the policy, so a
/// pattern compiled with the settings would be compiled for every request.
#[derive(Debug, Clone)]
pub struct Regex {
    ast: parse::Node,
    program: OnceCell<Program>,
}

impl Regex {
    /// Checks `pattern`, or says why it is not a valid one.
    pub fn new(pattern: &str) -> Result<Regex, String> {
        let ast = parse::parse(pattern)?;
        program::check_size(&ast)?;
        Ok(Regex {
            ast,
            program: OnceCell::new(),
        })
    }

    /// Whether the pattern matches somewhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        // Kept with the settings, from one request to the next.
        let compile = || crate::support::allocator::persistent(|| Program::compile(&self.ast));
        self.program.get_or_init(compile).is_match(text)
    }
}

#[cfg(test)]
mod tests;
