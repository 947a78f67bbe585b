//! Cron schedule validation with the same acceptance as Kubernetes CronJob
//! `spec.schedule`, which is parsed by `cron.ParseStandard` of
//! github.com/robfig/cron v3.0.1. Only acceptance is mirrored; the messages
//! are our own and name the offending part instead of echoing the schedule. The parser
//! produces the schedule's meaning too ([`CronSchedule`]), so acceptance and meaning come from
//! one place.

use crate::report::shorten;
use crate::schedule::{CronSchedule, Fields, Timing};

/// One of the five positional fields of a standard cron schedule.
struct Field {
    name: &'static str,
    min: u64,
    max: u64,
    /// Three-letter names; `names[i]` stands for `min + i`.
    names: &'static [&'static str],
    names_hint: &'static str,
}

const FIELDS: [Field; 5] = [
    Field {
        name: "minute",
        min: 0,
        max: 59,
        names: &[],
        names_hint: "",
    },
    Field {
        name: "hour",
        min: 0,
        max: 23,
        names: &[],
        names_hint: "",
    },
    Field {
        name: "day-of-month",
        min: 1,
        max: 31,
        names: &[],
        names_hint: "",
    },
    Field {
        name: "month",
        min: 1,
        max: 12,
        names: &[
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ],
        names_hint: " or JAN-DEC",
    },
    Field {
        name: "day-of-week",
        min: 0,
        max: 6,
        names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
        names_hint: " or SUN-SAT",
    },
];

/// The values a field allows (bit `n` for value `n`) and whether robfig's star bit is set.
#[derive(Clone, Copy, Default)]
struct FieldSet {
    bits: u64,
    star: bool,
}

/// The meaning of `schedule` when Kubernetes CronJob would accept it; otherwise a message that
/// names the bad part and says what is expected, WITHOUT repeating the whole schedule.
pub fn parse_schedule(schedule: &str) -> Result<CronSchedule, String> {
    if schedule.is_empty() {
        return Err("empty schedule".to_string());
    }
    let mut spec = schedule;
    let mut zone = None;
    if let Some(rest) = spec.strip_prefix("TZ=").or_else(|| spec.strip_prefix("CRON_TZ=")) {
        // robfig takes the zone up to the first ASCII space (not any whitespace)
        // and trims only the remainder; with no space at all it panics.
        let Some((name, after)) = rest.split_once(' ') else {
            return Err("time zone prefix must be followed by a space and a schedule".to_string());
        };
        check_zone(name)?;
        spec = after.trim();
        zone = Some(name.to_string());
    }

    // Without a zone prefix nothing is trimmed, so " @daily" is a one-field
    // schedule and "@daily " an unknown descriptor, as in robfig.
    if spec.starts_with('@') {
        return descriptor(spec).map(|timing| CronSchedule { zone, timing });
    }

    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.is_empty() {
        return Err(if zone.is_some() {
            "missing schedule after the time zone prefix".to_string()
        } else {
            "empty schedule".to_string()
        });
    }
    if fields.len() != FIELDS.len() {
        let mut msg = format!(
            "expected 5 fields (minute hour day-of-month month day-of-week), found {}",
            fields.len()
        );
        if fields[0].starts_with('@') {
            msg.push_str("; a descriptor must start the schedule and stand alone");
        } else if fields.len() == 6 {
            msg.push_str("; a seconds field is not supported");
        }
        return Err(msg);
    }
    let mut sets = [FieldSet::default(); 5];
    for ((text, field), set) in fields.iter().zip(FIELDS.iter()).zip(sets.iter_mut()) {
        // robfig splits lists with strings.FieldsFunc, which drops empty
        // elements: "1,,2" and even "," are accepted (and "," allows nothing).
        for expr in text.split(',').filter(|e| !e.is_empty()) {
            let one = list_element(expr, field)?;
            set.bits |= one.bits;
            set.star |= one.star;
        }
    }
    let [minutes, hours, days_of_month, months, days_of_week] = sets;
    let fields = Fields {
        minutes: minutes.bits,
        hours: hours.bits,
        days_of_month: days_of_month.bits,
        months: months.bits,
        days_of_week: days_of_week.bits,
        day_of_month_star: days_of_month.star,
        day_of_week_star: days_of_week.star,
    };
    Ok(CronSchedule {
        zone,
        timing: Timing::Fields(fields),
    })
}

