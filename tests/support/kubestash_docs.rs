//! The KubeStash-docs conformance cases (`tests/conformance/kubestash-docs/`), shared by the
//! native test (`tests/conformance.rs`) and the wasm one (`e2e-tests/tests/conformance.rs`),
//! which include this file (and `stash_docs.rs`, for the YAML reader and the subset
//! comparison) with `#[path]`. Each of them only says how a target is admitted.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::stash_docs::{case_dirs, read_yaml};

pub const EXPECTED_CASES: usize = 23;

/// The docs' errors (tests/conformance/kubestash-docs/README.md, "Known deviations"): (case,
/// JSON pointer in the BackupConfiguration, what the docs show, what substitution gives).
#[rustfmt::skip]
pub const KNOWN_DEVIATIONS: &[(&str, &str, &str, &str)] = &[
    // The printed object carries the first example's name.
    ("kdb-elasticsearch-custom", "/metadata/name", "appbinding-es-quickstart", "appbinding-es-quickstart-2"),
    // The inline blueprint (which the fixture is) says s3-store and /ess.
    ("kdb-elasticsearch-custom", "/spec/backends/0/storageRef/name", "s3-storage", "s3-store"),
    ("kdb-elasticsearch-custom", "/spec/sessions/0/repositories/0/directory", "/es", "/ess"),
];

/// `kdb-elasticsearch-custom` names BackupStorage `s3-store`, which its guide never creates:
/// the storage check reports it (this text), and the object is compared with the check off.
pub const MISSING_STORAGE: &str = "BackupBlueprint 'demo/es-quickstart-custom-backup-blueprint' \
    spec.backupConfigurationTemplate.backends[0].storageRef: BackupStorage 'demo/s3-store' not found; create it, or \
    name one that exists (KubeStash would create the BackupConfiguration and its backend would never be ready)";

/// `kdb-singlestore-custom`'s target sets no `targetedDatabases`: the policy rejects it (this
/// line), and with the annotation added the printed object follows, with the task's params.
pub const SINGLESTORE_UNDEFINED: &str = "BackupBlueprint 'demo/singlestore-customize-backup-blueprint' \
    spec.backupConfigurationTemplate.sessions[0].addon.tasks[0].params.databases: variable ${targetedDatabases} is not \
    defined; define it on the target with the annotation variables.kubestash.com/targetedDatabases (KubeStash has no \
    built-in variables), or give it a default in the blueprint (${targetedDatabases:=value})";

/// Metadata the API server sets, and session fields the docs print from older operators
/// (`failurePolicy`) or after the guide paused the configuration (`paused`).
const SERVER_SET_METADATA: [&str; 6] = [
    "creationTimestamp",
    "finalizers",
    "generation",
    "resourceVersion",
    "selfLink",
    "uid",
];
const IGNORED_SESSION_FIELDS: [&str; 1] = ["failurePolicy"];
const IGNORED_SPEC_FIELDS: [&str; 1] = ["paused"];

pub struct Case {
    pub name: String,
    pub dir: PathBuf,
}

impl Case {
    pub fn target(&self) -> Value {
        read_yaml(&self.dir.join("target.yaml"))
    }

    /// The blueprint and the guide's other objects.
    pub fn cluster(&self) -> Vec<Value> {
        let mut objects = vec![read_yaml(&self.dir.join("blueprint.yaml"))];
        let text = std::fs::read_to_string(self.dir.join("extra-objects.yaml")).unwrap();
        for document in serde_yaml_ng::Deserializer::from_str(&text) {
            let value: Value = serde::Deserialize::deserialize(document).unwrap();
            if !value.is_null() {
                objects.push(value);
            }
        }
        objects
    }

    fn expected(&self) -> Value {
        let mut expected = read_yaml(&self.dir.join("expected-backupconfiguration.yaml"));
        for (_, pointer, docs, current) in KNOWN_DEVIATIONS.iter().filter(|d| d.0 == self.name) {
            let value = expected
                .pointer_mut(pointer)
                .unwrap_or_else(|| panic!("{}: {pointer} is not in the fixture", self.name));
            assert_eq!(value, docs, "{}: the docs value of {pointer} changed", self.name);
            *value = Value::String(current.to_string());
        }
        expected
    }

    /// Compares what the policy emitted (one BackupConfiguration) with what the docs show.
    pub fn check(&self, emitted: Result<Vec<Value>, String>) -> Result<(), String> {
        let case = &self.name;
        let items = emitted.map_err(|e| format!("{case}: {e}"))?;
        let [actual] = items.as_slice() else {
            return Err(format!(
                "{case}: expected one BackupConfiguration, got {} items",
                items.len()
            ));
        };
        let mismatches = mismatches(&self.expected(), actual, "");
        match mismatches.is_empty() {
            true => Ok(()),
            false => Err(mismatches
                .iter()
                .map(|m| format!("{case}: {m}"))
                .collect::<Vec<_>>()
                .join("\n")),
        }
    }
}

pub fn cases(repo_root: &Path) -> Vec<Case> {
    case_dirs(&repo_root.join("tests/conformance/kubestash-docs"))
        .into_iter()
        .map(|(name, dir)| Case { name, dir })
        .collect()
}

/// How the policy answers one case: the emitted objects, or the rejection's text.
pub type Emit<'a> = &'a dyn Fn(&Case, &Value, Value) -> Result<Vec<Value>, String>;

