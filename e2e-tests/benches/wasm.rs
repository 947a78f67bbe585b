//! `make bench`: one evaluation of the compiled policy.wasm as policy-server runs it (wasmtime
//! with Cranelift's optimizations, waPC, host calls answered from memory), per path that
//! matters. Each evaluation includes the instantiation, `protocol_version` and
//! `validate_settings`, as `kwctl run` does. A warm-up, then the median of repeated batches.

#[path = "../../benches/support/timing.rs"]
mod timing;

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use backup_blueprint_policy_e2e::annotations::{BACKUP_BLUEPRINT, TARGET_PATHS, VOLUME_MOUNTS};
use backup_blueprint_policy_e2e::cluster::Cluster;
use backup_blueprint_policy_e2e::engine::PolicyModule;
use backup_blueprint_policy_e2e::metadata::AllowList;
use backup_blueprint_policy_e2e::request::AdmissionRequest;
use backup_blueprint_policy_e2e::run::Runner;
use serde_json::{Value, json};

const BATCHES: usize = 9;
const BATCH_TIME: Duration = Duration::from_millis(300);

fn repo_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn deployment(annotations: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "demo", "annotations": annotations},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx"}],
                 "volumes": [{"name": "data", "emptyDir": {}}]}}},
    })
}

fn bench(runner: &Runner, cluster: &Cluster, name: &str, object: Value) {
    let request = AdmissionRequest::for_object(object, None, "CREATE", None).expect("a request");
    let settings = json!({});
    let run = || {
        black_box(
            runner
                .evaluate(Box::new(cluster.clone()), &request, &settings)
                .expect("evaluated"),
        );
    };
    timing::report_median(name, BATCHES, BATCH_TIME, run);
}

fn main() {
    let policy = std::env::var_os("POLICY_WASM").map_or_else(|| repo_root().join("policy.wasm"), Into::into);
    let module = PolicyModule::from_file_optimized(&policy).expect("policy.wasm compiles (make policy.wasm)");
    let allow_list = AllowList::from_metadata_file(&repo_root().join("metadata.yml")).expect("metadata.yml");
    let runner = Runner::new(module, allow_list);
    let cluster = Cluster::from_file(&repo_root().join("examples/cluster.yaml")).expect("examples/cluster.yaml");
    let annotated = json!({
        BACKUP_BLUEPRINT: "workload-backup",
        TARGET_PATHS: "/data",
        VOLUME_MOUNTS: "data:/data",
    });
    let broken = json!({
        BACKUP_BLUEPRINT: "workload-backup,missing",
        TARGET_PATHS: "/data,/var/log",
        VOLUME_MOUNTS: "dat:/data",
        "stash.appscode.com/schedule": "daily",
    });
    println!("{}", policy.display());
    bench(&runner, &cluster, "not annotated", deployment(json!({"team": "a"})));
    bench(
        &runner,
        &cluster,
        "annotated, accepted and emitted",
        deployment(annotated),
    );
    bench(
        &runner,
        &cluster,
        "annotated, rejected with 5 problems",
        deployment(broken),
    );
}