/// One list element: `*`, `?`, `v`, `a-b`, each optionally followed by `/step`.
fn list_element(expr: &str, f: &Field) -> Result<FieldSet, String> {
    let mut slashes = expr.split('/');
    let range = slashes.next().unwrap_or_default();
    let step = slashes.next();
    if slashes.next().is_some() {
        return Err(format!("{} {}: too many '/'", f.name, quote(expr)));
    }

    let mut hyphens = range.split('-');
    let low = hyphens.next().unwrap_or_default();
    let star = low == "*" || low == "?";
    let (mut start, mut end) = (f.min, f.max);
    // robfig ignores whatever follows "*-" or "?-".
    if !star {
        start = value(low, expr, f)?;
        end = match (hyphens.next(), step) {
            (Some(high), _) => value(high, expr, f)?,
            // "a/n" means "a-max/n".
            (None, Some(_)) => f.max,
            (None, None) => start,
        };
        if hyphens.next().is_some() {
            return Err(format!("{} {}: too many '-'", f.name, quote(expr)));
        }
        if start > end {
            return Err(format!(
                "{} range {}: start {start} is after end {end}",
                f.name,
                quote(range)
            ));
        }
    }

    let step = match step.map(str::parse::<i64>) {
        None => 1,
        Some(Ok(n)) if n > 0 => n.unsigned_abs(),
        Some(_) => {
            return Err(format!(
                "{} step must be a positive number, got {}",
                f.name,
                quote(step.unwrap_or_default())
            ));
        }
    };
    // A step only goes past the end of a range of at most 60 values: any larger one is the same.
    let stride = usize::try_from(step).unwrap_or(usize::MAX);
    Ok(FieldSet {
        bits: (start..=end).step_by(stride).fold(0, |bits, v| bits | 1 << v),
        // robfig drops the star bit of "*/n" for n > 1: "*/2" restricts the day.
        star: star && step == 1,
    })
}

/// A number (Go `strconv.Atoi`: optional sign, ASCII digits, fits in i64) or,
/// for month and day-of-week, a case-insensitive three-letter name.
fn value(text: &str, expr: &str, f: &Field) -> Result<u64, String> {
    if let Some(i) = f.names.iter().position(|n| go_lower_eq(text, n)) {
        return Ok(f.min + i as u64);
    }
    let expected = format!("{}-{}{}", f.min, f.max, f.names_hint);
    let n = match text.parse::<i64>() {
        Ok(n) => n,
        Err(e) if *e.kind() == std::num::IntErrorKind::PosOverflow => {
            return Err(format!("{} value {} is out of range {expected}", f.name, quote(text)));
        }
        Err(_) if text.is_empty() => {
            return Err(format!(
                "{} {}: missing value (expected {expected})",
                f.name,
                quote(expr)
            ));
        }
        Err(_) if !f.names.is_empty() && text.bytes().all(|b| b.is_ascii_alphabetic()) => {
            return Err(format!("unknown {} name {} (expected {expected})", f.name, quote(text)));
        }
        Err(_) => {
            return Err(format!(
                "{} value {} is not a number (expected {expected})",
                f.name,
                quote(text)
            ));
        }
    };
    match u64::try_from(n) {
        Ok(v) if (f.min..=f.max).contains(&v) => Ok(v),
        _ => Err(format!("{} value {n} is out of range {}-{}", f.name, f.min, f.max)),
    }
}

/// `strings.ToLower(text) == name` for an ASCII `name`. Besides ASCII, Go
/// lowercases only U+0130 (İ) to 'i' and U+212A (Kelvin) to 'k'; 'k' occurs in
/// no name.
fn go_lower_eq(text: &str, name: &str) -> bool {
    text.chars()
        .map(|c| if c == '\u{130}' { 'i' } else { c.to_ascii_lowercase() })
        .eq(name.chars())
}

fn descriptor(spec: &str) -> Result<Timing, String> {
    if let Some(fields) = Fields::descriptor(spec) {
        return Ok(Timing::Fields(fields));
    }
    if let Some(duration) = spec.strip_prefix("@every ") {
        return every_seconds(duration)
            .map(|seconds| Timing::Every { seconds })
            .map_err(|why| format!("@every duration {}: {why}", quote(duration)));
    }
    if Fields::descriptor(spec.trim_end()).is_some() {
        return Err(format!(
            "descriptor {} must not be followed by whitespace",
            quote(spec.trim_end())
        ));
    }
    Err(format!(
        "unknown descriptor {} (use @yearly, @annually, @monthly, @weekly, @daily, @midnight, \
         @hourly or @every <duration>)",
        quote(spec)
    ))
}

