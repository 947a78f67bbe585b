//! The waPC engine against small guests written in WAT: the protocol, host calls and their
//! errors, WASI output, traps — without the real policy.

use backup_blueprint_policy_e2e::cluster::Cluster;
use backup_blueprint_policy_e2e::engine::{PolicyModule, WapcError};
use backup_blueprint_policy_e2e::host::Host;
use backup_blueprint_policy_e2e::metadata::{AllowList, ContextAwareResource};

/// A guest whose every call forwards its operation and payload to the host
/// (`kubewarden/kubernetes/<operation>`) and returns the host's answer or error.
const FORWARDER: &str = r#"
(module
  (import "wapc" "__guest_request" (func $guest_request (param i32 i32)))
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (import "wapc" "__guest_error" (func $guest_error (param i32 i32)))
  (import "wapc" "__host_call" (func $host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wapc" "__host_response_len" (func $host_response_len (result i32)))
  (import "wapc" "__host_response" (func $host_response (param i32)))
  (import "wapc" "__host_error_len" (func $host_error_len (result i32)))
  (import "wapc" "__host_error" (func $host_error (param i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "kubewarden")
  (data (i32.const 16) "kubernetes")
  (data (i32.const 32) "hello from init\n")
  (data (i32.const 64) "\20\00\00\00\10\00\00\00")
  (func (export "wapc_init")
    (drop (call $fd_write (i32.const 1) (i32.const 64) (i32.const 1) (i32.const 80))))
  (func (export "__guest_call") (param $op_len i32) (param $msg_len i32) (result i32)
    (local $len i32)
    (call $guest_request (i32.const 1024) (i32.const 2048))
    (if (result i32)
      (call $host_call (i32.const 0) (i32.const 10) (i32.const 16) (i32.const 10)
                       (i32.const 1024) (local.get $op_len) (i32.const 2048) (local.get $msg_len))
      (then
        (local.set $len (call $host_response_len))
        (call $host_response (i32.const 8192))
        (call $guest_response (i32.const 8192) (local.get $len))
        (i32.const 1))
      (else
        (local.set $len (call $host_error_len))
        (call $host_error (i32.const 8192))
        (call $guest_error (i32.const 8192) (local.get $len))
        (i32.const 0)))))
"#;

/// A guest that traps on every call, and imports a WASI function policy-run does not provide.
const TRAPPER: &str = r#"
(module
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "__guest_call") (param i32 i32) (result i32) unreachable))
"#;

fn module(wat: &str) -> PolicyModule {
    PolicyModule::from_bytes(&wat::parse_str(wat).unwrap()).unwrap()
}

fn host() -> Host {
    let cluster =
        Cluster::from_yaml("apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: demo}\ndata: {k: dg==}\n")
            .unwrap();
    let allow = AllowList::new(vec![ContextAwareResource {
        api_version: "v1".into(),
        kind: "Secret".into(),
    }]);
    Host::new(Box::new(cluster), allow)
}

#[test]
fn host_answers_reach_the_guest() {
    let mut instance = module(FORWARDER).instantiate(host()).unwrap();
    let payload = br#"{"api_version":"v1","kind":"Secret","name":"s","namespace":"demo","disable_cache":false,"field_masks":["metadata.name"]}"#;
    let answer: serde_json::Value = serde_json::from_slice(&instance.call("get_resource", payload).unwrap()).unwrap();
    assert_eq!(
        answer,
        serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "demo"}})
    );
}

#[test]
fn host_errors_reach_the_guest_with_policy_server_text() {
    let mut instance = module(FORWARDER).instantiate(host()).unwrap();
    let payload = br#"{"api_version":"v1","kind":"Secret","name":"t","namespace":"demo","disable_cache":false}"#;
    assert_eq!(
        instance.call("get_resource", payload).unwrap_err(),
        WapcError::GuestCallFailure(
            "Callback evaluation failure: Cannot find v1/Secret named 't' inside of namespace 'Some(\"demo\")'".into()
        )
    );
    let denied = br#"{"api_version":"v1","kind":"ConfigMap","name":"c","namespace":"demo","disable_cache":false}"#;
    assert_eq!(
        instance.call("get_resource", denied).unwrap_err().to_string(),
        "Guest call failure: Policy has not been granted access to Kubernetes v1/ConfigMap resources. The violation has been reported."
    );
    assert_eq!(
        instance.call("watch", b"{}").unwrap_err().to_string(),
        "Guest call failure: policy-run does not provide the host capability kubernetes/watch: it answers \
         kubernetes/get_resource only"
    );
}

#[test]
fn wasi_output_is_captured() {
    let instance = module(FORWARDER).instantiate(host()).unwrap();
    assert_eq!(instance.output(), b"hello from init\n");
}

#[test]
fn traps_are_guest_call_failures_and_unknown_imports_still_link() {
    let mut instance = module(TRAPPER).instantiate(host()).unwrap();
    let err = instance.call("validate", b"{}").unwrap_err().to_string();
    assert!(err.starts_with("Guest call failure: "), "{err}");
    assert!(err.contains("unreachable"), "{err}");
}

#[test]
fn a_module_without_guest_call_is_not_a_wapc_policy() {
    let err = module("(module (memory (export \"memory\") 1))")
        .instantiate(host())
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "the module does not export the waPC function __guest_call"
    );
}
