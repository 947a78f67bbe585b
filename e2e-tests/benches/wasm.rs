//! `make bench`: one evaluation of the compiled policy.wasm as policy-server runs it (wasmtime
//! with Cranelift's optimizations, waPC, host calls answered from memory), per path that
//! matters. Each evaluation includes the instantiation, `protocol_version` and
//! `validate_settings`, as `kwctl run` does. A warm-up, then the median of repeated batches.
//!
//! Then the wasm instructions one `validate` runs (wasmtime's fuel), for the policy and the
//! floor policies of the kwctl bench on its requests, on an instance kept from one request to
//! the next as `kwctl bench` keeps it: exact from run to run, where times on a shared machine
//! vary by ±15 %, but blind to what host calls and the host's own work cost.

#[path = "support/cases.rs"]
mod cases;
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
use cases::{FLOOR_VARIABLES, KINDS, Variant};
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
    instructions(repo_root(), &policy);
}

/// The wasm instructions per `validate` of each variant, on each request.
fn instructions(root: &Path, policy: &Path) {
    let Some(variants) = cases::variants(policy) else {
        println!(
            "skipped: wasm instructions per validate: {} not set (make floors builds the floors)",
            FLOOR_VARIABLES.join(", ")
        );
        return;
    };
    println!("wasm instructions per validate (wasmtime fuel; one instance, as kwctl bench keeps it):");
    for (case, kind) in KINDS {
        let request = cases::admission_request(root, kind);
        let measured = variants.iter().filter(|variant| variant.kinds.contains(&kind));
        let mut counts = Vec::new();
        for variant in measured {
            let count = instructions_of(root, variant, &request);
            println!("  {case:<21} {:<55} {count:>9}", variant.name);
            counts.push(count as f64);
        }
        cases::print_ratios(case, kind, &counts);
    }
}

/// The instructions of one `validate` of `request`, after a first one (the settings read and
/// the allocator's memory taken, as on every later request to the same instance).
fn instructions_of(root: &Path, variant: &Variant, request: &AdmissionRequest) -> u64 {
    let module = PolicyModule::from_file_metered(&variant.wasm).expect("the module compiles");
    let runner = Runner::new(module, cases::allow_list(root));
    let mut policy = runner
        .instantiate(Box::new(cases::cluster(root)))
        .expect("instantiated");
    let settings: Value = serde_json::from_str(variant.settings).expect("the variant's settings");
    policy.protocol_version().expect("protocol_version");
    assert!(policy.validate_settings(&settings).valid, "{}: settings", variant.name);
    policy.validate(request, &settings);
    let before = policy.instance().instructions();
    black_box(policy.validate(request, &settings));
    policy.instance().instructions() - before
}
