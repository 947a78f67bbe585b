//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::Path;

use backup_blueprint_policy::evaluation::policy::{Admission, Decision, Outcome, evaluate_at};
use backup_blueprint_policy::lookups::MemoryCluster;
use backup_blueprint_policy::settings::Settings;
use backup_blueprint_policy::support::civil_date::{Date, FixedClock};
use backup_blueprint_policy::target::annotations::RESOLVED;
use serde_json::{Value, json};

/// The day every test runs on (opt-outs that end are relative to it).
pub const TODAY: &str = "2027-01-15";

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
    admit_change(object, None, operation, cluster, settings)
}

/// Admits an UPDATE of `old` to `object`.
pub fn admit_update(object: &Value, old: &Value, cluster: Vec<Value>, settings: &Settings) -> (Outcome, Vec<String>) {
    admit_change(object, Some(old), "UPDATE", MemoryCluster::new(cluster), settings)
}

fn admit_change(
    object: &Value,
    old: Option<&Value>,
    operation: &str,
    cluster: MemoryCluster,
    settings: &Settings,
) -> (Outcome, Vec<String>) {
    let namespace = object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    let admission = Admission {
        operation,
        namespace,
        object: object.clone(),
        old_object: old.cloned(),
    };
    let clock = FixedClock(Date::parse(TODAY).unwrap());
    let outcome = evaluate_at(admission, settings, &cluster, &clock);
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

// Fixtures: a GCS blueprint, its Secret, an annotated Deployment.

pub fn blueprint(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "stash.appscode.com/v1beta1", "kind": "BackupBlueprint", "metadata": {"name": name}, "spec": spec})
}

pub fn gcs_blueprint(name: &str) -> Value {
    blueprint(
        name,
        json!({
            "backend": {"gcs": {"bucket": "b", "prefix": "${TARGET_NAMESPACE}/${TARGET_KIND}/${TARGET_NAME}"}, "storageSecretName": "gcs-secret"},
            "schedule": "*/5 * * * *",
            "retentionPolicy": {"name": "keep-last-5", "keepLast": 5, "prune": true},
        }),
    )
}

pub fn secret(namespace: &str, name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace}})
}

pub fn cluster() -> Vec<Value> {
    vec![gcs_blueprint("gcs-daily"), secret("demo", "gcs-secret")]
}

pub fn deployment(annotations: Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "demo", "annotations": annotations},
        "spec": {"template": {"spec": {
            "containers": [{"name": "app", "image": "nginx", "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
            "volumes": [{"name": "data", "emptyDir": {}}],
        }}},
    })
}

pub fn good_annotations() -> Value {
    json!({
        "stash.appscode.com/backup-blueprint": "gcs-daily",
        "stash.appscode.com/target-paths": "/data",
        "stash.appscode.com/volume-mounts": "data:/data",
    })
}

pub fn with_annotation(mut object: Value, key: &str, value: &str) -> Value {
    object["metadata"]["annotations"][key] = json!(value);
    object
}

pub fn rejection(object: &Value, cluster: Vec<Value>) -> String {
    match admit(object, cluster, &Settings::default()).0.decision {
        Decision::Reject(message) => message,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

pub fn mutated(object: &Value, cluster: Vec<Value>, settings: &Settings) -> Value {
    match admit(object, cluster, settings).0.decision {
        Decision::Mutate(object) => object,
        other => panic!("expected a mutation, got {other:?}"),
    }
}

/// Settings from their JSON form, as policy-server passes them.
pub fn settings(value: Value) -> Settings {
    backup_blueprint_policy::settings::parse(value.to_string().as_bytes()).expect("valid settings")
}

pub fn namespace(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
}

/// A StatefulSet in `namespace` with two claim templates (`data` mounted with a subPath,
/// `logs`) and `annotations`.
pub fn statefulset(namespace: &str, annotations: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": namespace, "annotations": annotations},
        "spec": {
            "template": {"spec": {"containers": [{"name": "db", "image": "postgres", "volumeMounts": [
                {"name": "data", "mountPath": "/var/lib/postgresql", "subPath": "pgdata"},
                {"name": "logs", "mountPath": "/var/log/postgresql"},
            ]}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}}, {"metadata": {"name": "logs"}}],
        },
    })
}

/// The decision's rejection message, or a panic naming what it was.
pub fn message_of(outcome: &Outcome) -> &str {
    match &outcome.decision {
        Decision::Reject(message) => message,
        other => panic!("expected a rejection, got {other:?}"),
    }
}
