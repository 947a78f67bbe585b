//! Every case of `tests/conformance/stash-docs/` through the core: the target is admitted
//! as an UPDATE (the docs annotate objects that exist: pvc-nfs even has a uid and a
//! resourceVersion, which on a CREATE would make it a stored object), the blueprint and the Secret are the cluster, and the emitted objects must
//! contain what the Stash docs show Stash generating. The cases, the docs' known
//! deviations and the comparison are in `support/stash_docs.rs`.

mod common;
#[path = "support/kubestash_docs.rs"]
mod kubestash_docs;
#[path = "support/stash_docs.rs"]
mod stash_docs;

use std::path::Path;

use backup_blueprint_policy::evaluation::policy::Decision;
use backup_blueprint_policy::lookups::MemoryCluster;
use backup_blueprint_policy::settings::Settings;
use common::{admit_with, resolved_items};
use serde_json::Value;
use stash_docs::Case;

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn emit(case: &Case) -> Result<Vec<Value>, String> {
    let cluster = MemoryCluster::new(case.cluster());
    let (outcome, _) = admit_with(&case.target(), "UPDATE", cluster, &Settings::default());
    match outcome.decision {
        Decision::Mutate(mutated) => Ok(resolved_items(&mutated)),
        other => Err(format!("expected an accepted, mutated object, got {other:?}")),
    }
}

#[test]
fn every_stash_docs_case_resolves_as_stash_did() {
    stash_docs::assert_every_case_conforms(repo_root(), emit);
}

/// A KubeStash case: the target admitted as an UPDATE with `settings`; the emitted objects or
/// the rejection.
fn emit_kubestash(case: &kubestash_docs::Case, target: &Value, settings: Value) -> Result<Vec<Value>, String> {
    let cluster = MemoryCluster::new(case.cluster());
    let settings = backup_blueprint_policy::settings::from_value(settings).unwrap();
    let (outcome, _) = admit_with(target, "UPDATE", cluster, &settings);
    match outcome.decision {
        Decision::Mutate(mutated) => Ok(resolved_items(&mutated)),
        Decision::Reject(message) => Err(message),
        Decision::Accept => Err("accepted without emitting".into()),
    }
}

#[test]
fn every_kubestash_docs_case_resolves_as_kubestash_did() {
    kubestash_docs::assert_every_case_conforms(repo_root(), &emit_kubestash);
}

#[test]
fn every_known_deviation_names_an_existing_case() {
    stash_docs::assert_every_deviation_names_a_case(repo_root());
}

#[test]
fn the_pvc_case_gets_a_controller_owner_reference() {
    stash_docs::assert_pvc_case_is_owned_by_its_target(repo_root(), emit);
}

/// The repository keeps its own copy of the contract's fixtures, so that a plain clone tests
/// itself; where the contract is beside the repository (`../shared/conformance`, the project's
/// workspace), the copy must hold exactly its files.
#[test]
fn the_repository_copy_is_the_contract() {
    let contract = repo_root().join("../shared/conformance");
    if !contract.is_dir() {
        eprintln!("skipped: {} is not beside the repository", contract.display());
        return;
    }
    for set in ["stash-docs", "kubestash-docs"] {
        let (theirs, ours) = (
            files(&contract.join(set)),
            files(&repo_root().join("tests/conformance").join(set)),
        );
        let names = |files: &[(String, Vec<u8>)]| files.iter().map(|(name, _)| name.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(&ours),
            names(&theirs),
            "tests/conformance/{set}: the files differ from the contract's"
        );
        for ((name, our_bytes), (_, their_bytes)) in ours.iter().zip(&theirs) {
            assert!(
                our_bytes == their_bytes,
                "tests/conformance/{set}/{name} differs from the contract: copy it again"
            );
        }
    }
}

/// Every file under `dir`, by path relative to it, sorted, with its bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).expect("readable fixtures") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let name = path.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                found.push((name, std::fs::read(&path).expect("readable fixture")));
            }
        }
    }
    found.sort();
    found
}
