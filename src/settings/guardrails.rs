//! `guardrails`: the minimum protection a resolved backup must give, whoever
//! wrote its schedule and retention.

use serde_json::{Map, Value};

use crate::report::{Problem, shorten};
use crate::schedule::{CronSchedule, Gap, format_minutes, longest_gap, parse_duration};
use crate::settings::fields;
use crate::support::json_fields::expected;
use crate::target::checks::KEEP_FIELDS;

const FIELDS: [&str; 2] = ["minimumFrequency", "minimumRetention"];
const FREQUENCY: &str = "guardrails.minimumFrequency";
const RETENTION: &str = "guardrails.minimumRetention";

#[derive(Debug, Clone, Default)]
pub struct Guardrails {
    /// The longest gap allowed between two runs, in minutes.
    pub minimum_frequency: Option<u64>,
    /// `keep*` field and the least it must keep, in `KEEP_FIELDS` order.
    pub minimum_retention: Vec<(&'static str, u64)>,
}

impl Guardrails {
    pub fn parse(value: Option<&Value>, path: &str) -> Result<Guardrails, Vec<Problem>> {
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return Ok(Guardrails::default());
        };
        let mut problems = Vec::new();
        let what = "a map with minimumFrequency and/or minimumRetention";
        let Some(map) = fields::object(value, path, &FIELDS, what, &mut problems) else {
            return Err(problems);
        };
        let frequency_path = format!("{path}.minimumFrequency");
        let minimum_frequency = match map.get("minimumFrequency") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => parse_duration(text)
                .map_err(|why| problems.push(Problem::setting(&frequency_path, why)))
                .ok(),
            Some(other) => {
                problems.push(Problem::setting(
                    frequency_path,
                    expected("a duration such as 24h", other),
                ));
                None
            }
        };
        let minimum_retention = retention(
            map.get("minimumRetention"),
            &format!("{path}.minimumRetention"),
            &mut problems,
        );
        match problems.is_empty() {
            true => Ok(Guardrails {
                minimum_frequency,
                minimum_retention,
            }),
            false => Err(problems),
        }
    }

    /// Why `schedule`, parsed as `parsed`, runs less often than required, if it does.
    pub fn schedule_problem(&self, schedule: &str, parsed: &CronSchedule) -> Option<String> {
        let required = self.minimum_frequency?;
        let gap = longest_gap(parsed);
        let gives = match gap {
            Gap::Minutes(minutes) if minutes <= required => return None,
            Gap::Minutes(minutes) => format!("leaves up to {} between backups", format_minutes(minutes)),
            Gap::Never => "never runs".to_string(),
        };
        Some(format!(
            "'{}' {gives}; {FREQUENCY} requires a backup at least every {}: schedule it more often",
            shorten(schedule),
            format_minutes(required)
        ))
    }

    /// What the resolved `retentionPolicy` of `blueprint` keeps below the minimum.
    pub fn retention_problems(&self, blueprint: &str, policy: Option<&Value>) -> Vec<Problem> {
        if self.minimum_retention.is_empty() {
            return Vec::new();
        }
        let policy = policy.and_then(Value::as_object);
        let field = |name: &str| format!("spec.retentionPolicy.{name}");
        if policy.and_then(|p| p.get("dryRun")) == Some(&Value::Bool(true)) {
            return vec![Problem::blueprint_field(
                blueprint,
                field("dryRun"),
                format!(
                    "is true, so nothing is kept or pruned by this policy; {RETENTION} requires {}: set dryRun to false",
                    self.required_retention()
                ),
            )];
        }
        self.minimum_retention
            .iter()
            .filter_map(|(name, least)| {
                let kept = kept(policy, name);
                (kept < *least).then(|| {
                    Problem::blueprint_field(
                        blueprint,
                        field(name),
                        format!("keeps {kept}; {RETENTION}.{name} requires at least {least}"),
                    )
                })
            })
            .collect()
    }

    /// What a KubeStash RetentionPolicy's `spec.successfulSnapshots` keeps below the minimum:
    /// `(field, why)` per field (`keepLast` compares with `last`, …); none when no minimum is set.
    pub fn snapshot_problems(&self, successful_snapshots: Option<&Value>) -> Vec<(String, String)> {
        let snapshots = successful_snapshots.and_then(Value::as_object);
        let mut problems = Vec::new();
        for (name, least) in &self.minimum_retention {
            let field = snapshot_field(name);
            let kept = kept(snapshots, &field);
            if kept < *least {
                problems.push((
                    format!("spec.successfulSnapshots.{field}"),
                    format!("keeps {kept}; {RETENTION}.{name} requires at least {least}"),
                ));
            }
        }
        problems
    }

    /// Whether `minimumRetention` is set: then every backend needs a RetentionPolicy to check.
    pub fn requires_retention(&self) -> bool {
        !self.minimum_retention.is_empty()
    }

    /// The minimum, for messages: `keepLast ≥ 5, keepDaily ≥ 7`.
    pub fn required_retention(&self) -> String {
        let parts: Vec<String> = self
            .minimum_retention
            .iter()
            .map(|(name, least)| format!("{name} ≥ {least}"))
            .collect();
        parts.join(", ")
    }
}

