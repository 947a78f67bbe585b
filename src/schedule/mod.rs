//! Cron schedules: the parser (`cron`), and the schedules as data.
//!
//! Cron schedules as data: the parsed form of a schedule (the syntax is `cron`'s), the
//! longest gap between two of its runs, and the durations `guardrails.minimumFrequency` is
//! written in.

pub mod cron;
pub mod duration;
mod gap;
mod parsed;

pub use duration::{format_minutes, parse_duration};
pub use gap::{Gap, longest_gap};
pub use parsed::{CronSchedule, Fields, Timing};
