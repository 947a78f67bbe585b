//! Messages: the problem model, its rendering into one rejection (a header and one line per
//! problem), and the bounds that keep every message small whatever the input.

mod problem;
mod quote;

pub use problem::{Problem, Subject, render};
pub use quote::{escaped, is_hidden, list, shorten};

/// At most this many problem lines are listed in one rejection.
pub const MAX_LISTED_PROBLEMS: usize = 40;
/// At most this many problems are reported for one annotation.
pub const MAX_PROBLEMS_PER_ANNOTATION: usize = 5;
/// No message is longer than this (a rejection, a settings error), whatever the input quotes.
pub const MAX_MESSAGE_BYTES: usize = 4096;
/// One problem line of a message is cut to this many bytes.
const MAX_LINE_BYTES: usize = 1024;

/// What a rejection is about, said after the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Headline {
    #[default]
    InvalidAnnotations,
    /// `requireBackup` applies and the object has no backup.
    BackupRequired,
    /// A stored object whose recorded objects no longer match its blueprints.
    Stale,
}

impl Headline {
    fn text(self) -> &'static str {
        match self {
            Headline::InvalidAnnotations => "auto-backup annotations are invalid",
            Headline::BackupRequired => "a backup is required",
            Headline::Stale => "the emitted backup objects are out of date",
        }
    }
}

/// The rejection of `object` (e.g. `Deployment demo/web`) for `problems`.
/// At most MAX_LISTED_PROBLEMS lines, and only as many as fit in MAX_MESSAGE_BYTES.
pub fn rejection(object: &str, headline: Headline, problems: &[Problem]) -> String {
    let header = format!("{}: {}:", cut(object, MAX_LINE_BYTES), headline.text());
    let lines = problems.iter().map(|p| format!("- {p}"));
    fit(header, lines, problems.len(), "\n", |n| {
        format!("- and {n} more problems")
    })
}

/// The settings problems joined with `; `, as many as fit in MAX_MESSAGE_BYTES.
pub fn settings_problems(problems: &[Problem]) -> String {
    let lines = problems.iter().map(Problem::to_string);
    fit(String::new(), lines, problems.len(), "; ", |n| {
        format!("and {n} more problems")
    })
}

/// `text` cut to MAX_MESSAGE_BYTES (for messages made by others, such as serde's, which quote
/// the input whole).
pub fn bounded(text: String) -> String {
    match text.len() > MAX_MESSAGE_BYTES {
        true => cut(&text, MAX_MESSAGE_BYTES),
        false => text,
    }
}

/// `head` and then `lines` (`count` of them), each cut to MAX_LINE_BYTES, joined with
/// `separator`: at most MAX_LISTED_PROBLEMS of them and only as many as fit, with `more(n)` for
/// the `n` left out, so that the whole is at most MAX_MESSAGE_BYTES.
fn fit(
    head: String,
    lines: impl Iterator<Item = String>,
    count: usize,
    separator: &str,
    more: fn(usize) -> String,
) -> String {
    // Room for the longest `more` line: a count never has more digits than `count`.
    let reserve = separator.len() + more(count).len();
    let mut message = head;
    let mut listed = 0;
    for line in lines.take(MAX_LISTED_PROBLEMS) {
        let line = cut(&line, MAX_LINE_BYTES);
        let gap = if message.is_empty() { 0 } else { separator.len() };
        let last = listed + 1 == count;
        let room = if last { 0 } else { reserve };
        if message.len() + gap + line.len() + room > MAX_MESSAGE_BYTES {
            break;
        }
        if gap > 0 {
            message.push_str(separator);
        }
        message.push_str(&line);
        listed += 1;
    }
    if listed < count {
        if !message.is_empty() {
            message.push_str(separator);
        }
        message.push_str(&more(count - listed));
    }
    message
}

/// `text` cut to at most `max` bytes at a character boundary, with `…` when cut.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max - '…'.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The problems of one annotation: the first few are kept, the rest only counted, so that a
/// huge annotation costs no memory.
pub struct AnnotationProblems<'a> {
    key: &'a str,
    problems: Vec<Problem>,
    more: usize,
}

impl<'a> AnnotationProblems<'a> {
    pub fn new(key: &'a str) -> Self {
        AnnotationProblems {
            key,
            problems: Vec::new(),
            more: 0,
        }
    }

    /// Records a problem; `why` is only called for the problems that are kept.
    #[inline(always)]
    pub fn push(&mut self, why: impl FnOnce() -> String) {
        if self.room() {
            self.add(why());
        }
    }

    /// Whether a problem is kept; counts it when it is not.
    fn room(&mut self) -> bool {
        let room = self.problems.len() < MAX_PROBLEMS_PER_ANNOTATION;
        if !room {
            self.more += 1;
        }
        room
    }

    fn add(&mut self, why: String) {
        self.problems.push(Problem::annotation(self.key, why));
    }

    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn into_problems(mut self) -> Vec<Problem> {
        if self.more > 0 {
            let more = format!("{} more problems in this annotation", self.more);
            self.problems.push(Problem::annotation(self.key, more));
        }
        self.problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejection_lists_problems_under_a_header() {
        assert_eq!(
            rejection(
                "Deployment demo/web",
                Headline::InvalidAnnotations,
                &[Problem::object("a"), Problem::object("b")]
            ),
            "Deployment demo/web: auto-backup annotations are invalid:\n- a\n- b"
        );
        let many: Vec<Problem> = (0..45).map(|i| Problem::object(i.to_string())).collect();
        let message = rejection("PersistentVolumeClaim demo/p", Headline::BackupRequired, &many);
        assert!(message.starts_with("PersistentVolumeClaim demo/p: a backup is required:\n- 0\n"));
        assert_eq!(message.lines().count(), 42);
        assert!(message.ends_with("\n- 39\n- and 5 more problems"));
    }

    #[test]
    fn messages_fit_in_4_kib() {
        let long: Vec<Problem> = (0..45)
            .map(|i| Problem::object(format!("{i} {}", "é".repeat(700))))
            .collect();
        let message = rejection(&"o".repeat(5000), Headline::InvalidAnnotations, &long);
        assert!(message.len() <= MAX_MESSAGE_BYTES, "{} bytes", message.len());
        assert!(message.starts_with(&format!("{}…", "o".repeat(1021))));
        assert!(message.contains("\n- 0 é"));
        assert!(message.ends_with("…\n- and 43 more problems"), "{message}");
        let message = settings_problems(&long);
        assert!(message.len() <= MAX_MESSAGE_BYTES, "{} bytes", message.len());
        assert!(
            message.starts_with("0 é") && message.ends_with("…; and 42 more problems"),
            "{message}"
        );
        let one = [Problem::object("x".repeat(4000))];
        assert_eq!(
            rejection("o", Headline::InvalidAnnotations, &one).len(),
            1024 + "o: auto-backup annotations are invalid:\n".len()
        );
        assert_eq!(settings_problems(&[Problem::object("a"), Problem::object("b")]), "a; b");
        assert_eq!(bounded("é".repeat(3000)).len(), 4095);
        assert_eq!(bounded("short".into()), "short");
    }

    #[test]
    fn problems_per_annotation_are_capped() {
        let mut problems = AnnotationProblems::new("k");
        for i in 0..8 {
            problems.push(|| i.to_string());
        }
        assert_eq!(
            render(&problems.into_problems()),
            [
                "k: 0",
                "k: 1",
                "k: 2",
                "k: 3",
                "k: 4",
                "k: 3 more problems in this annotation"
            ]
        );
    }
}
