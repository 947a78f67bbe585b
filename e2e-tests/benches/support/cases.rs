//! What the wasm and kwctl benches compare, alike: the policies (this one as deployed, this
//! one without collision lookups, and the floor policies of `benches/floors`) and the requests
//! (an object without the trigger, an annotated Deployment created, and re-applied, and a
//! KubeStash StatefulSet created).

use std::path::{Path, PathBuf};

use backup_blueprint_policy_e2e::cluster::Cluster;
use backup_blueprint_policy_e2e::engine::PolicyModule;
use backup_blueprint_policy_e2e::inputs::read_document;
use backup_blueprint_policy_e2e::metadata::AllowList;
use backup_blueprint_policy_e2e::request::AdmissionRequest;
use backup_blueprint_policy_e2e::run::Runner;
use serde_json::{Value, json};

/// The variables naming the floor modules (`make floors` builds them).
pub const FLOOR_VARIABLES: [&str; 4] = ["FLOOR_ACCEPT", "FLOOR_LOOKUPS", "FLOOR_COLLISIONS", "FLOOR_KUBESTASH"];

/// A policy module, as compared.
pub struct Variant {
    pub name: &'static str,
    pub wasm: PathBuf,
    pub settings: &'static str,
    /// The requests it is measured on.
    pub kinds: &'static [Kind],
}

const ALL: &[Kind] = &[Kind::Untriggered, Kind::Create, Kind::Reapply, Kind::KubeStash];

/// The policy as deployed, the policy making only the two lookups the second floor makes (no
/// collision lookups), and the floors. The third floor makes the four lookups the policy makes
/// on a CREATE, so it runs on the CREATE only (a re-applied target costs the policy no
/// collision lookup; no trigger, no lookup); the fourth makes the six lookups of the KubeStash
/// StatefulSet, and runs on it only. `None` when a floor variable is not set.
pub fn variants(policy: &Path) -> Option<Vec<Variant>> {
    let floor = |index: usize| std::env::var_os(FLOOR_VARIABLES[index]).map(PathBuf::from);
    let variant = |name, wasm, settings, kinds| Variant {
        name,
        wasm,
        settings,
        kinds,
    };
    const STASH: &[Kind] = &[Kind::Untriggered, Kind::Create, Kind::Reapply];
    Some(vec![
        variant("policy", policy.to_path_buf(), "{}", ALL),
        variant(
            "policy, collisionCheck: skip",
            policy.to_path_buf(),
            r#"{"collisionCheck":"skip"}"#,
            STASH,
        ),
        variant("floor 1: decode, accept", floor(0)?, "{}", ALL),
        variant("floor 2: decode, 2 lookups, 1 annotation", floor(1)?, "{}", STASH),
        variant(
            "floor 3: decode, 4 lookups (2 not found), 1 annotation",
            floor(2)?,
            "{}",
            &[Kind::Create],
        ),
        variant(
            "floor 4: decode, 6 KubeStash lookups (2 not found), 1 annotation",
            floor(3)?,
            "{}",
            &[Kind::KubeStash],
        ),
    ])
}

/// The ratios of the policy to the floors; `values` in the order of [`variants`] of those
/// measured on `kind`.
pub fn print_ratios(case: &str, kind: Kind, values: &[f64]) {
    if kind == Kind::KubeStash {
        println!(
            "  {case:<22} policy / floor 1 = {:.2}×, policy / floor 4 (the policy's lookups) = {:.2}×",
            values[0] / values[1],
            values[0] / values[2]
        );
        return;
    }
    println!(
        "  {case:<22} policy / floor 1 = {:.2}×, policy / floor 2 = {:.2}×, \
         policy without collision lookups / floor 2 = {:.2}×",
        values[0] / values[2],
        values[0] / values[3],
        values[1] / values[3]
    );
    if let Some(floor_3) = values.get(4) {
        println!(
            "  {case:<22} policy / floor 3 (the policy's lookups, collision lookups included) = {:.2}×",
            values[0] / floor_3
        );
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// `examples/deployment-good.yaml` without its annotations.
    Untriggered,
    /// `examples/deployment-good.yaml` created.
    Create,
    /// The same, stored with the objects the policy emitted for it, and applied again (the
    /// steady state of a GitOps tool).
    Reapply,
    /// `examples/kubestash-statefulset.yaml` created, with the variables the example settings
    /// would pin written out (the benches run without settings).
    KubeStash,
}

pub const KINDS: [(&str, Kind); 4] = [
    ("without the trigger", Kind::Untriggered),
    ("annotated, CREATE", Kind::Create),
    ("annotated, re-applied", Kind::Reapply),
    ("KubeStash, CREATE", Kind::KubeStash),
];

/// The admission request of `examples/deployment-good.yaml` for `kind`.
pub fn admission_request(root: &Path, kind: Kind) -> AdmissionRequest {
    if kind == Kind::KubeStash {
        let mut object =
            read_document(&root.join("examples/kubestash-statefulset.yaml"), "object").expect("the example");
        let annotations = &mut object["metadata"]["annotations"];
        annotations["variables.kubestash.com/namespace"] = json!("shop-a");
        annotations["variables.kubestash.com/targetName"] = json!("db");
        return AdmissionRequest::for_object(object, None, "CREATE", None).expect("a request");
    }
    let mut object = read_document(&root.join("examples/deployment-good.yaml"), "object").expect("the example");
    match kind {
        Kind::Untriggered => {
            let metadata = object["metadata"].as_object_mut().expect("metadata");
            metadata.remove("annotations");
            AdmissionRequest::for_object(object, None, "CREATE", None)
        }
        Kind::Create | Kind::KubeStash => AdmissionRequest::for_object(object, None, "CREATE", None),
        Kind::Reapply => {
            let stored = emitted_for(root, object);
            AdmissionRequest::for_object(stored.clone(), Some(stored), "UPDATE", None)
        }
    }
    .expect("a request")
}

/// `object` as the policy mutates it on CREATE (with the emitted objects), through the e2e
/// engine and the examples' cluster.
fn emitted_for(root: &Path, object: Value) -> Value {
    let module = PolicyModule::from_file(&root.join("policy.wasm")).expect("policy.wasm compiles");
    let request = AdmissionRequest::for_object(object.clone(), None, "CREATE", None).expect("a request");
    let outcome = Runner::new(module, allow_list(root))
        .evaluate(Box::new(cluster(root)), &request, &json!({}))
        .expect("evaluated");
    outcome
        .evaluation
        .response
        .apply_patch(&object)
        .expect("the patch applies")
}

/// What the benches' lookups find: `examples/cluster.yaml`.
pub fn cluster(root: &Path) -> Cluster {
    Cluster::from_file(&root.join("examples/cluster.yaml")).expect("examples/cluster.yaml")
}

/// The context-aware resources of `metadata.yml` (the floors get the same).
pub fn allow_list(root: &Path) -> AllowList {
    AllowList::from_metadata_file(&root.join("metadata.yml")).expect("metadata.yml")
}
