//! Calendar dates (proleptic Gregorian, UTC) for `autobackup.kubewarden.io/skip-until`, and the
//! clock that says what day it is, so that tests control "today".

use std::fmt;

use crate::report::shorten;

const FIRST_YEAR: u16 = 1970;
const LAST_YEAR: u16 = 9999;
const SECONDS_PER_DAY: i64 = 86_400;
/// Days from 0000-03-01 to 1970-01-01 in the era arithmetic below.
const EPOCH_SHIFT: i64 = 719_468;
const DAYS_PER_ERA: i64 = 146_097;
const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A valid calendar date from 1970-01-01 to 9999-12-31. Ordered chronologically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// The date `year`-`month`-`day`, or `None` when it does not exist or is outside 1970..=9999.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        let valid = (FIRST_YEAR..=LAST_YEAR).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        valid.then_some(Date { year, month, day })
    }

    /// Parses exactly `YYYY-MM-DD` (4-digit year 1970..=9999, 2-digit month and day, a day that
    /// exists in that month). The message quotes the text and says what is expected.
    pub fn parse(text: &str) -> Result<Date, String> {
        let quoted = shorten(text);
        let bytes = text.as_bytes();
        let shaped = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !shaped {
            return Err(format!(
                "'{quoted}' is not a date in the form YYYY-MM-DD, such as 2027-03-31"
            ));
        }
        // All ten bytes are ASCII, so these slices are on char boundaries.
        let number = |range: std::ops::Range<usize>| text[range].parse::<u16>().unwrap_or(0);
        let (year, month, day) = (number(0..4), number(5..7), number(8..10));
        if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
            return Err(format!("'{quoted}': the year must be from {FIRST_YEAR} to {LAST_YEAR}"));
        }
        let month = u8::try_from(month).unwrap_or(0);
        if !(1..=12).contains(&month) {
            return Err(format!("'{quoted}': the month must be from 01 to 12"));
        }
        let day = u8::try_from(day).unwrap_or(0);
        let last = days_in_month(year, month);
        if day == 0 || day > last {
            return Err(format!(
                "'{quoted}': {} {year} has days 01 to {last}",
                MONTH_NAMES[usize::from(month - 1)]
            ));
        }
        Ok(Date { year, month, day })
    }

    /// The UTC date of the Unix time `seconds`, clamped to 1970-01-01..=9999-12-31.
    pub fn from_unix_seconds(seconds: i64) -> Date {
        let last = days_from_civil(i64::from(LAST_YEAR), 12, 31);
        from_days(seconds.div_euclid(SECONDS_PER_DAY).clamp(0, last))
    }

    pub fn year(self) -> u16 {
        self.year
    }

    pub fn month(self) -> u8 {
        self.month
    }

    pub fn day(self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01 (which is day 0).
    pub fn days_from_epoch(self) -> i64 {
        days_from_civil(i64::from(self.year), self.month, self.day)
    }

    /// 0 for Sunday to 6 for Saturday, as in cron.
    pub fn weekday(self) -> u8 {
        // 1970-01-01 was a Thursday; the result is in 0..7.
        (self.days_from_epoch() + 4).rem_euclid(7) as u8
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// `to` minus `from` in days: positive when `to` is later.
pub fn days_until(from: Date, to: Date) -> i64 {
    to.days_from_epoch() - from.days_from_epoch()
}

/// Whether `year` has a February 29.
pub fn is_leap_year(year: u16) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

/// The number of days of `month` (1..=12) in `year`; 0 for a month out of range.
pub fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// What day it is (UTC).
pub trait Clock {
    fn today(&self) -> Date;
}

/// The system clock; under WASI it is the host's `clock_time_get`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn today(&self) -> Date {
        Date::from_unix_seconds(unix_seconds())
    }
}

/// Seconds since 1970-01-01 UTC; 0 before it or when there is no clock.
#[cfg(not(target_arch = "wasm32"))]
fn unix_seconds() -> i64 {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since_epoch.map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Seconds since 1970-01-01 UTC from WASI's `clock_time_get`, called directly: std's
/// `SystemTime::now` unwraps the WASI error code, which links the text of every one of them
/// (3.5 KB of policy.wasm). 0 when the host has no clock.
#[cfg(target_arch = "wasm32")]
fn unix_seconds() -> i64 {
    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    unsafe extern "C" {
        fn clock_time_get(clock: u32, precision: u64, time: *mut u64) -> i32;
    }
    const REALTIME: u32 = 0;
    const NANOSECONDS: u64 = 1_000_000_000;
    let mut time = 0u64;
    // SAFETY: `time` is a valid place for the u64 the host writes.
    match unsafe { clock_time_get(REALTIME, NANOSECONDS, &mut time) } {
        0 => i64::try_from(time / NANOSECONDS).unwrap_or(i64::MAX),
        _ => 0,
    }
}

/// A clock that is always on the same day: for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedClock(pub Date);

impl Clock for FixedClock {
    fn today(&self) -> Date {
        self.0
    }
}

/// Days from 1970-01-01 to `year`-`month`-`day` (H. Hinnant's `days_from_civil`: eras of 400
/// years starting on March 1, so the leap day ends a year).
fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let (month, day) = (i64::from(month), i64::from(day));
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * DAYS_PER_ERA + day_of_era - EPOCH_SHIFT
}

