//! The longest interval between two consecutive runs of a schedule, computed exactly.

use super::parsed::{CronSchedule, Fields, Timing};
use crate::support::civil_date::{Date, days_in_month};

const MINUTES_PER_DAY: u64 = 1440;
/// The first year of the window the days are enumerated over: a leap year.
const FIRST_YEAR: u16 = 2024;
/// 28 years: 7 leap cycles of 1461 days = 10227 days = exactly 1461 weeks.
const WINDOW_YEARS: u16 = 28;
const WINDOW_DAYS: u64 = 10_227;

/// The longest wait between two consecutive runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gap {
    /// In whole minutes, rounded up (only `@every` can give a fraction of a minute), so that
    /// `gap <= limit` is exact for a limit in minutes.
    Minutes(u64),
    /// The schedule never runs (`0 0 31 2 *`, or an empty field such as `,`).
    Never,
}

/// The longest interval between two consecutive runs of `schedule`, computed, not sampled.
///
/// Which days run depends only on (day of month, month, weekday) and which dates exist. From
/// 1901 to 2099 every fourth year is a leap year, so the calendar repeats every 28 years: 7 leap
/// cycles of 1461 days are 10227 days, exactly 1461 weeks, and the same dates fall on the same
/// weekdays again. Enumerating the 28 years 2024..2052 and wrapping around from the last run
/// of 2051 to the first run of 2024 (standing for 2052) therefore gives exactly the gaps that
/// occur through 2099. The skipped leap day of 2100 (which makes `0 0 29 2 *` wait 8 years
/// across it) is ignored. The minutes of a run day are the same every day (hour and minute do
/// not depend on the day), so they are computed once: the cost is O(10227 days + 1440 minutes).
///
/// Limitation: there is no time-zone database, so the schedule is taken on the wall clock of
/// its zone as is (a `CRON_TZ=`/`TZ=` prefix changes nothing): a gap that spans a daylight
/// saving change may in reality be up to an hour longer or shorter.
pub fn longest_gap(schedule: &CronSchedule) -> Gap {
    match &schedule.timing {
        Timing::Every { seconds } => Gap::Minutes(seconds.div_ceil(60)),
        Timing::Fields(fields) => fields_gap(fields),
    }
}

fn fields_gap(fields: &Fields) -> Gap {
    let minutes = fields.minutes_of_day();
    let (Some(&first), Some(&last)) = (minutes.first(), minutes.last()) else {
        return Gap::Never;
    };
    let Some(days_apart) = longest_days_apart(fields) else {
        return Gap::Never;
    };
    // From the last run of one run day to the first run of the next.
    let across_days = days_apart * MINUTES_PER_DAY - u64::from(last - first);
    let within_day = minutes.windows(2).map(|w| u64::from(w[1] - w[0])).max().unwrap_or(0);
    Gap::Minutes(across_days.max(within_day))
}

/// The most days between two consecutive run days, wrapping around the window; `None` when no
/// day runs.
fn longest_days_apart(fields: &Fields) -> Option<u64> {
    let mut first_run: Option<u64> = None;
    let mut previous_run: Option<u64> = None;
    let mut longest = 0;
    for day in run_days(fields) {
        match previous_run {
            Some(previous) => longest = longest.max(day - previous),
            None => first_run = Some(day),
        }
        previous_run = Some(day);
    }
    let wrap = first_run? + WINDOW_DAYS - previous_run?;
    Some(longest.max(wrap))
}

