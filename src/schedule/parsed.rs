//! The parsed form of a cron schedule, with robfig/cron v3's meaning.

/// A schedule accepted by Kubernetes CronJob (robfig/cron v3 `ParseStandard`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSchedule {
    /// The zone of a `CRON_TZ=` or `TZ=` prefix, as written (may be empty, which Go reads as UTC).
    pub zone: Option<String>,
    pub timing: Timing,
}

impl CronSchedule {
    /// Parses `text` with exactly the acceptance and messages of [`crate::schedule::cron::parse_schedule`].
    pub fn parse(text: &str) -> Result<CronSchedule, String> {
        crate::schedule::cron::parse_schedule(text)
    }
}

/// When a schedule runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Timing {
    /// `@every <duration>`: one run every `seconds` (robfig: whole seconds, at least 1).
    Every { seconds: u64 },
    /// Five fields, or a descriptor such as `@daily` that stands for five fields.
    Fields(Fields),
}

/// The values each field allows, as bit sets: bit `n` set when value `n` is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fields {
    /// Bits 0..=59.
    pub minutes: u64,
    /// Bits 0..=23.
    pub hours: u64,
    /// Bits 1..=31.
    pub days_of_month: u64,
    /// Bits 1..=12.
    pub months: u64,
    /// Bits 0..=6, Sunday is 0.
    pub days_of_week: u64,
    /// robfig's "star bit" of day-of-month: some list element was `*` or `?` without a step
    /// above 1 (`*/1` keeps it, `*/2` does not).
    pub day_of_month_star: bool,
    /// The same for day-of-week.
    pub day_of_week_star: bool,
}

/// Bits `min..=max`.
const fn all(min: u32, max: u32) -> u64 {
    (u64::MAX >> (63 - max)) & (u64::MAX << min)
}

const EVERY_DAY: Fields = Fields {
    minutes: 1,
    hours: 1,
    days_of_month: all(1, 31),
    months: all(1, 12),
    days_of_week: all(0, 6),
    day_of_month_star: true,
    day_of_week_star: true,
};

impl Fields {
    /// What a descriptor stands for in robfig (`@weekly` is `0 0 * * 0`), or `None` for a text
    /// that is not one of them (`@every` is not a field descriptor).
    pub fn descriptor(text: &str) -> Option<Fields> {
        Some(match text {
            "@yearly" | "@annually" => Fields {
                days_of_month: 1 << 1,
                months: 1 << 1,
                day_of_month_star: false,
                ..EVERY_DAY
            },
            "@monthly" => Fields {
                days_of_month: 1 << 1,
                day_of_month_star: false,
                ..EVERY_DAY
            },
            "@weekly" => Fields {
                days_of_week: 1,
                day_of_week_star: false,
                ..EVERY_DAY
            },
            "@daily" | "@midnight" => EVERY_DAY,
            "@hourly" => Fields {
                hours: all(0, 23),
                ..EVERY_DAY
            },
            _ => return None,
        })
    }

    /// Whether the schedule runs on a day, as robfig's `dayMatches`: when day-of-month or
    /// day-of-week has the star bit both must match, otherwise either one is enough.
    pub fn day_matches(&self, day_of_month: u8, month: u8, weekday: u8) -> bool {
        let has = |set: u64, bit: u8| bit < 64 && set & (1 << bit) != 0;
        if !has(self.months, month) {
            return false;
        }
        let dom = has(self.days_of_month, day_of_month);
        let dow = has(self.days_of_week, weekday);
        match self.day_of_month_star || self.day_of_week_star {
            true => dom && dow,
            false => dom || dow,
        }
    }