/// KubeStash's name for a `keep*` field: `keepLast` → `last`.
fn snapshot_field(keep: &str) -> String {
    let rest = keep.strip_prefix("keep").unwrap_or(keep);
    let mut chars = rest.chars();
    chars
        .next()
        .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// How many the policy keeps of `name`; a missing or invalid field keeps none.
fn kept(policy: Option<&Map<String, Value>>, name: &str) -> u64 {
    policy.and_then(|p| p.get(name)).and_then(Value::as_u64).unwrap_or(0)
}

/// Why `value` is no count of backups to keep: the number itself when it is one.
fn not_a_count(value: &Value) -> String {
    match value {
        Value::Number(number) => format!("expected a non-negative integer, got {number}"),
        other => expected("a non-negative integer", other),
    }
}

fn retention(value: Option<&Value>, path: &str, problems: &mut Vec<Problem>) -> Vec<(&'static str, u64)> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Vec::new();
    };
    let what = "a map of keep* fields to the least number to keep";
    let Some(map) = fields::object(value, path, &KEEP_FIELDS, what, problems) else {
        return Vec::new();
    };
    let mut minimums = Vec::new();
    for name in KEEP_FIELDS {
        match map.get(name) {
            None | Some(Value::Null) => {}
            Some(v) => match v.as_u64() {
                Some(least) => minimums.push((name, least)),
                None => problems.push(Problem::setting(format!("{path}.{name}"), not_a_count(v))),
            },
        }
    }
    minimums
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubestash_snapshots_compare_with_the_keep_fields() {
        let guardrails = Guardrails::parse(
            Some(&serde_json::json!({"minimumRetention": {"keepLast": 5, "keepDaily": 7}})),
            "guardrails",
        )
        .unwrap();
        let snapshots = serde_json::json!({"last": 10, "daily": 3});
        assert_eq!(
            guardrails.snapshot_problems(Some(&snapshots)),
            [(
                "spec.successfulSnapshots.daily".to_string(),
                "keeps 3; guardrails.minimumRetention.keepDaily requires at least 7".to_string()
            )]
        );
        assert_eq!(guardrails.snapshot_problems(None).len(), 2);
        assert_eq!(snapshot_field("keepHourly"), "hourly");
        assert!(Guardrails::default().snapshot_problems(None).is_empty());
    }
    use crate::report::render;
    use serde_json::json;

    fn guardrails(value: Value) -> Guardrails {
        Guardrails::parse(Some(&value), "guardrails").unwrap()
    }

    impl Guardrails {
        fn problem_of(&self, schedule: &str) -> Option<String> {
            self.schedule_problem(schedule, &CronSchedule::parse(schedule).unwrap())
        }
    }

    #[test]
    fn frequency_edge_cases() {
        let daily = guardrails(json!({"minimumFrequency": "24h"}));
        let cases = [
            ("@daily", None),
            ("*/90 * * * *", None),
            ("CRON_TZ=Europe/Berlin 0 3 * * *", None),
            (
                "@monthly",
                Some(
                    "'@monthly' leaves up to 31d between backups; guardrails.minimumFrequency requires a backup at least every 1d: schedule it more often",
                ),
            ),
            (
                "0 0 29 2 *",
                Some(
                    "'0 0 29 2 *' leaves up to 1461d between backups; guardrails.minimumFrequency requires a backup at least every 1d: schedule it more often",
                ),
            ),
            (
                "0 0 31 2 *",
                Some(
                    "'0 0 31 2 *' never runs; guardrails.minimumFrequency requires a backup at least every 1d: schedule it more often",
                ),
            ),
            (
                "0 9 * * 1-5",
                Some(
                    "'0 9 * * 1-5' leaves up to 3d between backups; guardrails.minimumFrequency requires a backup at least every 1d: schedule it more often",
                ),
            ),
        ];
        for (schedule, expected) in cases {
            assert_eq!(daily.problem_of(schedule).as_deref(), expected, "{schedule}");
        }
        let hourly = guardrails(json!({"minimumFrequency": "90m"}));
        assert_eq!(hourly.problem_of("*/90 * * * *"), None, "minute 0 of every hour");
        assert!(hourly.problem_of("0 */2 * * *").is_some());
        assert_eq!(Guardrails::default().problem_of("@yearly"), None);
    }

    #[test]
    fn retention_per_field_and_dry_run() {
        let g = guardrails(json!({"minimumRetention": {"keepDaily": 7, "keepLast": 5}}));
        assert!(
            g.retention_problems("bp", Some(&json!({"keepLast": 5, "keepDaily": 7})))
                .is_empty()
        );
        assert_eq!(
            render(&g.retention_problems("bp", Some(&json!({"keepLast": 5, "keepDaily": 3})))),
            [
                "BackupBlueprint 'bp' spec.retentionPolicy.keepDaily: keeps 3; guardrails.minimumRetention.keepDaily requires at least 7"
            ]
        );
        assert_eq!(
            render(&g.retention_problems("bp", Some(&json!({"keepLast": 10})))),
            [
                "BackupBlueprint 'bp' spec.retentionPolicy.keepDaily: keeps 0; guardrails.minimumRetention.keepDaily requires at least 7"
            ]
        );
        assert_eq!(
            render(&g.retention_problems("bp", Some(&json!({"keepLast": 10, "keepDaily": 10, "dryRun": true})))),
            [
                "BackupBlueprint 'bp' spec.retentionPolicy.dryRun: is true, so nothing is kept or pruned by this policy; \
              guardrails.minimumRetention requires keepLast ≥ 5, keepDaily ≥ 7: set dryRun to false"
            ]
        );
    }

    #[test]
    fn invalid_guardrails_name_their_field_path() {
        let problems = Guardrails::parse(
            Some(&json!({"minimumFrequency": "daily", "minimumRetention": {"keepDaily": -1, "keepForever": 1}})),
            "guardrails",
        )
        .unwrap_err();
        assert_eq!(
            render(&problems),
            [
                "guardrails.minimumFrequency: 'daily' is not a duration; expected whole numbers with the units d, h and m, largest first, such as 24h, 90m, 7d or 1h30m",
                "guardrails.minimumRetention.keepForever: unknown field; expected keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly or keepYearly",
                "guardrails.minimumRetention.keepDaily: expected a non-negative integer, got -1",
            ]
        );
        let problems = Guardrails::parse(
            Some(&json!({"minimumFrequency": 24, "minimumRetention": {"keepDaily": "7", "keepLast": 1.5}})),
            "guardrails",
        )
        .unwrap_err();
        assert_eq!(
            render(&problems),
            [
                "guardrails.minimumFrequency: expected a duration such as 24h, got a number",
                "guardrails.minimumRetention.keepLast: expected a non-negative integer, got 1.5",
                "guardrails.minimumRetention.keepDaily: expected a non-negative integer, got a string",
            ]
        );
    }
}
