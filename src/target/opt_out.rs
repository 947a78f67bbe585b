//! The opt-out of a target: `autobackup.kubewarden.io/skip: "true"` with a
//! reason, and optionally the date it ends.

use crate::report::{Problem, shorten};
use crate::support::civil_date::{Date, days_until};
use crate::support::string_map::StringMap;
use crate::target::annotations::{SKIP, SKIP_REASON, SKIP_UNTIL};

pub const MAX_REASON_CHARS: usize = 256;
/// An opt-out that ends within this many days is accepted with a warning.
pub const WARNING_DAYS: i64 = 14;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptOut {
    /// No `skip` annotation (or `skip: "false"`).
    None,
    /// A valid opt-out; `ends_in` days when it has an end date.
    Valid { until: Option<Date>, ends_in: Option<i64> },
    /// It ended on this date: it no longer counts.
    Expired(Date),
    /// Written wrong: it does not count, and these say why.
    Invalid(Vec<Problem>),
}

/// Reads the opt-out annotations as of `today` (UTC).
pub fn read(annotations: &StringMap, today: Date) -> OptOut {
    match annotations.get(SKIP) {
        None | Some("false") => return OptOut::None,
        Some("true") => {}
        Some(other) => {
            return OptOut::Invalid(vec![Problem::annotation(
                SKIP,
                format!("'{}' is not \"true\" or \"false\"", shorten(other)),
            )]);
        }
    }
    let mut problems = Vec::new();
    match annotations.get(SKIP_REASON).map(|r| r.trim()) {
        None | Some("") => problems.push(Problem::annotation(
            SKIP_REASON,
            format!("is required with {SKIP}: \"true\"; say why this object needs no backup"),
        )),
        Some(reason) if reason.chars().count() > MAX_REASON_CHARS => problems.push(Problem::annotation(
            SKIP_REASON,
            format!("is longer than {MAX_REASON_CHARS} characters; keep the reason short"),
        )),
        Some(_) => {}
    }
    let until = match annotations.get(SKIP_UNTIL).map(Date::parse) {
        None => None,
        Some(Ok(date)) => Some(date),
        Some(Err(why)) => {
            problems.push(Problem::annotation(SKIP_UNTIL, why));
            None
        }
    };
    if !problems.is_empty() {
        return OptOut::Invalid(problems);
    }
    match until.map(|date| (date, days_until(today, date))) {
        Some((date, days)) if days < 0 => OptOut::Expired(date),
        Some((date, days)) => OptOut::Valid {
            until: Some(date),
            ends_in: Some(days),
        },
        None => OptOut::Valid {
            until: None,
            ends_in: None,
        },
    }
}

impl OptOut {
    /// The warning for a valid opt-out that ends soon.
    pub fn ending_soon(&self, object: &str) -> Option<Problem> {
        match self {
            OptOut::Valid {
                until: Some(until),
                ends_in: Some(days),
            } if *days <= WARNING_DAYS => Some(Problem::annotation(
                SKIP_UNTIL,
                format!(
                    "the opt-out of {object} ends on {until} ({}); configure a backup before then or extend it",
                    match days {
                        0 => "today".to_string(),
                        1 => "in 1 day".to_string(),
                        n => format!("in {n} days"),
                    }
                ),
            )),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::render;

    fn read_at(pairs: &[(&str, &str)], today: &str) -> OptOut {
        let annotations = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        read(&annotations, Date::parse(today).unwrap())
    }

    #[test]
    fn valid_expired_and_ending_soon() {
        let with_until = |until| [(SKIP, "true"), (SKIP_REASON, "scratch data"), (SKIP_UNTIL, until)];
        assert_eq!(read_at(&[], "2027-01-15"), OptOut::None);
        assert_eq!(read_at(&[(SKIP, "false")], "2027-01-15"), OptOut::None);
        assert_eq!(
            read_at(&[(SKIP, "true"), (SKIP_REASON, "cache only")], "2027-01-15"),
            OptOut::Valid {
                until: None,
                ends_in: None
            }
        );
        assert_eq!(
            read_at(&with_until("2027-01-14"), "2027-01-15"),
            OptOut::Expired(Date::parse("2027-01-14").unwrap())
        );
        let today = read_at(&with_until("2027-01-15"), "2027-01-15");
        assert_eq!(
            today
                .ending_soon("StatefulSet prod/db")
                .map(|p| p.to_string())
                .as_deref(),
            Some(
                "autobackup.kubewarden.io/skip-until: the opt-out of StatefulSet prod/db ends on 2027-01-15 (today); \
                 configure a backup before then or extend it"
            )
        );
        assert!(
            read_at(&with_until("2027-01-29"), "2027-01-15")
                .ending_soon("x")
                .is_some()
        );
        assert!(
            read_at(&with_until("2027-01-30"), "2027-01-15")
                .ending_soon("x")
                .is_none()
        );
    }

    #[test]
    fn invalid_opt_outs_say_why() {
        let problems = |pairs: &[(&str, &str)]| match read_at(pairs, "2027-01-15") {
            OptOut::Invalid(problems) => render(&problems),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            problems(&[(SKIP, "yes")]),
            ["autobackup.kubewarden.io/skip: 'yes' is not \"true\" or \"false\""]
        );
        assert_eq!(
            problems(&[(SKIP, "true"), (SKIP_REASON, " ")]),
            [
                "autobackup.kubewarden.io/skip-reason: is required with autobackup.kubewarden.io/skip: \"true\"; say why this object needs no backup"
            ]
        );
        let long = "x".repeat(257);
        assert_eq!(
            problems(&[(SKIP, "true"), (SKIP_REASON, &long), (SKIP_UNTIL, "2027-13-01")]),
            [
                "autobackup.kubewarden.io/skip-reason: is longer than 256 characters; keep the reason short",
                "autobackup.kubewarden.io/skip-until: '2027-13-01': the month must be from 01 to 12",
            ]
        );
    }
}
