//! The rejection message: one header, one line per problem. Everything quoted from the
//! object is shortened and every list is capped, so that the message stays small whatever
//! the input.

/// At most this many problem lines are listed in one rejection.
pub const MAX_LISTED_PROBLEMS: usize = 40;
/// At most this many problems are reported for one annotation.
pub const MAX_PROBLEMS_PER_ANNOTATION: usize = 5;
const MAX_QUOTED_CHARS: usize = 80;
const MAX_LISTED_ITEMS: usize = 10;

/// The rejection of `object` (e.g. `Deployment demo/web`) for `problems`.
pub fn rejection(object: &str, problems: &[String]) -> String {
    let mut lines: Vec<String> = problems
        .iter()
        .take(MAX_LISTED_PROBLEMS)
        .map(|p| format!("- {p}"))
        .collect();
    if problems.len() > MAX_LISTED_PROBLEMS {
        lines.push(format!("- and {} more problems", problems.len() - MAX_LISTED_PROBLEMS));
    }
    format!("{object}: auto-backup annotations are invalid:\n{}", lines.join("\n"))
}

/// `text`, cut to 80 characters with `…` when longer.
pub fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// `a, b, c`, with at most 10 items and `… (N in all)` after them.
pub fn list<S: AsRef<str>>(items: &[S]) -> String {
    let shown: Vec<String> = items
        .iter()
        .take(MAX_LISTED_ITEMS)
        .map(|i| shorten(i.as_ref()))
        .collect();
    match items.len() > MAX_LISTED_ITEMS {
        true => format!("{}, … ({} in all)", shown.join(", "), items.len()),
        false => shown.join(", "),
    }
}

/// The problems of one annotation: the first few are kept, the rest only counted, so that a
/// huge annotation costs no memory.
pub struct AnnotationProblems<'a> {
    key: &'a str,
    lines: Vec<String>,
    more: usize,
}

impl<'a> AnnotationProblems<'a> {
    pub fn new(key: &'a str) -> Self {
        AnnotationProblems {
            key,
            lines: Vec::new(),
            more: 0,
        }
    }

    /// Records a problem; `why` is only called for the problems that are kept.
    pub fn push(&mut self, why: impl FnOnce() -> String) {
        match self.lines.len() < MAX_PROBLEMS_PER_ANNOTATION {
            true => self.lines.push(format!("{}: {}", self.key, why())),
            false => self.more += 1,
        }
    }

    pub fn into_lines(mut self) -> Vec<String> {
        if self.more > 0 {
            self.lines
                .push(format!("{}: {} more problems in this annotation", self.key, self.more));
        }
        self.lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejection_lists_problems_under_a_header() {
        assert_eq!(
            rejection("Deployment demo/web", &["a".to_string(), "b".to_string()]),
            "Deployment demo/web: auto-backup annotations are invalid:\n- a\n- b"
        );
        let many: Vec<String> = (0..45).map(|i| i.to_string()).collect();
        let message = rejection("PersistentVolumeClaim demo/p", &many);
        assert_eq!(message.lines().count(), 42);
        assert!(message.ends_with("\n- 39\n- and 5 more problems"));
    }

    #[test]
    fn quoted_text_and_lists_are_bounded() {
        assert_eq!(shorten("short"), "short");
        assert_eq!(shorten(&"é".repeat(100)), format!("{}…", "é".repeat(80)));
        assert_eq!(list(&["a", "b"]), "a, b");
        let items: Vec<String> = (0..12).map(|i| i.to_string()).collect();
        assert_eq!(list(&items), "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, … (12 in all)");
    }

    #[test]
    fn problems_per_annotation_are_capped() {
        let mut problems = AnnotationProblems::new("k");
        for i in 0..8 {
            problems.push(|| i.to_string());
        }
        assert_eq!(
            problems.into_lines(),
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
