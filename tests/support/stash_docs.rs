//! The Stash-docs conformance cases (`tests/conformance/stash-docs/`), shared by
//! the native test (`tests/conformance.rs`) and the wasm one (`e2e-tests/tests/conformance.rs`),
//! which include this file with `#[path]`. Each of them only says how a target is admitted.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

/// The docs' known deviations (tests/conformance/stash-docs/README.md): (case, file, JSON pointer,
/// what the docs show, what the current rules give).
#[rustfmt::skip]
pub const KNOWN_DEVIATIONS: &[(&str, &str, &str, &str, &str)] = &[
    // The docs print the pre-2019-11 long name prefix.
    ("workload-deployment", "repository", "/metadata/name", "deployment-stash-demo", "deploy-stash-demo"),
    ("workload-deployment", "backupconfiguration", "/metadata/name", "deployment-stash-demo", "deploy-stash-demo"),
    ("workload-deployment", "backupconfiguration", "/spec/repository/name", "deployment-stash-demo", "deploy-stash-demo"),
    ("workload-statefulset", "repository", "/metadata/name", "statefulset-sts-demo", "sts-sts-demo"),
    ("workload-statefulset", "backupconfiguration", "/metadata/name", "statefulset-sts-demo", "sts-sts-demo"),
    ("workload-statefulset", "backupconfiguration", "/spec/repository/name", "statefulset-sts-demo", "sts-sts-demo"),
    ("workload-daemonset", "repository", "/metadata/name", "daemonset-dmn-demo", "ds-dmn-demo"),
    ("workload-daemonset", "backupconfiguration", "/metadata/name", "daemonset-dmn-demo", "ds-dmn-demo"),
    ("workload-daemonset", "backupconfiguration", "/spec/repository/name", "daemonset-dmn-demo", "ds-dmn-demo"),
    ("pvc-nfs", "repository", "/metadata/name", "persistentvolumeclaim-nfs-pvc", "pvc-nfs-pvc"),
    ("pvc-nfs", "backupconfiguration", "/metadata/name", "persistentvolumeclaim-nfs-pvc", "pvc-nfs-pvc"),
    ("pvc-nfs", "backupconfiguration", "/spec/repository/name", "persistentvolumeclaim-nfs-pvc", "pvc-nfs-pvc"),
    // The 2019 code used the app resource as the prefix ...
    ("legacy-postgres-app-version", "repository", "/metadata/name", "postgres-sample-postgres-1", "app-sample-postgres-1"),
    ("legacy-postgres-app-version", "backupconfiguration", "/metadata/name", "postgres-sample-postgres-1", "app-sample-postgres-1"),
    ("legacy-postgres-app-version", "backupconfiguration", "/spec/repository/name", "postgres-sample-postgres-1", "app-sample-postgres-1"),
    // ... and set the AppBinding's apiVersion to v1 (stashed/stash#1207).
    ("legacy-postgres-app-version", "backupconfiguration", "/spec/target/ref/apiVersion", "v1", "appcatalog.appscode.com/v1alpha1"),
];

pub const EXPECTED_CASES: usize = 19;

/// Metadata the API server sets; never part of what the policy generates.
const SERVER_SET_METADATA: [&str; 7] = [
    "creationTimestamp",
    "finalizers",
    "generation",
    "resourceVersion",
    "selfLink",
    "uid",
    "ownerReferences",
];

/// One case: a directory with `target.yaml`, `blueprint.yaml`, `secret.yaml` and the
/// `expected-*.yaml` objects.
pub struct Case {
    pub name: String,
    pub dir: PathBuf,
}

impl Case {
    pub fn target(&self) -> Value {
        read_yaml(&self.dir.join("target.yaml"))
    }

    /// The objects the cluster holds for this case.
    pub fn cluster(&self) -> Vec<Value> {
        vec![
            read_yaml(&self.dir.join("blueprint.yaml")),
            read_yaml(&self.dir.join("secret.yaml")),
        ]
    }

    /// The expected object with the known deviations applied (after checking that the docs
    /// still show what the table says).
    fn expected(&self, file: &str) -> Value {
        let mut expected = read_yaml(&self.dir.join(format!("expected-{file}.yaml")));
        let case = &self.name;
        for (_, _, pointer, docs, current) in KNOWN_DEVIATIONS.iter().filter(|d| d.0 == case && d.1 == file) {
            let value = expected
                .pointer_mut(pointer)
                .unwrap_or_else(|| panic!("{case}: {file}{pointer} is not in the fixture"));
            assert_eq!(value, docs, "{case}: the docs value of {file}{pointer} changed");
            *value = Value::String(current.to_string());
        }
        expected
    }

    /// Compares what the policy emitted for this case (the Repository, then the
    /// BackupConfiguration) with what the docs show.
    pub fn check(&self, emitted: Result<Vec<Value>, String>) -> Result<(), String> {
        let case = &self.name;
        let items = emitted.map_err(|e| format!("{case}: {e}"))?;
        if items.len() != 2 {
            return Err(format!(
                "{case}: expected a Repository and a BackupConfiguration, got {} items",
                items.len()
            ));
        }
        let mut mismatches = Vec::new();
        for (file, actual) in [("repository", &items[0]), ("backupconfiguration", &items[1])] {
            let expected = self.expected(file);
            let found = subset_mismatches(&expected, actual, "")
                .into_iter()
                .chain(owner_mismatch(&expected, actual));
            mismatches.extend(found.map(|m| format!("{case} {file}: {m}")));
        }
        match mismatches.is_empty() {
            true => Ok(()),
            false => Err(mismatches.join("\n")),
        }
    }
}

