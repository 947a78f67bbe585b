//! Every case of `tests/conformance/stash-docs/` through the
//! compiled policy: the target is admitted (UPDATE, as in the native conformance test: the docs
//! annotate objects that exist) with the case's blueprint and Secret as the cluster, the patch is applied, and the emitted objects must contain what the Stash docs show
//! Stash generating. The cases, the docs' known deviations and the comparison are
//! shared with the native conformance test of the policy crate.

mod common;
#[path = "../../tests/support/kubestash_docs.rs"]
mod kubestash_docs;
#[path = "../../tests/support/stash_docs.rs"]
mod stash_docs;

use backup_blueprint_policy_e2e::cluster::Cluster;
use backup_blueprint_policy_e2e::request::AdmissionRequest;
use common::{emitted, patched, repo_root, runner};
use serde_json::{Value, json};
use stash_docs::Case;

/// Admits the case's target through the wasm; returns the emitted objects.
fn emit(case: &Case) -> Result<Vec<Value>, String> {
    let mut cluster = Cluster::default();
    for object in case.cluster() {
        cluster.add_object(object).map_err(|e| format!("{e:#}"))?;
    }
    let request = AdmissionRequest::for_object(case.target(), Some(case.target()), "UPDATE", None)?;
    let outcome = runner()
        .evaluate(Box::new(cluster), &request, &json!({}))
        .map_err(|e| format!("{e:#}"))?;
    let response = &outcome.evaluation.response;
    if !response.allowed || response.patch.is_none() {
        return Err(format!("expected an accepted, mutated object, got {response:?}"));
    }
    Ok(emitted(&patched(&request, &outcome)))
}

#[test]
fn every_stash_docs_case_resolves_through_the_wasm_as_stash_did() {
    stash_docs::assert_every_case_conforms(&repo_root(), emit);
}

/// A KubeStash case through the wasm (UPDATE, with `settings`): the emitted objects, or the
/// rejection's text. The in-memory cluster serves KubeStash's BackupBlueprint namespaced.
fn emit_kubestash(case: &kubestash_docs::Case, target: &Value, settings: Value) -> Result<Vec<Value>, String> {
    let mut cluster = Cluster::default();
    for object in case.cluster() {
        cluster.add_object(object).map_err(|e| format!("{e:#}"))?;
    }
    let request = AdmissionRequest::for_object(target.clone(), Some(target.clone()), "UPDATE", None)?;
    let outcome = runner()
        .evaluate(Box::new(cluster), &request, &settings)
        .map_err(|e| format!("{e:#}"))?;
    let response = &outcome.evaluation.response;
    match (response.allowed, &response.patch) {
        (true, Some(_)) => Ok(emitted(&patched(&request, &outcome))),
        (false, _) => Err(response
            .status
            .as_ref()
            .and_then(|s| s.message.clone())
            .unwrap_or_default()),
        _ => Err(format!("accepted without emitting: {response:?}")),
    }
}

#[test]
fn every_kubestash_docs_case_resolves_through_the_wasm_as_kubestash_did() {
    kubestash_docs::assert_every_case_conforms(&repo_root(), &emit_kubestash);
}

#[test]
fn every_known_deviation_names_an_existing_case() {
    stash_docs::assert_every_deviation_names_a_case(&repo_root());
}

#[test]
fn the_pvc_case_gets_a_controller_owner_reference() {
    stash_docs::assert_pvc_case_is_owned_by_its_target(&repo_root(), emit);
}
