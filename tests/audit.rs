//! Stored objects: the audit scanner sends an existing object as a CREATE with its
//! `resourceVersion`; the policy reports (stale, unprotected, forbidden) and never mutates.

mod common;

use backup_blueprint_policy::evaluation::policy::Decision;
use backup_blueprint_policy::settings::Settings;
use common::*;
use serde_json::{Value, json};

/// `object` as the API server stores it: with a uid and a resourceVersion.
fn stored(mut object: Value) -> Value {
    object["metadata"]["uid"] = json!("0b7e");
    object["metadata"]["resourceVersion"] = json!("4711");
    object
}

#[test]
fn a_current_stored_target_is_accepted_unchanged() {
    // Emitted at CREATE (no uid yet: an owner annotation), stored, then audited (a uid: an
    // ownerReference): the resolution is the same.
    let emitted = mutated(&deployment(good_annotations()), cluster(), &Settings::default());
    let (outcome, _) = admit(&stored(emitted), cluster(), &Settings::default());
    assert_eq!(outcome.decision, Decision::Accept);
}

#[test]
fn a_stale_stored_target_names_the_blueprint_and_the_fields() {
    let emitted = mutated(&deployment(good_annotations()), cluster(), &Settings::default());
    let mut changed = cluster();
    changed[0]["spec"]["schedule"] = json!("@daily");
    changed[0]["spec"]["backend"]["gcs"]["bucket"] = json!("elsewhere");
    let (outcome, _) = admit(&stored(emitted), changed, &Settings::default());
    assert_eq!(
        message_of(&outcome),
        "Deployment demo/web: the emitted backup objects are out of date:\n\
         - the resolved objects are stale: BackupBlueprint 'gcs-daily' changed (Repository spec.backend.gcs.bucket, \
         BackupConfiguration spec.schedule); apply the object again to refresh them"
    );
}

#[test]
fn an_unprotected_stored_object_is_reported_and_not_defaulted() {
    let rules = settings(json!({
        "requireBackup": {"kinds": ["StatefulSet"]},
        "defaultBlueprints": [{"kinds": ["StatefulSet"], "blueprint": "gcs-daily"}],
    }));
    let (outcome, calls) = admit(&stored(statefulset("demo", json!({}))), cluster(), &rules);
    assert!(
        message_of(&outcome).starts_with("StatefulSet demo/db: a backup is required:\n- requireBackup applies"),
        "{outcome:?}"
    );
    assert!(calls.is_empty(), "no default, so no lookup: {calls:?}");
}

#[test]
fn a_stored_target_is_never_mutated() {
    // Its resolved annotation was never written (emission was off when it was admitted).
    let (outcome, _) = admit(&stored(deployment(good_annotations())), cluster(), &Settings::default());
    assert_eq!(
        message_of(&outcome),
        "Deployment demo/web: the emitted backup objects are out of date:\n\
         - the resolved objects are missing: autobackup.kubewarden.io/resolved is not set; apply the object again to emit them"
    );
    let off = settings(json!({"emitResolvedObjects": false}));
    let (outcome, _) = admit(&stored(deployment(good_annotations())), cluster(), &off);
    assert_eq!(outcome.decision, Decision::Accept);
}
