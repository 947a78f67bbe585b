//! backup-blueprint-policy: Stash Auto Backup resolved and validated at admission time.
//!
//! The core (everything but `wasm`) is plain Rust over plain data; `wasm` only decodes the
//! waPC payloads, calls [`policy::evaluate`] and encodes the answer.

pub mod access;
pub mod annotations;
pub mod case_mapping;
pub mod checks;
pub mod civil_date;
pub mod cron;
pub mod defaults;
pub mod drift;
pub mod emission;
pub mod evaluation;
pub mod guardrails;
pub mod head;
pub mod inference;
mod json_fields;
pub mod json_text;
pub mod lookups;
pub mod naming;
pub mod near_miss;
pub mod objects;
pub mod opt_out;
pub mod policy;
pub mod regex;
pub mod report;
pub mod request;
pub mod requirement;
pub mod schedule;
pub mod selection;
pub mod settings;
pub mod string_map;
pub mod substitution;
pub mod target;
pub mod validation_response;
pub mod variables;

mod allocator;
#[cfg(target_arch = "wasm32")]
mod wasm;
