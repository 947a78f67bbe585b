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

/// The rejection of `object` (e.g. `Deployment demo/web`) for `problems`.
pub fn rejection(object: &str, headline: Headline, problems: &[Problem]) -> String {
    let mut lines: Vec<String> = problems
        .iter()
        .take(MAX_LISTED_PROBLEMS)
        .map(|p| format!("- {p}"))
        .collect();
    if problems.len() > MAX_LISTED_PROBLEMS {
        lines.push(format!("- and {} more problems", problems.len() - MAX_LISTED_PROBLEMS));
    }
    format!("{object}: {}:\n{}", headline.text(), lines.join("\n"))
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