/// The inverse of `days_from_civil` for `days` in 0..=days(9999-12-31).
fn from_days(days: i64) -> Date {
    let days = days + EPOCH_SHIFT;
    let era = days.div_euclid(DAYS_PER_ERA);
    let day_of_era = days - era * DAYS_PER_ERA;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // The caller keeps `days` within 1970..=9999, so these conversions are exact.
    Date {
        year: u16::try_from(year).unwrap_or(LAST_YEAR),
        month: u8::try_from(month).unwrap_or(1),
        day: u8::try_from(day).unwrap_or(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        Date::parse(text).unwrap()
    }

    #[test]
    fn parse_table() {
        type Want = Result<(u16, u8, u8), &'static str>;
        let cases: &[(&str, Want)] = &[
            ("2026-12-01", Ok((2026, 12, 1))),
            ("1970-01-01", Ok((1970, 1, 1))),
            ("9999-12-31", Ok((9999, 12, 31))),
            ("2024-02-29", Ok((2024, 2, 29))),
            ("2000-02-29", Ok((2000, 2, 29))),
            ("2100-02-29", Err("'2100-02-29': February 2100 has days 01 to 28")),
            ("2027-02-29", Err("'2027-02-29': February 2027 has days 01 to 28")),
            ("2027-04-31", Err("'2027-04-31': April 2027 has days 01 to 30")),
            ("2027-01-00", Err("'2027-01-00': January 2027 has days 01 to 31")),
            ("2027-13-01", Err("'2027-13-01': the month must be from 01 to 12")),
            ("2027-00-01", Err("'2027-00-01': the month must be from 01 to 12")),
            ("1969-12-31", Err("'1969-12-31': the year must be from 1970 to 9999")),
            ("0000-01-01", Err("'0000-01-01': the year must be from 1970 to 9999")),
            ("", Err("'' is not a date in the form YYYY-MM-DD, such as 2027-03-31")),
            ("2027-1-01", Err("is not a date in the form YYYY-MM-DD")),
            ("2027/01/01", Err("is not a date in the form YYYY-MM-DD")),
            ("2027-01-01 ", Err("is not a date in the form YYYY-MM-DD")),
            (" 2027-01-01", Err("is not a date in the form YYYY-MM-DD")),
            ("+027-01-01", Err("is not a date in the form YYYY-MM-DD")),
            ("2027-01-0١", Err("is not a date in the form YYYY-MM-DD")),
            ("2027-01-01T00:00:00Z", Err("is not a date in the form YYYY-MM-DD")),
            ("20270-01-01", Err("is not a date in the form YYYY-MM-DD")),
            ("é027-01-01", Err("is not a date in the form YYYY-MM-DD")),
            ("2027-\n1-01", Err("'2027-\\n1-01' is not a date")),
        ];
        for (text, want) in cases {
            match (Date::parse(text), want) {
                (Ok(got), Ok((y, m, d))) => assert_eq!((got.year(), got.month(), got.day()), (*y, *m, *d), "{text}"),
                (Err(msg), Err(part)) => assert!(msg.contains(part), "{text}: {msg}"),
                (got, _) => panic!("{text}: want {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn days_from_epoch_and_back() {
        assert_eq!(date("1970-01-01").days_from_epoch(), 0);
        assert_eq!(date("2000-03-01").days_from_epoch(), 11_017);
        assert_eq!(date("2024-01-01").days_from_epoch(), 19_723);
        assert_eq!(date("9999-12-31").days_from_epoch(), 2_932_896);
        let mut day = 0;
        for year in [1970u16, 1999, 2000, 2024, 2100, 2400, 9999] {
            for month in 1..=12 {
                for d in 1..=days_in_month(year, month) {
                    let one = Date::new(year, month, d).unwrap();
                    day = one.days_from_epoch();
                    assert_eq!(from_days(day), one);
                    assert_eq!(Date::from_unix_seconds(day * SECONDS_PER_DAY + 86_399), one);
                }
            }
        }
        assert_eq!(day, 2_932_896);
    }

    #[test]
    fn from_unix_seconds_clamps() {
        assert_eq!(Date::from_unix_seconds(1_796_083_200), date("2026-12-01"));
        assert_eq!(Date::from_unix_seconds(1_796_083_199), date("2026-11-30"));
        assert_eq!(Date::from_unix_seconds(-1), date("1970-01-01"));
        assert_eq!(Date::from_unix_seconds(i64::MIN), date("1970-01-01"));
        assert_eq!(Date::from_unix_seconds(i64::MAX), date("9999-12-31"));
    }

    #[test]
    fn weekdays_leap_years_and_differences() {
        assert_eq!(date("1970-01-01").weekday(), 4);
        assert_eq!(date("2024-01-01").weekday(), 1);
        assert_eq!(date("2026-12-06").weekday(), 0);
        assert!(is_leap_year(2000) && is_leap_year(2024) && !is_leap_year(2100) && !is_leap_year(2027));
        assert_eq!(days_in_month(2027, 13), 0);
        assert_eq!(days_until(date("2026-12-01"), date("2026-12-15")), 14);
        assert_eq!(days_until(date("2026-12-15"), date("2026-12-01")), -14);
        assert_eq!(days_until(date("2024-02-28"), date("2024-03-01")), 2);
        assert!(date("2026-12-01") < date("2026-12-02") && date("2026-12-31") < date("2027-01-01"));
        assert_eq!(Date::new(2027, 2, 29), None);
        assert_eq!(Date::new(1969, 1, 1), None);
        assert_eq!(date("2027-03-04").to_string(), "2027-03-04");
    }

    #[test]
    fn clocks() {
        assert_eq!(FixedClock(date("2026-12-01")).today(), date("2026-12-01"));
        assert!(SystemClock.today() >= date("2026-01-01"));
    }
}