    /// The minutes after midnight at which the schedule runs on a day it runs, ascending. The
    /// same on every day, since hour and minute do not depend on the day.
    pub fn minutes_of_day(&self) -> Vec<u16> {
        let set = |bits: u64, max: u16| (0..=max).filter(move |n| bits & (1 << n) != 0);
        set(self.hours, 23)
            .flat_map(|hour| set(self.minutes, 59).map(move |minute| hour * 60 + minute))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Fields {
        match CronSchedule::parse(text).unwrap().timing {
            Timing::Fields(fields) => fields,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn descriptors_are_their_five_fields() {
        let cases = [
            ("@yearly", "0 0 1 1 *"),
            ("@annually", "0 0 1 1 *"),
            ("@monthly", "0 0 1 * *"),
            ("@weekly", "0 0 * * 0"),
            ("@daily", "0 0 * * *"),
            ("@midnight", "0 0 * * *"),
            ("@hourly", "0 * * * *"),
        ];
        for (descriptor, five) in cases {
            assert_eq!(fields(descriptor), fields(five), "{descriptor}");
        }
        assert_eq!(Fields::descriptor("@every"), None);
    }

    #[test]
    fn parsed_fields() {
        let cases: &[(&str, [u64; 5], bool, bool)] = &[
            (
                "* * * * *",
                [all(0, 59), all(0, 23), all(1, 31), all(1, 12), all(0, 6)],
                true,
                true,
            ),
            (
                "*/90 5 1,15 feb-apr/2 MON-FRI",
                [1, 1 << 5, 1 << 1 | 1 << 15, 1 << 2 | 1 << 4, all(1, 5)],
                false,
                false,
            ),
            (
                "5/20 */12 ?/10 * */1",
                [
                    1 << 5 | 1 << 25 | 1 << 45,
                    1 | 1 << 12,
                    1 << 1 | 1 << 11 | 1 << 21 | 1 << 31,
                    all(1, 12),
                    all(0, 6),
                ],
                false,
                true,
            ),
            ("0 0 *-5,3 * 1", [1, 1, all(1, 31), all(1, 12), 1 << 1], true, false),
            (", 0 1 1 *", [0, 1, 1 << 1, 1 << 1, all(0, 6)], false, true),
            (
                "*/9223372036854775807 0 1 1 *",
                [1, 1, 1 << 1, 1 << 1, all(0, 6)],
                false,
                true,
            ),
        ];
        for (text, [minutes, hours, days_of_month, months, days_of_week], dom_star, dow_star) in cases {
            let want = Fields {
                minutes: *minutes,
                hours: *hours,
                days_of_month: *days_of_month,
                months: *months,
                days_of_week: *days_of_week,
                day_of_month_star: *dom_star,
                day_of_week_star: *dow_star,
            };
            assert_eq!(fields(text), want, "{text}");
        }
    }

    #[test]
    fn zone_and_every() {
        let parsed = CronSchedule::parse("CRON_TZ=Europe/Berlin 0 3 * * *").unwrap();
        assert_eq!(parsed.zone.as_deref(), Some("Europe/Berlin"));
        assert_eq!(CronSchedule::parse("TZ= @daily").unwrap().zone.as_deref(), Some(""));
        assert_eq!(CronSchedule::parse("@daily").unwrap().zone, None);
        let every = |text: &str| CronSchedule::parse(text).unwrap().timing;
        assert_eq!(every("@every 1h30m"), Timing::Every { seconds: 5400 });
        assert_eq!(every("@every 1.5s"), Timing::Every { seconds: 1 });
        assert_eq!(every("@every 300ms"), Timing::Every { seconds: 1 });
        assert_eq!(every("@every -1h"), Timing::Every { seconds: 1 });
        assert_eq!(every("@every 0"), Timing::Every { seconds: 1 });
        assert_eq!(
            every("@every 9223372036854775808ns9223372036854775808ns"),
            Timing::Every { seconds: 1 }
        );
        assert_eq!(
            every("@every 2562047h47m16.854775807s"),
            Timing::Every { seconds: 9_223_372_036 }
        );
        assert_eq!(every("TZ=UTC @every 90s"), Timing::Every { seconds: 90 });
    }

    #[test]
    fn day_matching_follows_robfig() {
        // 2024-03-01 was a Friday (5).
        let either = fields("0 0 13 * 5");
        assert!(either.day_matches(13, 3, 3) && either.day_matches(1, 3, 5) && !either.day_matches(2, 3, 6));
        let both = fields("0 0 */1 * 5");
        assert!(!both.day_matches(13, 3, 3) && both.day_matches(1, 3, 5));
        let month = fields("0 0 * 2 *");
        assert!(month.day_matches(1, 2, 0) && !month.day_matches(1, 3, 0) && !month.day_matches(1, 200, 0));
        assert_eq!(fields("*/30 1,23 * * *").minutes_of_day(), [60, 90, 1380, 1410]);
    }
}