/// The run days of the window, as day numbers from its first day.
fn run_days(fields: &Fields) -> impl Iterator<Item = u64> + '_ {
    let start = Date::new(FIRST_YEAR, 1, 1).map_or(1, Date::weekday);
    let months = (FIRST_YEAR..FIRST_YEAR + WINDOW_YEARS).flat_map(|year| (1..=12).map(move |month| (year, month)));
    let days = months.flat_map(|(year, month)| (1..=days_in_month(year, month)).map(move |day| (month, day)));
    days.zip(0u64..).filter_map(move |((month, day), index)| {
        let weekday = ((u64::from(start) + index) % 7) as u8;
        fields.day_matches(day, month, weekday).then_some(index)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = MINUTES_PER_DAY;

    #[test]
    fn table() {
        let cases: &[(&str, Gap)] = &[
            ("* * * * *", Gap::Minutes(1)),
            ("*/90 * * * *", Gap::Minutes(60)),
            ("*/15 * * * *", Gap::Minutes(15)),
            ("0,50 * * * *", Gap::Minutes(50)),
            ("@hourly", Gap::Minutes(60)),
            ("0 1,23 * * *", Gap::Minutes(22 * 60)),
            ("0 9-17 * * *", Gap::Minutes(16 * 60)),
            ("@daily", Gap::Minutes(DAY)),
            ("@midnight", Gap::Minutes(DAY)),
            ("CRON_TZ=Europe/Berlin 0 3 * * *", Gap::Minutes(DAY)),
            ("TZ=UTC 30 2 * * *", Gap::Minutes(DAY)),
            ("@weekly", Gap::Minutes(7 * DAY)),
            ("0 0 * * sun", Gap::Minutes(7 * DAY)),
            // Friday 9:00 to Monday 9:00.
            ("0 9 * * 1-5", Gap::Minutes(3 * DAY)),
            ("@monthly", Gap::Minutes(31 * DAY)),
            // Jan 15 to Feb 1 (Feb 15 to Mar 1 is only 14 or 13 days).
            ("0 0 1,15 * *", Gap::Minutes(17 * DAY)),
            ("0 0 31 * *", Gap::Minutes(61 * DAY)),
            ("0 0 30 * *", Gap::Minutes(60 * DAY)),
            ("@yearly", Gap::Minutes(366 * DAY)),
            ("0 0 1 jan,jul *", Gap::Minutes(184 * DAY)),
            ("0 0 29 2 *", Gap::Minutes(1461 * DAY)),
            ("0 0 31 2 *", Gap::Never),
            ("0 0 30,31 2 *", Gap::Never),
            (", * * * *", Gap::Never),
            ("0 , * * *", Gap::Never),
            // Day-of-month and day-of-week both restricted: either one matches.
            ("0 0 13 * 5", Gap::Minutes(7 * DAY)),
            ("0 0 1-31 * 1", Gap::Minutes(DAY)),
            ("0 0 ?/2 * 1", Gap::Minutes(2 * DAY)),
            // The month must match either way: Feb 29 or a Monday of February, e.g. Monday
            // 2027-02-22 to Monday 2028-02-07.
            ("0 0 29 2 1", Gap::Minutes(350 * DAY)),
            // A star (even `*/1`) makes both required.
            ("0 0 */1 * 1", Gap::Minutes(7 * DAY)),
            ("0 0 13 * *", Gap::Minutes(31 * DAY)),
            ("0 0 13 * */1", Gap::Minutes(31 * DAY)),
            ("0 0 13 * ?", Gap::Minutes(31 * DAY)),
            ("0 12 13 * 5,*", Gap::Minutes(31 * DAY)),
            ("0 0 29 2 1,*", Gap::Minutes(1461 * DAY)),
            ("0 0 29 2 */1", Gap::Minutes(1461 * DAY)),
            // Runs late and early on far apart days.
            ("59 23 1 1 *", Gap::Minutes(366 * DAY)),
            ("0,59 0,23 1 1 *", Gap::Minutes(366 * DAY - 23 * 60 - 59)),
            ("@every 1h30m", Gap::Minutes(90)),
            ("@every 90s", Gap::Minutes(2)),
            ("@every 1ms", Gap::Minutes(1)),
            ("TZ=UTC @every 48h", Gap::Minutes(2 * DAY)),
        ];
        let mut failures = Vec::new();
        for &(text, want) in cases {
            let got = longest_gap(&CronSchedule::parse(text).unwrap());
            if got != want {
                failures.push(format!("{text}: want {want:?}, got {got:?}"));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn friday_the_thirteenth_needs_both() {
        // `0 0 13 * 5` runs on the 13th or on Fridays; robfig's syntax cannot say "Friday the
        // 13th", but the day matching can: with a star bit both must match.
        let friday_13th = Fields {
            day_of_month_star: true,
            ..match CronSchedule::parse("0 0 13 * 5").unwrap().timing {
                Timing::Fields(fields) => fields,
                Timing::Every { .. } => unreachable!(),
            }
        };
        // Friday the 13th is at most 14 months (427 days) apart.
        assert_eq!(fields_gap(&friday_13th), Gap::Minutes(427 * DAY));
    }

    /// The gap from every run instant of the window, listed one by one with dates computed
    /// from day numbers: an independent check of the day and minute arithmetic.
    fn brute_force(fields: &Fields) -> Gap {
        let start = Date::new(FIRST_YEAR, 1, 1).unwrap().days_from_epoch();
        let mut runs = Vec::new();
        for index in 0..WINDOW_DAYS {
            let date = Date::from_unix_seconds((start + index as i64) * 86_400);
            if fields.day_matches(date.day(), date.month(), date.weekday()) {
                runs.extend(fields.minutes_of_day().iter().map(|m| index * DAY + u64::from(*m)));
            }
        }
        let (Some(first), Some(last)) = (runs.first(), runs.last()) else {
            return Gap::Never;
        };
        let wrap = first + WINDOW_DAYS * DAY - last;
        Gap::Minutes(runs.windows(2).map(|w| w[1] - w[0]).fold(wrap, u64::max))
    }

    #[test]
    fn agrees_with_brute_force() {
        const MINUTES: &[&str] = &["0", "59", "0,30", "*/40"];
        const HOURS: &[&str] = &["0", "23", "1,22", "*/7"];
        const DAYS: &[&str] = &[
            "*", "?", "1", "31", "29", "1,15", "*/10", "13", "28-31", "2-30/9", "*/1", "30,31",
        ];
        const MONTHS: &[&str] = &["*", "2", "jan,jul", "*/5", "2,4,6", "dec", "4-11/3"];
        const WEEKDAYS: &[&str] = &["*", "?", "0", "5", "1-5", "sat,sun", "*/3", "*/1", "2,*"];
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        let mut pick = |options: &[&'static str]| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            options[(seed % options.len() as u64) as usize]
        };
        for _ in 0..40 {
            let text = [MINUTES, HOURS, DAYS, MONTHS, WEEKDAYS].map(&mut pick).join(" ");
            let Timing::Fields(fields) = CronSchedule::parse(&text).unwrap().timing else {
                unreachable!()
            };
            assert_eq!(fields_gap(&fields), brute_force(&fields), "{text}");
        }
    }

    #[test]
    fn the_window_repeats_the_calendar() {
        let start = Date::new(FIRST_YEAR, 1, 1).unwrap();
        let end = Date::new(FIRST_YEAR + WINDOW_YEARS, 1, 1).unwrap();
        assert_eq!(crate::support::civil_date::days_until(start, end), WINDOW_DAYS as i64);
        assert_eq!(start.weekday(), end.weekday());
        assert_eq!(
            run_days(&Fields::descriptor("@daily").unwrap()).count() as u64,
            WINDOW_DAYS
        );
    }
}