/// Acceptance of Go's `time.ParseDuration`: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`
/// or "0", total within ±2^63 ns. robfig clamps any result (even negative) to
/// at least one second, so every parsable duration is accepted. The result is
/// robfig's delay: whole seconds (truncated), at least one.
fn every_seconds(s: &str) -> Result<u64, String> {
    const NANOS_PER_SECOND: u64 = 1_000_000_000;
    const LIMIT: u64 = 1 << 63;
    let (neg, mut s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if s == "0" {
        return Ok(1);
    }
    if s.is_empty() {
        return Err("expected a duration such as 1h30m".to_string());
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        let bytes = s.as_bytes();
        if !(bytes[0] == b'.' || bytes[0].is_ascii_digit()) {
            return Err("expected a number before each unit".to_string());
        }
        let int_len = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
        let mut v: u64 = 0;
        for &b in &bytes[..int_len] {
            if v > LIMIT / 10 {
                return Err("duration is too large".to_string());
            }
            v = v * 10 + u64::from(b - b'0');
            if v > LIMIT {
                return Err("duration is too large".to_string());
            }
        }
        s = &s[int_len..];
        let (mut frac, mut scale, mut frac_len) = (0u64, 1f64, None);
        if let Some(rest) = s.strip_prefix('.') {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            // Go keeps fraction digits only while they fit in 63 bits.
            for b in rest.bytes().take(digits) {
                if frac > (LIMIT - 1) / 10 {
                    break;
                }
                let next = frac * 10 + u64::from(b - b'0');
                if next > LIMIT {
                    break;
                }
                frac = next;
                scale *= 10.0;
            }
            frac_len = Some(digits);
            s = &rest[digits..];
        }
        if int_len == 0 && frac_len.unwrap_or(0) == 0 {
            return Err("expected digits around '.'".to_string());
        }
        // A unit is everything up to the next digit or '.', so "1h 30m" has
        // unit "h ". Both split points are ASCII, hence char boundaries.
        let unit_len = s.bytes().take_while(|b| !(b.is_ascii_digit() || *b == b'.')).count();
        let (unit, rest) = s.split_at(unit_len);
        s = rest;
        let ns: u64 = match unit {
            "" => return Err("missing unit (use ns, us, ms, s, m or h)".to_string()),
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(format!("unknown unit {} (use ns, us, ms, s, m or h)", quote(unit)));
            }
        };
        if v > LIMIT / ns {
            return Err("duration is too large".to_string());
        }
        v *= ns;
        if frac > 0 {
            // Same float arithmetic as Go; the addend is below 3.6e12.
            v += (frac as f64 * (ns as f64 / scale)) as u64;
            if v > LIMIT {
                return Err("duration is too large".to_string());
            }
        }
        // Go adds in uint64 too: 2^63 + 2^63 wraps to 0 and is accepted.
        total = total.wrapping_add(v);
        if total > LIMIT {
            return Err("duration is too large".to_string());
        }
    }
    if !neg && total > LIMIT - 1 {
        return Err("duration is too large".to_string());
    }
    Ok(match neg {
        true => 1,
        false => (total / NANOS_PER_SECOND).max(1),
    })
}

/// Only UTC, Local and IANA-shaped names: tzdata cannot be loaded here.
/// Go's `time.LoadLocation("")` is UTC, so an empty zone is accepted too.
/// Components follow the rule Kubernetes applies to `spec.timeZone`.
fn check_zone(zone: &str) -> Result<(), String> {
    let component_ok = |c: &str| {
        (1..=14).contains(&c.len())
            && !c.starts_with('-')
            && c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+'))
    };
    if zone.is_empty() || zone == "UTC" || zone == "Local" {
        return Ok(());
    }
    // Zone lookup is case-sensitive, so these are known not to exist.
    let miscased = zone.eq_ignore_ascii_case("UTC") || zone.eq_ignore_ascii_case("Local");
    if !miscased && zone.split('/').all(component_ok) {
        return Ok(());
    }
    Err(format!(
        "time zone {} is not a valid name (expected UTC, Local or an IANA name such as \
         Europe/Berlin)",
        quote(zone)
    ))
}

/// Quotes user text for a message, shortened so the message stays small.
fn quote(s: &str) -> String {
    format!("'{}'", shorten(s))
}

#[cfg(test)]
mod tests {
    use super::parse_schedule;

    fn validate_schedule(schedule: &str) -> Result<(), String> {
        parse_schedule(schedule).map(|_| ())
    }

