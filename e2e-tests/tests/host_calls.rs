//! The host calls each scenario makes (the length of its recorded session), against the
//! host-call budget: for Stash at most 1 Namespace + per blueprint 1 BackupBlueprint, 1 Secret
//! and 2 collision lookups; for KubeStash at most 2 Namespaces + 1 BackupBlueprint + 1 per
//! distinct BackupStorage and RetentionPolicy + 1 per distinct repository + 1
//! BackupConfiguration. Every scenario must be listed, so a new one states its cost.

mod common;

use std::collections::BTreeMap;

use backup_blueprint_policy_e2e::record::Recorder;
use backup_blueprint_policy_e2e::session;
use common::{Scenario, runner, scenarios_dir};

/// (scenario, host calls). A cluster-wide policy's budget for one blueprint is 4 (5 with the
/// Namespace).
const HOST_CALLS: [(&str, usize); 50] = [
    ("access-allowed-by-name", 4),
    ("access-allowed-by-selector", 5),
    ("access-forbidden-by-name", 0),
    ("access-forbidden-by-selector", 1),
    ("access-one-forbidden", 3),
    ("appbinding", 4),
    ("audit-current", 4),
    ("audit-stale", 4),
    ("audit-unprotected", 0),
    ("backup-namespace", 4),
    ("collision-foreign", 4),
    ("collision-warn", 4),
    ("custom-variable", 4),
    ("daemonset", 4),
    ("default-deployment-pvc", 5),
    ("default-gold-tier", 5),
    ("default-statefulset", 5),
    ("deployment", 4),
    ("guardrail-annotation", 2),
    ("guardrail-blueprint", 1),
    ("host-error-accept", 1),
    ("host-error-reject", 1),
    ("invalid-settings", 0),
    ("kubedb-postgres", 4),
    // KubeStash: the annotations alone are wrong (pinned variable, both generations): none.
    ("kubestash-both-triggers", 0),
    // The blueprint, BackupStorage, RetentionPolicy, BackupConfiguration and Repository (found,
    // this database's own); its usage policy is `Same` (no Namespace).
    ("kubestash-kubedb", 5),
    ("kubestash-pinned-directory", 0),
    // As kubestash-kubedb; the Repository is another database's.
    ("kubestash-repository-collision", 5),
    // The blueprint, the target's Namespace (a Selector usage policy), the storage objects
    // (`Same`: no second Namespace), the BackupConfiguration and the Repository.
    ("kubestash-statefulset", 6),
    // The blueprint and the Namespace its usage policy denies.
    ("kubestash-usage-denied", 2),
    ("not-a-target", 0),
    ("pvc", 4),
    ("reapply-own-objects", 4),
    ("reject-annotation-syntax", 0),
    ("reject-blueprint-not-found", 1),
    ("reject-cross-namespace", 1),
    ("reject-incomplete-trigger", 2),
    ("reject-invalid-result", 1),
    ("reject-stash-webhooks", 1),
    ("reject-storage-secret", 2),
    ("reject-undefined-variables", 1),
    ("reject-volumes", 2),
    ("require-opt-out", 0),
    ("require-opt-out-expired", 1),
    ("require-opt-out-no-reason", 1),
    ("require-unprotected", 1),
    ("statefulset", 4),
    ("storage-secret-skip", 3),
    ("storage-secret-warn", 4),
    ("too-many-blueprints", 0),
];

fn host_calls(scenario: &Scenario) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let recorded = dir.path().join("session.yml");
    let recorder = Recorder::new(scenario.backend(), recorded.clone());
    // Invalid settings never reach the policy's validate: no session is written.
    if runner()
        .evaluate(Box::new(recorder), &scenario.request(), &scenario.settings())
        .is_err()
    {
        return 0;
    }
    session::read(&recorded).map_or(0, |exchanges| exchanges.len())
}

#[test]
fn every_scenario_makes_the_host_calls_listed() {
    let expected: BTreeMap<&str, usize> = HOST_CALLS.into_iter().collect();
    let mut actual = BTreeMap::new();
    for entry in std::fs::read_dir(scenarios_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.join("object.yaml").is_file() {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            actual.insert(name.clone(), host_calls(&Scenario::new(&name)));
        }
    }
    let actual: BTreeMap<&str, usize> = actual.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(actual, expected);
}
