//! Messages: the problem model, its rendering into one rejection (a header and one line per
//! problem), and the bounds that keep every message small whatever the input.

mod problem;
mod quote;

pub use problem::{Problem, Subject, render};
pub use quote::{list, shorten};

/// At most this many problem lines are listed in one rejection.
pub const MAX_LISTED_PROBLEMS: usize = 40;
/// At most this many problems are reported for one annotation.
pub const MAX_PROBLEMS_PER_ANNOTATION: usize = 5;

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

/// A rejection or a settings message is at most this many bytes, whatever the input.
pub const MAX_MESSAGE_BYTES: usize = 4096;

/// The rejection of `object` (e.g. `Deployment demo/web`) for `problems`.
pub fn rejection(object: &str, headline: Headline, problems: &[Problem]) -> String {
    let head = format!("{object}: {}:", headline.text());
    let lines = problems.iter().take(MAX_LISTED_PROBLEMS).map(|p| format!("\n- {p}"));
    bounded(head, lines, problems.len(), |n| format!("\n- and {n} more problems"))
}

/// The problems of invalid settings on one line, separated by `; `.
pub fn settings_message(problems: &[Problem]) -> String {
    let parts = problems.iter().enumerate().map(|(i, p)| match i {
        0 => p.to_string(),
        _ => format!("; {p}"),
    });
    bounded(String::new(), parts, problems.len(), |n| {
        format!("; and {n} more problems")
    })
}

/// `message`, then as many of `parts` as fit in MAX_MESSAGE_BYTES, then `more(n)` for the `n`
/// of `total` parts left out.
fn bounded(
    mut message: String,
    parts: impl Iterator<Item = String>,
    total: usize,
    more: impl Fn(usize) -> String,
) -> String {
    // Room for `more`.
    const RESERVE: usize = 64;
    let mut shown = 0;
    for part in parts {
        if message.len() + part.len() > MAX_MESSAGE_BYTES - RESERVE {
            break;
        }
        message.push_str(&part);
        shown += 1;
    }
    if shown < total {
        message.push_str(&more(total - shown));
    }
    message
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
    pub fn push(&mut self, why: impl FnOnce() -> String) {
        match self.problems.len() < MAX_PROBLEMS_PER_ANNOTATION {
            true => self.problems.push(Problem::annotation(self.key, why())),
            false => self.more += 1,
        }
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
    fn messages_are_at_most_4_kib() {
        let long: Vec<Problem> = (0..40)
            .map(|i| Problem::object(format!("{i} {}", "x".repeat(200))))
            .collect();
        let message = rejection("Deployment demo/web", Headline::InvalidAnnotations, &long);
        assert!(message.len() <= MAX_MESSAGE_BYTES, "{}", message.len());
        assert!(message.ends_with("\n- and 21 more problems"), "{message}");
        let settings = settings_message(&long);
        assert!(
            settings.len() <= MAX_MESSAGE_BYTES && settings.ends_with(" more problems"),
            "{settings}"
        );
        assert_eq!(settings_message(&long[..2]).matches("; ").count(), 1);
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
