//! `settings::parse` on arbitrary bytes.
//!
//! Checks: no panic; an error message is at most 4 KiB; parsing is deterministic.
#![no_main]

mod common;

use backup_blueprint_policy::settings;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match settings::parse(data) {
        Ok(_) => assert!(settings::parse(data).is_ok()),
        Err(message) => {
            assert!(
                message.len() <= common::MAX_MESSAGE_BYTES,
                "a settings message of {} bytes: {}…",
                message.len(),
                message.chars().take(600).collect::<String>()
            );
            assert_eq!(settings::parse(data).err(), Some(message));
        }
    }
});
