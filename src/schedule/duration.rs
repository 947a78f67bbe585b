//! Durations in settings (`guardrails.minimumFrequency: 24h`) and in messages, in whole minutes.

use crate::report::shorten;

/// The longest duration accepted: a schedule that runs less than once a year is no backup.
pub const MAX_MINUTES: u64 = 366 * MINUTES_PER_DAY;
const MINUTES_PER_DAY: u64 = 1440;
const MINUTES_PER_HOUR: u64 = 60;
/// Units, largest first, each with its length in minutes.
const UNITS: [(char, u64); 3] = [('d', MINUTES_PER_DAY), ('h', MINUTES_PER_HOUR), ('m', 1)];
const EXPECTED: &str = "expected whole numbers with the units d, h and m, largest first, such as 24h, 90m, 7d or 1h30m";

/// Parses a positive duration of at most 366d written as whole numbers of days, hours and
/// minutes, largest unit first, each unit at most once (`7d`, `24h`, `90m`, `1d12h`, `1h30m`).
/// Returns minutes. The message quotes the text and says what is expected.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let quoted = shorten(text);
    if text.is_empty() {
        return Err(format!("empty duration; {EXPECTED}"));
    }
    let mut rest = text;
    let mut units = UNITS.iter();
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        // Both split points are ASCII, so they are char boundaries.
        let (number, after) = rest.split_at(digits);
        let unit = after.chars().next();
        let size = match unit {
            Some(unit) if digits > 0 => units.find(|(u, _)| *u == unit).map(|(_, size)| *size),
            _ => None,
        };
        let Some(size) = size else {
            return Err(format!("'{quoted}' is not a duration; {EXPECTED}"));
        };
        rest = &after[1..];
        // More than 7 digits is over the limit whatever the unit, and cannot overflow below.
        let count = match digits > 7 {
            true => MAX_MINUTES + 1,
            false => number.parse::<u64>().unwrap_or(MAX_MINUTES + 1),
        };
        total = total.saturating_add(count.saturating_mul(size));
    }
    if total == 0 {
        return Err(format!(
            "'{quoted}' is zero; the duration must be positive, such as 24h"
        ));
    }
    if total > MAX_MINUTES {
        return Err(format!(
            "'{quoted}' is longer than the longest duration allowed, 366d; use at most 366d"
        ));
    }
    Ok(total)
}

/// `minutes` for a message: days, hours and minutes, the zero ones left out (`1d 6h`,
/// `1h 30m`, `7d`, `0m`).
pub fn format_minutes(minutes: u64) -> String {
    let mut rest = minutes;
    let mut parts = Vec::new();
    for (unit, size) in UNITS {
        let count = rest / size;
        rest %= size;
        if count > 0 {
            parts.push(format!("{count}{unit}"));
        }
    }
    match parts.is_empty() {
        true => "0m".to_string(),
        false => parts.join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let cases: &[(&str, Result<u64, &str>)] = &[
            ("24h", Ok(1440)),
            ("90m", Ok(90)),
            ("7d", Ok(10_080)),
            ("1h30m", Ok(90)),
            ("1d12h", Ok(2160)),
            ("1d1h1m", Ok(1501)),
            ("1d0h", Ok(1440)),
            ("007m", Ok(7)),
            ("1m", Ok(1)),
            ("366d", Ok(MAX_MINUTES)),
            ("527040m", Ok(MAX_MINUTES)),
            ("365d24h", Ok(MAX_MINUTES)),
            (
                "",
                Err(
                    "empty duration; expected whole numbers with the units d, h and m, largest first, such as 24h, 90m, 7d or 1h30m",
                ),
            ),
            (
                "24",
                Err(
                    "'24' is not a duration; expected whole numbers with the units d, h and m, largest first, such as 24h, 90m, 7d or 1h30m",
                ),
            ),
            ("h", Err("'h' is not a duration")),
            ("1w", Err("'1w' is not a duration")),
            ("1s", Err("'1s' is not a duration")),
            ("1H", Err("'1H' is not a duration")),
            ("30m1h", Err("'30m1h' is not a duration")),
            ("1h1h", Err("'1h1h' is not a duration")),
            ("1h 30m", Err("'1h 30m' is not a duration")),
            (" 1h", Err("' 1h' is not a duration")),
            ("1.5h", Err("'1.5h' is not a duration")),
            ("-1h", Err("'-1h' is not a duration")),
            ("+1h", Err("'+1h' is not a duration")),
            ("1hé", Err("'1hé' is not a duration")),
            ("1é", Err("'1é' is not a duration")),
            ("١h", Err("'١h' is not a duration")),
            ("0m", Err("'0m' is zero; the duration must be positive, such as 24h")),
            ("0d0h0m", Err("'0d0h0m' is zero")),
            (
                "367d",
                Err("'367d' is longer than the longest duration allowed, 366d; use at most 366d"),
            ),
            ("527041m", Err("is longer than the longest duration allowed")),
            ("366d1m", Err("is longer than the longest duration allowed")),
            (
                "99999999999999999999999d",
                Err("is longer than the longest duration allowed"),
            ),
            (
                "18446744073709551615m",
                Err("is longer than the longest duration allowed"),
            ),
        ];
        for (text, want) in cases {
            match (parse_duration(text), want) {
                (Ok(got), Ok(minutes)) => assert_eq!(got, *minutes, "{text}"),
                (Err(msg), Err(part)) => assert!(msg.contains(part), "{text}: {msg}"),
                (got, _) => panic!("{text}: want {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn long_text_is_shortened() {
        let msg = parse_duration(&"1".repeat(10_000)).unwrap_err();
        assert!(msg.len() < 250, "{msg}");
    }

    #[test]
    fn format_table() {
        let cases: &[(u64, &str)] = &[
            (0, "0m"),
            (1, "1m"),
            (59, "59m"),
            (60, "1h"),
            (90, "1h 30m"),
            (1440, "1d"),
            (1800, "1d 6h"),
            (1501, "1d 1h 1m"),
            (10_080, "7d"),
            (44_640, "31d"),
            (2_103_840, "1461d"),
            (u64::MAX, "12810238940076077d 12h 15m"),
        ];
        for (minutes, want) in cases {
            assert_eq!(format_minutes(*minutes), *want, "{minutes}");
        }
    }
}
