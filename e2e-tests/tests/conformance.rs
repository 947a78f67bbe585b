//! Every case of `../shared/conformance/stash-docs/` (beside the repository) through the
//! compiled policy: the target is admitted (CREATE) with the case's blueprint and Secret as the
//! cluster, the patch is applied, and the emitted objects must contain what the Stash docs show
//! Stash generating (SPEC §10). Mirrors the native conformance test of the policy crate.

mod common;

use std::path::{Path, PathBuf};

use backup_blueprint_policy_e2e::cluster::Cluster;
use backup_blueprint_policy_e2e::inputs::read_document;
use backup_blueprint_policy_e2e::request::AdmissionRequest;
use common::{emitted, patched, repo_root, runner, subset_mismatches};
use serde_json::{Value, json};

/// The docs' known deviations (conformance/stash-docs/README.md): (case, file, JSON pointer,
/// what the docs show, what the current rules give).
const KNOWN_DEVIATIONS: &[(&str, &str, &str, &str, &str)] = &[
    // The docs print the pre-2019-11 long name prefix.
    (
        "workload-deployment",
        "repository",
        "/metadata/name",
        "deployment-stash-demo",
        "deploy-stash-demo",
    ),
    (
        "workload-deployment",
        "backupconfiguration",
        "/metadata/name",
        "deployment-stash-demo",
        "deploy-stash-demo",
    ),
    (
        "workload-deployment",
        "backupconfiguration",
        "/spec/repository/name",
        "deployment-stash-demo",
        "deploy-stash-demo",
    ),
    (
        "workload-statefulset",
        "repository",
        "/metadata/name",
        "statefulset-sts-demo",
        "sts-sts-demo",
    ),
    (
        "workload-statefulset",
        "backupconfiguration",
        "/metadata/name",
        "statefulset-sts-demo",
        "sts-sts-demo",
    ),
    (
        "workload-statefulset",
        "backupconfiguration",
        "/spec/repository/name",
        "statefulset-sts-demo",
        "sts-sts-demo",
    ),
    (
        "workload-daemonset",
        "repository",
        "/metadata/name",
        "daemonset-dmn-demo",
        "ds-dmn-demo",
    ),
    (
        "workload-daemonset",
        "backupconfiguration",
        "/metadata/name",
        "daemonset-dmn-demo",
        "ds-dmn-demo",
    ),
    (
        "workload-daemonset",
        "backupconfiguration",
        "/spec/repository/name",
        "daemonset-dmn-demo",
        "ds-dmn-demo",
    ),
    (
        "pvc-nfs",
        "repository",
        "/metadata/name",
        "persistentvolumeclaim-nfs-pvc",
        "pvc-nfs-pvc",
    ),
    (
        "pvc-nfs",
        "backupconfiguration",
        "/metadata/name",
        "persistentvolumeclaim-nfs-pvc",
        "pvc-nfs-pvc",
    ),
    (
        "pvc-nfs",
        "backupconfiguration",
        "/spec/repository/name",
        "persistentvolumeclaim-nfs-pvc",
        "pvc-nfs-pvc",
    ),
    // The 2019 code used the app resource as the prefix ...
    (
        "legacy-postgres-app-version",
        "repository",
        "/metadata/name",
        "postgres-sample-postgres-1",
        "app-sample-postgres-1",
    ),
    (
        "legacy-postgres-app-version",
        "backupconfiguration",
        "/metadata/name",
        "postgres-sample-postgres-1",
        "app-sample-postgres-1",
    ),
    (
        "legacy-postgres-app-version",
        "backupconfiguration",
        "/spec/repository/name",
        "postgres-sample-postgres-1",
        "app-sample-postgres-1",
    ),
    // ... and set the AppBinding's apiVersion to v1 (stashed/stash#1207).
    (
        "legacy-postgres-app-version",
        "backupconfiguration",
        "/spec/target/ref/apiVersion",
        "v1",
        "appcatalog.appscode.com/v1alpha1",
    ),
];

const EXPECTED_CASES: usize = 19;

fn fixtures_dir() -> PathBuf {
    let dir = repo_root().join("../shared/conformance/stash-docs");
    assert!(
        dir.is_dir(),
        "the conformance fixtures are missing: expected them at {} (shared/ beside the repository)",
        dir.display()
    );
    dir
}

fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures dir is readable")
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.join("target.yaml").is_file())
        .collect();
    cases.sort();
    cases
}

fn read(path: &Path) -> Value {
    read_document(path, "fixture").unwrap_or_else(|e| panic!("{e:#}"))
}

/// The expected object with the known deviations of `case` applied (after checking that the
/// docs still show what the table says).
fn expected(case: &str, dir: &Path, file: &str) -> Value {
    let mut expected = read(&dir.join(format!("expected-{file}.yaml")));
    for (_, _, pointer, docs, current) in KNOWN_DEVIATIONS.iter().filter(|d| d.0 == case && d.1 == file) {
        let value = expected
            .pointer_mut(pointer)
            .unwrap_or_else(|| panic!("{case}: {file}{pointer} is not in the fixture"));
        assert_eq!(value, docs, "{case}: the docs value of {file}{pointer} changed");
        *value = Value::String(current.to_string());
    }
    expected
}

/// Admits the case's target through the wasm; returns the emitted objects.
fn emitted_for(dir: &Path) -> Result<Vec<Value>, String> {
    let mut cluster = Cluster::default();
    for file in ["blueprint.yaml", "secret.yaml"] {
        cluster
            .add_object(read(&dir.join(file)))
            .map_err(|e| format!("{e:#}"))?;
    }
    let request = AdmissionRequest::for_object(read(&dir.join("target.yaml")), None, "CREATE", None)?;
    let outcome = runner()
        .evaluate(Box::new(cluster), &request, &json!({}))
        .map_err(|e| format!("{e:#}"))?;
    let response = &outcome.evaluation.response;
    if !response.allowed || response.patch.is_none() {
        return Err(format!("expected an accepted, mutated object, got {response:?}"));
    }
    Ok(emitted(&patched(&request, &outcome)))
}

fn check_case(dir: &Path) -> Result<(), String> {
    let case = dir.file_name().unwrap().to_string_lossy().to_string();
    let items = emitted_for(dir).map_err(|e| format!("{case}: {e}"))?;
    if items.len() != 2 {
        return Err(format!(
            "{case}: expected a Repository and a BackupConfiguration, got {} items",
            items.len()
        ));
    }
    let mut mismatches = Vec::new();
    for (file, actual) in [("repository", &items[0]), ("backupconfiguration", &items[1])] {
        let expected = expected(&case, dir, file);
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
fn every_stash_docs_case_resolves_through_the_wasm_as_stash_did() {
    let cases = cases();
    assert_eq!(cases.len(), EXPECTED_CASES, "number of conformance cases");
    let failures: Vec<String> = cases.iter().filter_map(|dir| check_case(dir).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_known_deviation_names_an_existing_case() {
    let names: Vec<String> = cases()
        .iter()
        .map(|c| c.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    for (case, ..) in KNOWN_DEVIATIONS {
        assert!(names.iter().any(|n| n == case), "deviation for unknown case {case}");
    }
}

#[test]
fn the_pvc_case_gets_a_controller_owner_reference() {
    let items = emitted_for(&fixtures_dir().join("pvc-nfs")).unwrap();
    assert_eq!(
        items[1].pointer("/metadata/ownerReferences").unwrap(),
        &json!([{
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": "nfs-pvc",
            "uid": "7c9dca87-8577-466a-bf2d-2fa7a83f85b7", "controller": true, "blockOwnerDeletion": true
        }])
    );
}
