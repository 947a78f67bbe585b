//! Helpers of the wasm end-to-end tests: the freshly built policy.wasm compiled once per test
//! binary, the scenarios of `scenarios/`, and reading what the policy emitted.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use backup_blueprint_policy_e2e::annotations::RESOLVED as RESOLVED_ANNOTATION;
use backup_blueprint_policy_e2e::cluster::Cluster;
use backup_blueprint_policy_e2e::engine::PolicyModule;
use backup_blueprint_policy_e2e::host::KubernetesBackend;
use backup_blueprint_policy_e2e::inputs::{read_document, read_settings};
use backup_blueprint_policy_e2e::metadata::AllowList;
use backup_blueprint_policy_e2e::replay::Replay;
use backup_blueprint_policy_e2e::request::AdmissionRequest;
use backup_blueprint_policy_e2e::run::{Outcome, Runner};
use backup_blueprint_policy_e2e::session;
use serde_json::Value;

/// The repository root (the policy crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The policy under test: `$POLICY_WASM`, else the repository's `policy.wasm`
/// (`make e2e-tests` builds it first).
pub fn policy_path() -> PathBuf {
    let path = std::env::var_os("POLICY_WASM").map_or_else(|| repo_root().join("policy.wasm"), PathBuf::from);
    assert!(
        path.is_file(),
        "{} is missing: build it with `make policy.wasm` (or run `make e2e-tests`)",
        path.display()
    );
    path
}

/// The compiled policy with the repository's metadata.yml allow-list, shared by the tests of
/// one binary (compiling is the slow part).
pub fn runner() -> &'static Runner {
    static RUNNER: OnceLock<Runner> = OnceLock::new();
    RUNNER.get_or_init(|| {
        let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("policy-cache");
        let module = PolicyModule::from_file_cached(&policy_path(), Some(&cache)).expect("policy.wasm compiles");
        let allow_list = AllowList::from_metadata_file(&repo_root().join("metadata.yml")).expect("metadata.yml reads");
        Runner::new(module, allow_list)
    })
}

/// One directory of `scenarios/`: `object.yaml`, optional `old-object.yaml` and
/// `settings.yaml`, and its cluster: `session.yml` (replayed), `cluster.yaml`, or the shared
/// `scenarios/cluster.yaml`.
pub struct Scenario {
    pub name: String,
    pub dir: PathBuf,
}

/// Where the scenarios are.
pub fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

impl Scenario {
    pub fn new(name: &str) -> Scenario {
        let dir = scenarios_dir().join(name);
        assert!(dir.join("object.yaml").is_file(), "no scenario {}", dir.display());
        Scenario {
            name: name.to_string(),
            dir,
        }
    }

    pub fn object(&self) -> Value {
        read_document(&self.dir.join("object.yaml"), "object").unwrap()
    }

    pub fn settings(&self) -> Value {
        let path = self.dir.join("settings.yaml");
        match path.is_file() {
            true => read_settings(&path).unwrap(),
            false => serde_json::json!({}),
        }
    }

    pub fn cluster(&self) -> Cluster {
        let own = self.dir.join("cluster.yaml");
        let path = if own.is_file() {
            own
        } else {
            scenarios_dir().join("cluster.yaml")
        };
        Cluster::from_file(&path).unwrap()
    }

    pub fn backend(&self) -> Box<dyn KubernetesBackend> {
        let session = self.dir.join("session.yml");
        match session.is_file() {
            true => Box::new(Replay::new(session::read(&session).unwrap())),
            false => Box::new(self.cluster()),
        }
    }

    pub fn request(&self) -> AdmissionRequest {
        let old = self.dir.join("old-object.yaml");
        let old = old.is_file().then(|| read_document(&old, "old object").unwrap());
        let operation = if old.is_some() { "UPDATE" } else { "CREATE" };
        AdmissionRequest::for_object(self.object(), old, operation, None).unwrap()
    }

    /// Evaluates the scenario through the wasm.
    pub fn evaluate(&self) -> anyhow::Result<Outcome> {
        runner().evaluate(self.backend(), &self.request(), &self.settings())
    }

    /// Evaluates the scenario and expects the policy to have run.
    pub fn outcome(&self) -> Outcome {
        self.evaluate().unwrap_or_else(|e| panic!("{}: {e:#}", self.name))
    }
}

/// The rejection message of an outcome.
pub fn rejection(outcome: &Outcome) -> String {
    let response = &outcome.evaluation.response;
    assert!(!response.allowed, "expected a rejection, got {response:?}");
    response
        .status
        .as_ref()
        .and_then(|s| s.message.clone())
        .expect("a rejection message")
}

/// The object after the API server applied the response's patch.
pub fn patched(request: &AdmissionRequest, outcome: &Outcome) -> Value {
    let response = &outcome.evaluation.response;
    assert!(response.allowed, "expected an acceptance, got {response:?}");
    response.apply_patch(request.object.as_ref().unwrap()).unwrap()
}

/// The objects emitted in the resolved annotation of `object`.
pub fn emitted(object: &Value) -> Vec<Value> {
    let text = object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(RESOLVED_ANNOTATION))
        .and_then(Value::as_str)
        .expect("the resolved annotation is set");
    let list: Value = serde_json::from_str(text).expect("the resolved annotation is JSON");
    assert_eq!(
        (&list["apiVersion"], &list["kind"]),
        (&Value::from("v1"), &Value::from("List"))
    );
    list["items"].as_array().expect("items").clone()
}

/// The problem lines of a scenario's rejection, without the header and the `- `.
pub fn problem_lines(name: &str) -> Vec<String> {
    let message = rejection(&Scenario::new(name).outcome());
    message
        .lines()
        .skip(1)
        .map(|l| l.trim_start_matches("- ").to_string())
        .collect()
}
