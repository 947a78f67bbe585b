//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::Path;

use backup_blueprint_policy::annotations::RESOLVED;
use backup_blueprint_policy::lookups::MemoryCluster;
use backup_blueprint_policy::policy::{Admission, Outcome, evaluate};
use backup_blueprint_policy::settings::Settings;
use serde_json::Value;

pub fn read_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Admits `object` (CREATE) against a cluster holding `cluster`; returns the outcome and the
/// lookups made.
pub fn admit(object: &Value, cluster: Vec<Value>, settings: &Settings) -> (Outcome, Vec<String>) {
    admit_with(object, "CREATE", MemoryCluster::new(cluster), settings)
}

pub fn admit_with(
    object: &Value,
    operation: &str,
    cluster: MemoryCluster,
    settings: &Settings,
) -> (Outcome, Vec<String>) {
    let text = object.to_string();
    let namespace = object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    let admission = Admission {
        operation,
        namespace,
        object: &text,
    };
    let outcome = evaluate(&admission, settings, &cluster);
    let calls = cluster.calls.borrow().clone();
    (outcome, calls)
}

/// The items of the resolved annotation of a mutated object.
pub fn resolved_items(object: &Value) -> Vec<Value> {
    let text = object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(RESOLVED))
        .and_then(Value::as_str)
        .expect("the resolved annotation is set");
    let list: Value = serde_json::from_str(text).expect("the resolved annotation is JSON");
    assert_eq!(list["apiVersion"], "v1");
    assert_eq!(list["kind"], "List");
    list["items"].as_array().expect("items").clone()
}
