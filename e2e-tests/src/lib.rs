//! Runs the compiled backup-blueprint-policy (`policy.wasm`) offline, the way Kubewarden's
//! policy-server and `kwctl run` do: a wasmtime waPC host with the WASI imports and the
//! Kubernetes host capabilities answered from a cluster file or a recorded kwctl session.

pub mod annotations;
pub mod callback_request;
pub mod cli;
pub mod cluster;
pub mod engine;
pub mod field_mask;
pub mod host;
pub mod inputs;
pub mod metadata;
pub mod module_cache;
pub mod policy;
pub mod pretty;
pub mod record;
pub mod replay;
pub mod request;
pub mod response;
pub mod run;
pub mod session;
pub mod wapc;
pub mod wasi;
