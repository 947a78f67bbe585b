//! What an evaluation found: problems (reject), warnings (accept with them), lookups that
//! failed, and the rule of `onLookupError` that turns them into a verdict.

use crate::report::{Headline, Problem};
use crate::settings::{Check, OnLookupError};

#[derive(Debug, Default)]
pub struct Findings {
    problems: Vec<Problem>,
    warnings: Vec<Problem>,
    /// Lookups that failed for another reason than "not found".
    failed_lookups: Vec<FailedLookup>,
    /// Names cut to 63 characters: warnings given only when the target is accepted.
    truncated: Vec<Problem>,
    headline: Headline,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct FailedLookup {
    /// What was looked up: `BackupBlueprint 'x'`, `Secret 's' in namespace 'demo'`.
    what: String,
    why: String,
}

/// The decision the findings lead to.
#[derive(Debug)]
pub enum Verdict {
    Reject {
        headline: Headline,
        problems: Vec<Problem>,
        warnings: Vec<String>,
    },
    /// Lookups failed and `onLookupError` is `accept`: accepted, but nothing could be verified.
    AcceptUnchecked {
        warnings: Vec<String>,
    },
    Accept {
        warnings: Vec<String>,
    },
}

impl Findings {
    pub fn problem(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    pub fn problems(&mut self, problems: impl IntoIterator<Item = Problem>) {
        self.problems.extend(problems);
    }

    pub fn warning(&mut self, warning: Problem) {
        self.warnings.push(warning);
    }

    /// A problem the administrator may downgrade to a warning (or skip, when it is not looked
    /// for at all).
    pub fn warnings(&mut self, warnings: impl IntoIterator<Item = Problem>) {
        self.warnings.extend(warnings);
    }

    pub fn checked(&mut self, check: Check, problem: Problem) {
        match check {
            Check::Reject => self.problems.push(problem),
            Check::Warn => self.warnings.push(problem),
            Check::Skip => {}
        }
    }

    pub fn truncated(&mut self, warning: Problem) {
        self.truncated.push(warning);
    }

    /// A lookup that failed for another reason than "not found"; reported once per object.
    pub fn lookup_failed(&mut self, what: String, why: &str) {
        let failure = FailedLookup {
            what,
            why: why.to_string(),
        };
        if !self.failed_lookups.contains(&failure) {
            self.failed_lookups.push(failure);
        }
    }

    pub fn has_problems(&self) -> bool {
        !self.problems.is_empty()
    }

    /// Neither a problem nor a failed lookup so far: everything was checked and passed.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty() && self.failed_lookups.is_empty()
    }

    /// What a rejection will be about (invalid annotations unless said otherwise).
    pub fn headline(&mut self, headline: Headline) {
        self.headline = headline;
    }

    pub fn verdict(mut self, on_lookup_error: OnLookupError) -> Verdict {
        let unchecked = !self.failed_lookups.is_empty();
        for FailedLookup { what, why } in std::mem::take(&mut self.failed_lookups) {
            let failure = format!("could not look up {what}: {why}");
            match on_lookup_error {
                OnLookupError::Accept => self.warnings.push(Problem::object(format!(
                    "{failure}; accepted unchecked because onLookupError is 'accept'"
                ))),
                OnLookupError::Reject => self.problems.push(Problem::object(format!(
                    "{failure}; the policy could not verify the backup, retry later or ask the cluster administrator \
                     to check the policy-server's access (see rbac.yaml)"
                ))),
            }
        }
        let render = |problems: Vec<Problem>| problems.iter().map(Problem::to_string).collect();
        if !self.problems.is_empty() {
            return Verdict::Reject {
                headline: self.headline,
                problems: self.problems,
                warnings: render(self.warnings),
            };
        }
        if unchecked {
            return Verdict::AcceptUnchecked {
                warnings: render(self.warnings),
            };
        }
        self.warnings.append(&mut self.truncated);
        Verdict::Accept {
            warnings: render(self.warnings),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warnings_of(verdict: Verdict) -> Vec<String> {
        match verdict {
            Verdict::Reject { warnings, .. } | Verdict::AcceptUnchecked { warnings } | Verdict::Accept { warnings } => {
                warnings
            }
        }
    }

    #[test]
    fn failed_lookups_follow_on_lookup_error_once_each() {
        let failing = || {
            let mut findings = Findings::default();
            findings.lookup_failed("Namespace 'demo'".into(), "down");
            findings.lookup_failed("Namespace 'demo'".into(), "down");
            findings
        };
        match failing().verdict(OnLookupError::Reject) {
            Verdict::Reject { problems, .. } => assert_eq!(
                crate::report::render(&problems),
                [
                    "could not look up Namespace 'demo': down; the policy could not verify the backup, retry later \
                  or ask the cluster administrator to check the policy-server's access (see rbac.yaml)"
                ]
            ),
            other => panic!("{other:?}"),
        }
        let verdict = failing().verdict(OnLookupError::Accept);
        assert!(matches!(verdict, Verdict::AcceptUnchecked { .. }));
        assert_eq!(
            warnings_of(verdict),
            ["could not look up Namespace 'demo': down; accepted unchecked because onLookupError is 'accept'"]
        );
    }

    #[test]
    fn checks_follow_their_setting_and_truncation_warns_only_on_accept() {
        let mut findings = Findings::default();
        findings.checked(Check::Warn, Problem::object("w"));
        findings.checked(Check::Skip, Problem::object("s"));
        findings.truncated(Problem::object("t"));
        assert_eq!(warnings_of(findings.verdict(OnLookupError::Reject)), ["w", "t"]);
        let mut findings = Findings::default();
        findings.checked(Check::Reject, Problem::object("r"));
        findings.truncated(Problem::object("t"));
        assert!(warnings_of(findings.verdict(OnLookupError::Reject)).is_empty());
    }
}