    /// (schedule, None when accepted / Some(part of the error) when rejected)
    const CASES: &[(&str, Option<&str>)] = &[
        // Plain values, stars and '?' (allowed in every field by robfig).
        ("* * * * *", None),
        ("0 0 1 1 0", None),
        ("59 23 31 12 6", None),
        ("? ? ? ? ?", None),
        ("0 0 31 2 *", None),
        ("+5 +0 +1 +1 +0", None),
        ("00005 0 01 01 00", None),
        ("000000000000000000000000005 * * * *", None),
        // Field count and whitespace (strings.Fields: any Unicode space).
        ("", Some("empty schedule")),
        ("   ", Some("empty schedule")),
        (
            "* * * *",
            Some("expected 5 fields (minute hour day-of-month month day-of-week), found 4"),
        ),
        ("0 * * * * *", Some("found 6; a seconds field is not supported")),
        ("  \t*/5\n*  * *\u{3000}*  ", None),
        ("*\u{a0}* * * *", None),
        // Bounds per field.
        ("60 * * * *", Some("minute value 60 is out of range 0-59")),
        ("* 24 * * *", Some("hour value 24 is out of range 0-23")),
        ("* * 0 * *", Some("day-of-month value 0 is out of range 1-31")),
        ("* * 32 * *", Some("day-of-month value 32 is out of range 1-31")),
        ("* * * 0 *", Some("month value 0 is out of range 1-12")),
        ("* * * 13 *", Some("month value 13 is out of range 1-12")),
        ("0 0 * * 7", Some("day-of-week value 7 is out of range 0-6")),
        (
            "99999999999999999999 * * * *",
            Some("minute value '99999999999999999999' is out of range 0-59"),
        ),
        // Names: month and day-of-week only, case-insensitive, three letters.
        ("0 0 * jan,FEB,Dec sun-SAT", None),
        ("0 0 * JAN-DEC/2 MON-FRI", None),
        ("0 0 * * FR\u{130}", None),
        (
            "0 0 * JANUARY *",
            Some("unknown month name 'JANUARY' (expected 1-12 or JAN-DEC)"),
        ),
        ("0 0 * * SUNDAY", Some("unknown day-of-week name 'SUNDAY'")),
        // The names are ASCII: a word with other letters is no misspelled name.
        (
            "0 0 * M\u{c4}R *",
            Some("month value 'M\u{c4}R' is not a number (expected 1-12 or JAN-DEC)"),
        ),
        (
            "JAN * * * *",
            Some("minute value 'JAN' is not a number (expected 0-59)"),
        ),
        ("* * * * 1x", Some("day-of-week value '1x' is not a number")),
        // Lists: robfig drops empty elements.
        ("0,15,30,45 * * * *", None),
        ("1,,2 * * * *", None),
        (", * * * *", None),
        ("1,60 * * * *", Some("minute value 60 is out of range")),
        // Ranges.
        ("1-5 * * * *", None),
        ("5-5 * * * *", None),
        ("5-1 * * * *", Some("minute range '5-1': start 5 is after end 1")),
        ("1-2-3 * * * *", Some("minute '1-2-3': too many '-'")),
        ("- * * * *", Some("minute '-': missing value")),
        ("-- * * * *", Some("missing value")),
        ("1- * * * *", Some("missing value")),
        ("*-5 * * * *", None),
        ("?-x-y * * * *", None),
        // Steps.
        ("*/5 * * * *", None),
        ("1-30/7 * * * *", None),
        ("5/15 * * * *", None),
        ("*/+5 * * * *", None),
        ("*/61 * * * *", None),
        ("*/9223372036854775807 * * * *", None),
        ("1-5/0 * * * *", Some("minute step must be a positive number, got '0'")),
        ("*/0 * * * *", Some("step must be a positive number, got '0'")),
        ("*/-1 * * * *", Some("step must be a positive number, got '-1'")),
        ("*/ * * * *", Some("step must be a positive number, got ''")),
        ("*/x * * * *", Some("step must be a positive number, got 'x'")),
        ("*/99999999999999999999 * * * *", Some("step must be a positive number")),
        ("*/2/3 * * * *", Some("minute '*/2/3': too many '/'")),
        ("// * * * *", Some("too many '/'")),
        ("/5 * * * *", Some("missing value")),
        ("70/5 * * * *", Some("minute value 70 is out of range 0-59")),
        // Descriptors: exact, case-sensitive, not trimmed without a zone prefix.
        ("@yearly", None),
        ("@annually", None),
        ("@monthly", None),
        ("@weekly", None),
        ("@daily", None),
        ("@midnight", None),
        ("@hourly", None),
        ("@DAILY", Some("unknown descriptor '@DAILY'")),
        (
            "@fortnightly",
            Some(
                "unknown descriptor '@fortnightly' (use @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>)",
            ),
        ),
        (
            "@daily ",
            Some("descriptor '@daily' must not be followed by whitespace"),
        ),
        (" @daily", Some("found 1; a descriptor must start the schedule")),
        ("@", Some("unknown descriptor '@'")),
        // @every takes a Go duration; robfig clamps tiny or negative ones to 1s.
        ("@every 1h30m", None),
        ("@every 1.5h", None),
        ("@every .5s", None),
        ("@every 1.s", None),
        ("@every 0", None),
        ("@every -1s", None),
        ("@every 300ms", None),
        ("@every 5\u{b5}s", None),
        ("@every 2562047h47m16.854775807s", None),
        ("@every -2562047h47m16.854775808s", None),
        ("@every 2562047h47m16.854775808s", Some("duration is too large")),
        ("@every 9999999999999999999999h", Some("duration is too large")),
        ("@every 9223372036854775808ns9223372036854775808ns", None),
        ("@every", Some("unknown descriptor '@every'")),
        ("@every ", Some("expected a duration")),
        ("@every  1h", Some("expected a number before each unit")),
        ("@every 1h ", Some("unknown unit 'h '")),
        ("@every 10", Some("missing unit")),
        ("@every 1d", Some("unknown unit 'd'")),
        ("@every .s", Some("expected digits around '.'")),
        ("@every 1H", Some("unknown unit 'H'")),
        // Time zone prefix.
        ("CRON_TZ=Europe/Berlin 0 1 * * *", None),
        ("TZ=UTC @daily", None),
        ("TZ=Local */5 * * * *", None),
        ("TZ=America/Argentina/Buenos_Aires 0 0 * * *", None),
        ("TZ=Etc/GMT+5 0 0 * * *", None),
        ("TZ=GMT 0 0 * * *", None),
        ("TZ= 0 0 * * *", None),
        ("TZ=UTC    @daily  ", None),
        ("TZ=utc 0 0 * * *", Some("time zone 'utc' is not a valid name")),
        ("TZ=UTC", Some("time zone prefix must be followed by a space")),
        ("TZ=UTC ", Some("missing schedule after the time zone prefix")),
        ("TZ=UTC\t0 0 * * *", Some("time zone 'UTC\\t0' is not a valid name")),
        ("TZ=../etc/passwd 0 0 * * *", Some("is not a valid name")),
        ("TZ=Europe//Berlin 0 0 * * *", Some("is not a valid name")),
        ("TZ=Europe/Berlin/ 0 0 * * *", Some("is not a valid name")),
        ("TZ=Europe/Bérlin 0 0 * * *", Some("is not a valid name")),
        ("TZ=UTC 60 * * * *", Some("minute value 60 is out of range")),
        ("tz=UTC 0 * * *", Some("minute value 'tz=UTC' is not a number")),
        ("CRON_TZ=UTC TZ=UTC 0 0 * * *", Some("found 6")),
    ];

