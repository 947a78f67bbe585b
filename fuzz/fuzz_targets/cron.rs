//! `parse_schedule` and `longest_gap` on arbitrary text.
//!
//! Input: the schedule (UTF-8, lossily). Checks: no panic; a message is at most 1 KiB; the parsed
//! fields hold only values of their ranges; the longest gap of a
//! schedule that runs is at least a minute and at most the 28-year window it is computed over;
//! a time-zone prefix is kept.
#![no_main]

use backup_blueprint_policy::schedule::cron::parse_schedule;
use backup_blueprint_policy::schedule::{Gap, Timing, longest_gap};
use libfuzzer_sys::fuzz_target;

/// 28 years of days, the window `longest_gap` enumerates, in minutes, plus a day.
const MAX_GAP_MINUTES: u64 = (10_227 + 1) * 1440;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parsed = parse_schedule(&text);
    if let Err(message) = &parsed {
        assert!(message.len() <= 1024, "a message of {} bytes", message.len());
    }
    let Ok(schedule) = parsed else {
        return;
    };
    if text.starts_with("TZ=") || text.starts_with("CRON_TZ=") {
        assert!(schedule.zone.is_some());
    }
    if let Timing::Fields(fields) = &schedule.timing {
        assert_eq!(fields.minutes >> 60, 0);
        assert_eq!(fields.hours >> 24, 0);
        assert_eq!(fields.days_of_month & !(((1u64 << 32) - 1) & !1), 0);
        assert_eq!(fields.months & !(((1u64 << 13) - 1) & !1), 0);
        assert_eq!(fields.days_of_week >> 7, 0);
    }
    match longest_gap(&schedule) {
        Gap::Minutes(minutes) => {
            assert!(minutes >= 1, "a gap of {minutes} minutes for {text:?}");
            if let Timing::Fields(_) = schedule.timing {
                assert!(minutes <= MAX_GAP_MINUTES, "a gap of {minutes} minutes for {text:?}");
            }
        }
        Gap::Never => assert!(!matches!(schedule.timing, Timing::Every { .. })),
    }
    assert_eq!(parse_schedule(&text), Ok(schedule));
});
