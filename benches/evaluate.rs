//! `make bench`: how long one evaluation takes on the native build, for the paths that matter
//! (an object that is not ours, an annotated target, a large rejected one). No framework: a
//! warm-up, then the median of repeated batches.

#[path = "support/timing.rs"]
mod timing;

use std::hint::black_box;
use std::time::Duration;

use backup_blueprint_policy::evaluation::policy::{Admission, evaluate};
use backup_blueprint_policy::lookups::MemoryCluster;
use backup_blueprint_policy::settings::Settings;
use serde_json::{Value, json};

const BATCHES: usize = 15;
const BATCH_TIME: Duration = Duration::from_millis(100);

fn cluster() -> MemoryCluster {
    MemoryCluster::new(vec![
        json!({"apiVersion": "stash.appscode.com/v1beta1", "kind": "BackupBlueprint", "metadata": {"name": "gcs"}, "spec": {
            "backend": {"gcs": {"bucket": "b", "prefix": "${TARGET_NAMESPACE}/${TARGET_KIND}/${TARGET_NAME^^}"}, "storageSecretName": "s"},
            "schedule": "*/5 * * * *",
            "retentionPolicy": {"name": "keep-last-5", "keepLast": 5, "prune": true},
            "interimVolumeTemplate": {"metadata": {"name": "${TARGET_NAME:0:20}-${TARGET_RESOURCE%s}"}},
        }}),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "demo"}}),
    ])
}

fn deployment(annotations: Value, volumes: usize) -> String {
    let volumes: Vec<Value> = (0..volumes)
        .map(|i| json!({"name": format!("v{i}"), "emptyDir": {}}))
        .collect();
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "demo", "annotations": annotations},
        "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "c", "image": "i"}], "volumes": volumes}}},
    })
    .to_string()
}

fn bench(name: &str, object: &str) {
    let settings = Settings::default();
    let cluster = cluster();
    let run = || {
        // Parsing is part of the work: policy-server hands the policy JSON text.
        let admission = Admission {
            operation: "UPDATE",
            namespace: "demo",
            object: serde_json::from_str(object).expect("the bench objects are JSON"),
            old_object: None,
        };
        black_box(evaluate(admission, &settings, &cluster));
        cluster.calls.borrow_mut().clear();
    };
    timing::report_median(name, BATCHES, BATCH_TIME, run);
}

fn main() {
    let annotated = json!({
        "stash.appscode.com/backup-blueprint": "gcs",
        "stash.appscode.com/target-paths": "/v0,/v1/sub",
        "stash.appscode.com/volume-mounts": "v0:/v0,v1:/v1",
    });
    let broken_mounts: Vec<String> = (0..2000).map(|i| format!("x{i}:/m{i}")).collect();
    let broken = json!({
        "stash.appscode.com/backup-blueprint": "gcs,missing",
        "stash.appscode.com/target-paths": "/a",
        "stash.appscode.com/volume-mounts": broken_mounts.join(","),
    });
    bench("not annotated (50 volumes)", &deployment(json!({"team": "a"}), 50));
    bench("annotated, accepted and emitted", &deployment(annotated, 2));
    bench("annotated, 2000 bad mounts, rejected", &deployment(broken, 200));
}