    #[test]
    fn table() {
        let mut failures = Vec::new();
        for &(schedule, want) in CASES {
            let got = validate_schedule(schedule);
            let ok = match (&got, want) {
                (Ok(()), None) => true,
                (Err(msg), Some(part)) => msg.contains(part),
                _ => false,
            };
            if !ok {
                failures.push(format!("{schedule:?}: want {want:?}, got {got:?}"));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn messages_do_not_repeat_long_schedules() {
        let long_field = "1".repeat(500);
        let schedule = format!("{long_field} * * * *");
        let msg = validate_schedule(&schedule).unwrap_err();
        assert!(msg.len() < 120, "{msg}");
        let msg = validate_schedule(&format!("@{long_field}")).unwrap_err();
        assert!(msg.len() < 200, "{msg}");
    }

    /// Deterministic pseudo-random inputs built from tricky pieces: must not
    /// panic, and every message stays short.
    #[test]
    fn never_panics() {
        const PIECES: &[&str] = &[
            "*",
            "?",
            "-",
            "/",
            ",",
            " ",
            "\t",
            "0",
            "7",
            "59",
            "60",
            "+",
            "@",
            "@every ",
            "TZ=",
            "CRON_TZ=",
            "UTC",
            "Europe/Berlin",
            "jan",
            "SUN",
            "İ",
            "µs",
            "h",
            ".",
            "é",
            "\u{3000}",
            "99999999999999999999",
            "=",
            "1.5",
            "ms",
        ];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            let mut s = String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = seed % 12;
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                s.push_str(PIECES[(seed % PIECES.len() as u64) as usize]);
            }
            if let Err(msg) = validate_schedule(&s) {
                assert!(msg.len() < 300, "{s:?} -> {msg}");
            }
        }
    }
}
