//! Near misses through the core (issue 17): a key that looks like Stash's, KubeStash's or this
//! policy's but is none of them is warned, at no lookup, whether or not the trigger is there.

mod common;

use backup_blueprint_policy::evaluation::policy::{self, Decision, Screened};
use backup_blueprint_policy::lookups::MemoryCluster;
use backup_blueprint_policy::settings::Settings;
use common::*;
use serde_json::{Value, json};

/// The lookups an object makes without near misses: the warning must add none.
fn calls_of(object: &Value) -> Vec<String> {
    admit(object, cluster(), &Settings::default()).1
}

#[test]
fn only_a_misspelt_trigger_is_accepted_with_a_warning_at_no_lookup() {
    let object = deployment(json!({"stash.appscode.com/backup-bluprint": "gcs-daily"}));
    let (outcome, calls) = admit(&object, cluster(), &Settings::default());
    assert_eq!(outcome.decision, Decision::Accept);
    assert_eq!(
        outcome.warnings,
        [
            "Deployment demo/web: annotation stash.appscode.com/backup-bluprint is not one Stash, KubeStash or this policy reads: \
          did you mean stash.appscode.com/backup-blueprint?"
        ]
    );
    assert!(calls.is_empty(), "{calls:?}");
    // Answered by the first pass: the object is not read whole (src/wasm.rs `decide`).
    let Screened::Answered(screened) = policy::screen("CREATE", &object, &Settings::default()) else {
        panic!("not answered from the metadata");
    };
    assert_eq!(screened, outcome);
}

#[test]
fn a_correct_object_with_a_misspelt_extra_key_is_mutated_as_before_with_the_warning() {
    let clean = deployment(good_annotations());
    let object = with_annotation(clean.clone(), "stash.appscode.com/schedul", "@daily");
    let (outcome, calls) = admit(&object, cluster(), &Settings::default());
    let Decision::Mutate(mutated) = outcome.decision else {
        panic!("not mutated: {:?}", outcome.decision)
    };
    assert_eq!(
        resolved_items(&mutated),
        resolved_items(&common::mutated(&clean, cluster(), &Settings::default())),
        "the misspelt schedule is not read"
    );
    assert_eq!(
        outcome.warnings,
        [
            "Deployment demo/web: annotation stash.appscode.com/schedul is not one Stash, KubeStash or this policy reads: \
          did you mean stash.appscode.com/schedule?"
        ]
    );
    assert_eq!(calls, calls_of(&clean), "the warning costs no lookup");
}

#[test]
fn stash_operator_annotations_are_not_warned() {
    // What Stash's operator and webhooks write (stashed/stash apis/stash/v1beta1/annotations.go,
    // apis/types.go; the docs show the hashes on workloads), and Stash v0.9's auto-backup keys.
    let mut own = json!({});
    for key in [
        "stash.appscode.com/last-applied-backupconfiguration",
        "stash.appscode.com/last-applied-backupconfiguration-hash",
        "stash.appscode.com/last-applied-restoresession",
        "stash.appscode.com/last-applied-restoresession-hash",
        "stash.appscode.com/last-applied-backup-invoker-hash",
        "stash.appscode.com/tag",
        "stash.appscode.com/delete-job-on-completion",
        "stash.appscode.com/backup-template",
        "stash.appscode.com/target-directories",
        "stash.appscode.com/mountpath",
    ] {
        own[key] = json!("16695904176112618119");
    }
    let (outcome, calls) = admit(&deployment(own.clone()), cluster(), &Settings::default());
    assert_eq!((outcome.decision, outcome.warnings), (Decision::Accept, vec![]));
    assert!(calls.is_empty(), "{calls:?}");

    let mut annotated = deployment(good_annotations());
    for (key, value) in own.as_object().unwrap() {
        annotated["metadata"]["annotations"][key] = value.clone();
    }
    let (outcome, calls) = admit(&annotated, cluster(), &Settings::default());
    assert!(matches!(outcome.decision, Decision::Mutate(_)), "{outcome:?}");
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
    assert_eq!(calls, calls_of(&deployment(good_annotations())));
}

#[test]
fn a_rejected_object_keeps_its_near_miss_warnings() {
    // The misspelt trigger leaves the workload trigger incomplete: rejected, and told why.
    let object = deployment(json!({
        "stash.appscode.com/backupblueprint": "gcs-daily",
        "stash.appscode.com/target-paths": "/data",
        "stash.appscode.com/volume-mounts": "data:/data",
    }));
    let (outcome, calls) = admit(&object, cluster(), &Settings::default());
    assert!(
        message_of(&outcome).contains("stash.appscode.com/backup-blueprint is missing"),
        "{outcome:?}"
    );
    assert_eq!(outcome.warnings.len(), 1);
    assert!(
        outcome.warnings[0].ends_with("did you mean stash.appscode.com/backup-blueprint?"),
        "{:?}",
        outcome.warnings
    );
    assert!(calls.is_empty(), "{calls:?}");
}

#[test]
fn every_target_kind_is_warned_and_nothing_else() {
    let typo = json!({"param.stash.appscode.com/args": "--all"});
    let pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "demo", "annotations": typo}});
    let postgres = json!({"apiVersion": "kubedb.com/v1", "kind": "Postgres",
        "metadata": {"name": "pg", "namespace": "demo", "annotations": typo}});
    for (object, named) in [(pvc, "PersistentVolumeClaim demo/data"), (postgres, "Postgres demo/pg")] {
        let (outcome, calls) = admit(&object, cluster(), &Settings::default());
        assert_eq!(outcome.decision, Decision::Accept);
        assert_eq!(outcome.warnings.len(), 1);
        assert!(
            outcome.warnings[0].starts_with(&format!("{named}: ")),
            "{:?}",
            outcome.warnings
        );
        assert!(calls.is_empty());
    }
    // Not a target, an object being deleted, a Deployment's ReplicaSet, another operation: no word.
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "annotations": typo}});
    let mut deleted = deployment(typo.clone());
    deleted["metadata"]["deletionTimestamp"] = json!("2026-11-25T10:00:00Z");
    let mut replicaset = deployment(typo.clone());
    replicaset["kind"] = json!("ReplicaSet");
    replicaset["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}]);
    for object in [pod, deleted, replicaset] {
        let (outcome, calls) = admit(&object, cluster(), &Settings::default());
        assert_eq!(
            (outcome.decision, outcome.warnings),
            (Decision::Accept, vec![]),
            "{object}"
        );
        assert!(calls.is_empty());
    }
    let (outcome, _) = admit_with(
        &deployment(typo),
        "DELETE",
        MemoryCluster::new(cluster()),
        &Settings::default(),
    );
    assert_eq!((outcome.decision, outcome.warnings), (Decision::Accept, vec![]));
}

#[test]
fn thousands_of_annotations_give_a_few_warnings_at_no_lookup() {
    let mut annotations = json!({});
    for i in 0..10_000 {
        annotations[format!("example.com/key-{i}")] = json!("x");
        annotations[format!("stash.appscode.com/unknown-{i:05}")] = json!("x");
    }
    let (outcome, calls) = admit(&deployment(annotations), cluster(), &Settings::default());
    assert_eq!(outcome.decision, Decision::Accept);
    assert_eq!(outcome.warnings.len(), 6);
    assert!(
        outcome.warnings[5].contains("and 9995 more"),
        "{:?}",
        outcome.warnings[5]
    );
    assert!(calls.is_empty());
}
