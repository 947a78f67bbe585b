//! backup-blueprint-policy: Stash Auto Backup resolved and validated at admission time.
//!
//! The core (everything but `wasm`) is plain Rust over plain data; `wasm` only decodes the
//! waPC payloads, calls [`evaluation::policy::evaluate`] and encodes the answer.
//!
//! The wings, in pipeline order: each uses only the wings below it.

pub mod admission; // the request, read in two passes, and the answer's JSON

pub mod evaluation; // the pipeline, one step per file; the only code that asks the cluster

pub mod lookups; // the cluster: the `Cluster` trait, the host, an in-memory cluster, the once memo

pub mod blueprint; // substitution, the variables, the generated objects and their record

pub mod settings; // the settings and the rules they compile

pub mod target; // which objects are targets, and what is read of them

pub mod schedule; // cron: the parser, parsed schedules, the longest gap, durations

pub mod support; // no domain word: allocator, regex, case mapping, dates, JSON, the string map

pub mod report; // the problem model and the one rejection message; uses no other wing

#[cfg(target_arch = "wasm32")]
mod wasm;