/// Runs every case through `emit` (case, target, settings) and fails listing every case that
/// does not conform; the two documented exceptions are checked as the README says.
pub fn assert_every_case_conforms(repo_root: &Path, emit: Emit) {
    let cases = cases(repo_root);
    assert_eq!(cases.len(), EXPECTED_CASES, "number of conformance cases");
    let mut failures = Vec::new();
    for case in &cases {
        let result = match case.name.as_str() {
            "kdb-elasticsearch-custom" => elasticsearch_custom(case, emit),
            "kdb-singlestore-custom" => singlestore_custom(case, emit),
            _ => case.check(emit(case, &case.target(), json!({}))),
        };
        failures.extend(result.err());
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn elasticsearch_custom(case: &Case, emit: Emit) -> Result<(), String> {
    let rejected = emit(case, &case.target(), json!({})).expect_err("BackupStorage s3-store does not exist");
    if !rejected.contains(MISSING_STORAGE) {
        return Err(format!(
            "{}: expected the missing BackupStorage, got {rejected}",
            case.name
        ));
    }
    case.check(emit(case, &case.target(), json!({"storageSecretCheck": "skip"})))
}

fn singlestore_custom(case: &Case, emit: Emit) -> Result<(), String> {
    let rejected = emit(case, &case.target(), json!({})).expect_err("targetedDatabases is undefined");
    if !rejected.contains(SINGLESTORE_UNDEFINED) {
        return Err(format!(
            "{}: expected the undefined variable, got {rejected}",
            case.name
        ));
    }
    let mut target = case.target();
    target["metadata"]["annotations"]["variables.kubestash.com/targetedDatabases"] = json!("db1");
    let items = emit(case, &target, json!({}))?;
    let params = items
        .first()
        .and_then(|bc| bc.pointer("/spec/sessions/0/addon/tasks/0/params"));
    if params != Some(&json!({"databases": "db1"})) {
        return Err(format!(
            "{}: expected params {{databases: db1}}, got {params:?}",
            case.name
        ));
    }
    // The printed task has no params: compare the rest.
    let mut without = items;
    if let Some(task) = without[0]
        .pointer_mut("/spec/sessions/0/addon/tasks/0")
        .and_then(Value::as_object_mut)
    {
        task.remove("params");
    }
    case.check(Ok(without))
}

/// Where `actual` does not contain `expected`, by the README's rule: a subset; `status` and
/// server-set metadata ignored; Go zero structs match absence; durations compare by value;
/// CRD defaults (`sessionHistoryLimit: 1`) match absence; `failurePolicy` and `paused` ignored.
pub fn mismatches(expected: &Value, actual: &Value, path: &str) -> Vec<String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .filter(|(key, _)| !is_ignored(path, key))
            .flat_map(|(key, value)| {
                let here = format!("{path}/{key}");
                match a.get(key) {
                    Some(actual) => mismatches(value, actual, &here),
                    None if is_zero_struct(value) || is_crd_default(key, value) => Vec::new(),
                    None => vec![format!("{here}: missing, expected {value}")],
                }
            })
            .collect(),
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => e
            .iter()
            .zip(a)
            .enumerate()
            .flat_map(|(i, (e, a))| mismatches(e, a, &format!("{path}/{i}")))
            .collect(),
        (Value::String(e), Value::String(a)) if duration(e).is_some() && duration(e) == duration(a) => Vec::new(),
        _ if expected == actual => Vec::new(),
        _ => vec![format!("{path}: expected {expected}, got {actual}")],
    }
}

fn is_ignored(path: &str, key: &str) -> bool {
    (path.is_empty() && key == "status")
        || (path == "/metadata" && SERVER_SET_METADATA.contains(&key))
        || (path == "/spec" && IGNORED_SPEC_FIELDS.contains(&key))
        || (path.starts_with("/spec/sessions/")
            && path.matches('/').count() == 3
            && IGNORED_SESSION_FIELDS.contains(&key))
}

/// `{}`, or a map whose leaves are all `{}`.
fn is_zero_struct(value: &Value) -> bool {
    value.as_object().is_some_and(|map| map.values().all(is_zero_struct))
}

fn is_crd_default(key: &str, value: &Value) -> bool {
    key == "sessionHistoryLimit" && *value == json!(1)
}

/// A Go duration (`1m`, `1m0s`, `1h30m`) in milliseconds.
fn duration(text: &str) -> Option<u64> {
    let mut total = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        let number: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit = ["ms", "h", "m", "s"].into_iter().find(|u| rest.starts_with(u))?;
        total += number
            * match unit {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                _ => 3_600_000,
            };
        rest = &rest[unit.len()..];
    }
    (!text.is_empty()).then_some(total)
}

#[test]
fn the_comparison_follows_the_readme() {
    let expected = json!({"metadata": {"name": "a", "uid": "x"}, "status": {"s": 1},
        "spec": {"paused": true, "sessions": [{"failurePolicy": "Fail", "sessionHistoryLimit": 1,
            "retryConfig": {"delay": "1m0s"}, "scheduler": {"jobTemplate": {"template": {"controller": {}, "spec": {"resources": {}}}}}}]}});
    let actual = json!({"metadata": {"name": "a"}, "spec": {"sessions": [{"retryConfig": {"delay": "1m"}, "scheduler": {"jobTemplate": {}}}]}});
    assert!(
        mismatches(&expected, &actual, "").is_empty(),
        "{:?}",
        mismatches(&expected, &actual, "")
    );
    assert_eq!(
        mismatches(
            &json!({"spec": {"s": [{"delay": "2m", "n": 0}]}}),
            &json!({"spec": {"s": [{"delay": "1m"}]}}),
            ""
        ),
        [
            "/spec/s/0/delay: expected \"2m\", got \"1m\"",
            "/spec/s/0/n: missing, expected 0"
        ]
    );
    assert_eq!(duration("1h30m"), Some(5_400_000));
    assert_eq!(duration("daily"), None);
}