/// The fixtures of the repository whose root is `repo_root`.
pub fn fixtures_dir(repo_root: &Path) -> PathBuf {
    repo_root.join("tests/conformance/stash-docs")
}

/// Every case, by name.
pub fn cases(repo_root: &Path) -> Vec<Case> {
    case_dirs(&fixtures_dir(repo_root))
        .into_iter()
        .map(|(name, dir)| Case { name, dir })
        .collect()
}

/// The case directories of a fixture set (those with a `target.yaml`), by name.
pub fn case_dirs(fixtures: &Path) -> Vec<(String, PathBuf)> {
    let mut cases: Vec<(String, PathBuf)> = std::fs::read_dir(fixtures)
        .expect("fixtures dir is readable")
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.join("target.yaml").is_file())
        .map(|dir| (dir.file_name().unwrap().to_string_lossy().to_string(), dir))
        .collect();
    cases.sort();
    cases
}

/// Runs every case through `emit` and fails listing every case that does not conform.
pub fn assert_every_case_conforms(repo_root: &Path, emit: impl Fn(&Case) -> Result<Vec<Value>, String>) {
    let cases = cases(repo_root);
    assert_eq!(cases.len(), EXPECTED_CASES, "number of conformance cases");
    let failures: Vec<String> = cases.iter().filter_map(|case| case.check(emit(case)).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

pub fn assert_every_deviation_names_a_case(repo_root: &Path) {
    let cases = cases(repo_root);
    for (name, ..) in KNOWN_DEVIATIONS {
        assert!(
            cases.iter().any(|c| c.name == *name),
            "deviation for unknown case {name}"
        );
    }
}

/// The pvc-nfs target has a uid: its BackupConfiguration gets a controller ownerReference
/// with today's flags, not the docs' 2019 ones.
pub fn assert_pvc_case_is_owned_by_its_target(repo_root: &Path, emit: impl Fn(&Case) -> Result<Vec<Value>, String>) {
    let case = cases(repo_root)
        .into_iter()
        .find(|c| c.name == "pvc-nfs")
        .expect("the pvc-nfs case");
    let emitted = emit(&case).unwrap();
    assert_eq!(
        emitted[1].pointer("/metadata/ownerReferences"),
        Some(&json!([{
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": "nfs-pvc",
            "uid": "7c9dca87-8577-466a-bf2d-2fa7a83f85b7", "controller": true, "blockOwnerDeletion": true
        }]))
    );
}

pub fn read_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Where `actual` does not contain `expected`: `status` and server-set metadata are ignored,
/// and an expected `{}` (a Go zero struct) matches anything.
pub fn subset_mismatches(expected: &Value, actual: &Value, path: &str) -> Vec<String> {
    match (expected, actual) {
        (Value::Object(e), _) if e.is_empty() => Vec::new(),
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .filter(|(key, _)| !is_ignored(path, key))
            .flat_map(|(key, value)| {
                let here = format!("{path}/{key}");
                match a.get(key) {
                    Some(actual) => subset_mismatches(value, actual, &here),
                    None if value.as_object().is_some_and(|o| o.is_empty()) => Vec::new(),
                    None => vec![format!("{here}: missing, expected {value}")],
                }
            })
            .collect(),
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => e
            .iter()
            .zip(a)
            .enumerate()
            .flat_map(|(i, (e, a))| subset_mismatches(e, a, &format!("{path}/{i}")))
            .collect(),
        _ if expected == actual => Vec::new(),
        _ => vec![format!("{path}: expected {expected}, got {actual}")],
    }
}

fn is_ignored(path: &str, key: &str) -> bool {
    (path.is_empty() && key == "status") || (path == "/metadata" && SERVER_SET_METADATA.contains(&key))
}

/// ownerReferences are compared apart: the docs' 2019 flags (`blockOwnerDeletion: false`,
/// no `controller`) predate stashed/stash e47dd8ba, so only the owner's identity must match,
/// and only when the policy could set one (the target had a uid).
fn owner_mismatch(expected: &Value, actual: &Value) -> Option<String> {
    let expected = expected.pointer("/metadata/ownerReferences/0")?;
    let actual = actual.pointer("/metadata/ownerReferences/0")?;
    let identity = |v: &Value| ["apiVersion", "kind", "name", "uid"].map(|k| v.get(k).cloned());
    (identity(expected) != identity(actual)).then(|| format!("ownerReference {actual} is not {expected}"))
}

#[test]
fn subset_comparison_ignores_server_fields_and_zero_structs() {
    let expected =
        json!({"metadata": {"name": "a", "uid": "x"}, "spec": {"task": {}, "n": [1, 2]}, "status": {"s": 1}});
    assert!(
        subset_mismatches(
            &expected,
            &json!({"metadata": {"name": "a"}, "spec": {"n": [1, 2], "more": 1}}),
            ""
        )
        .is_empty()
    );
    assert_eq!(
        subset_mismatches(&expected, &json!({"metadata": {"name": "b"}, "spec": {"n": [1]}}), ""),
        [
            "/metadata/name: expected \"a\", got \"b\"",
            "/spec/n: expected [1,2], got [1]"
        ]
    );
}
