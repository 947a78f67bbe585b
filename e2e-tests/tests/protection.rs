//! Backups by default through the compiled policy: the scenarios of `scenarios/default-*`,
//! `require-*`, `guardrail-*` and `audit-*` with `examples/protection-settings.yaml` (the kwctl
//! bats replay the same ones). Exact texts are asserted in the core's tests; here the decision,
//! the mutation and the subject of each line.

mod common;

use common::{Scenario, emitted, patched, problem_lines};
use serde_json::Value;

/// The defaulted object: its added annotations and emitted objects.
fn defaulted(name: &str) -> (Value, Vec<Value>) {
    let scenario = Scenario::new(name);
    let request = scenario.request();
    let object = patched(&request, &scenario.outcome());
    let items = emitted(&object);
    (object["metadata"]["annotations"].clone(), items)
}

#[test]
fn a_statefulset_in_prod_is_defaulted_with_its_claim_templates() {
    let (annotations, items) = defaulted("default-statefulset");
    assert_eq!(annotations["stash.appscode.com/backup-blueprint"], "workload-backup");
    assert_eq!(
        annotations["stash.appscode.com/volume-mounts"],
        "data:/var/lib/postgresql:pgdata,logs:/var/log/postgresql"
    );
    assert_eq!(items[1]["metadata"]["name"], "sts-db");
}

#[test]
fn gold_namespaces_get_the_hourly_blueprint() {
    for name in ["default-gold-tier", "default-deployment-pvc"] {
        let (annotations, items) = defaulted(name);
        assert_eq!(
            annotations["stash.appscode.com/backup-blueprint"], "gold-hourly",
            "{name}"
        );
        assert_eq!(items[1]["spec"]["schedule"], "0 * * * *", "{name}");
    }
    let (annotations, _) = defaulted("default-deployment-pvc");
    assert_eq!(annotations["stash.appscode.com/volume-mounts"], "data:/var/lib/shop");
}

#[test]
fn defaulting_is_idempotent_through_the_patch() {
    let scenario = Scenario::new("default-statefulset");
    let object = patched(&scenario.request(), &scenario.outcome());
    let update = backup_blueprint_policy_e2e::request::AdmissionRequest::for_object(
        object.clone(),
        Some(object),
        "UPDATE",
        None,
    )
    .unwrap();
    let again = common::runner()
        .evaluate(scenario.backend(), &update, &scenario.settings())
        .unwrap();
    assert_eq!(again.evaluation.response.patch, None);
}

#[test]
fn unprotected_statefulsets_are_told_how_to_comply() {
    let lines = problem_lines("require-unprotected");
    assert!(lines[0].starts_with("requireBackup applies to a StatefulSet in namespace 'prod-eu'"));
    assert!(lines[0].contains(
        "defaultBlueprints[1] would give it BackupBlueprint 'workload-backup', but it has no persistent storage"
    ));
    assert!(lines[1].starts_with("or opt out: autobackup.kubewarden.io/skip: \"true\""));
    let stored = problem_lines("audit-unprotected");
    assert!(
        stored[0].contains("stash.appscode.com/volume-mounts: data:/var/lib/postgresql (inferred"),
        "{stored:?}"
    );
}

#[test]
fn opt_outs() {
    let outcome = Scenario::new("require-opt-out").outcome();
    let response = &outcome.evaluation.response;
    assert!(
        response.allowed && response.patch.is_none() && response.warnings.is_none(),
        "{response:?}"
    );
    assert!(
        problem_lines("require-opt-out-expired")[0]
            .starts_with("autobackup.kubewarden.io/skip-until: the opt-out ended on 2020-01-01")
    );
    assert!(
        problem_lines("require-opt-out-no-reason")[0].starts_with("autobackup.kubewarden.io/skip-reason: is required")
    );
}

#[test]
fn guardrails_hold_blueprints_and_annotations() {
    let lines = problem_lines("guardrail-blueprint");
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with("BackupBlueprint 'weekly-backup' spec.retentionPolicy.keepLast: keeps 2"));
    assert!(lines[1].starts_with("BackupBlueprint 'weekly-backup' spec.schedule: '@weekly' leaves up to 7d"));
    assert_eq!(
        problem_lines("guardrail-annotation"),
        [
            "stash.appscode.com/schedule: '0 0 1 * *' leaves up to 31d between backups; guardrails.minimumFrequency \
          requires a backup at least every 1d: schedule it more often"
        ]
    );
}

#[test]
fn stored_objects_are_reported_never_mutated() {
    let outcome = Scenario::new("audit-current").outcome();
    let response = &outcome.evaluation.response;
    assert!(response.allowed && response.patch.is_none(), "{response:?}");
    assert_eq!(
        problem_lines("audit-stale"),
        [
            "the resolved objects are stale: BackupBlueprint 'workload-backup' changed (Repository spec.backend.gcs.bucket, \
          BackupConfiguration spec.schedule); apply the object again to refresh them"
        ]
    );
}
