//! `defaultBlueprints` over the core: the first matching rule adds the trigger and,
//! for a workload, the volumes inferred from its persistent storage; the defaulted target is
//! resolved, checked and emitted in the same mutation, and evaluating the result again changes
//! nothing.

mod common;

use backup_blueprint_policy::evaluation::policy::Decision;
use backup_blueprint_policy::lookups::MemoryCluster;
use backup_blueprint_policy::settings::Settings;
use common::*;
use serde_json::{Value, json};

/// Namespace tiers: gold namespaces get `gold-hourly`, every other one `bronze-daily`.
fn tiers() -> Settings {
    settings(json!({"defaultBlueprints": [
        {"kinds": ["StatefulSet", "Deployment"], "blueprint": "gold-hourly", "namespaceSelector": {"matchLabels": {"tier": "gold"}}},
        {"kinds": ["StatefulSet", "Deployment"], "blueprint": "bronze-daily"},
    ]}))
}

fn tier_cluster() -> Vec<Value> {
    vec![
        gcs_blueprint("gold-hourly"),
        gcs_blueprint("bronze-daily"),
        namespace("shop", json!({"tier": "gold"})),
        namespace("lab", json!({})),
        secret("shop", "gcs-secret"),
        secret("lab", "gcs-secret"),
    ]
}

fn annotations_of(object: &Value) -> &serde_json::Map<String, Value> {
    object["metadata"]["annotations"].as_object().unwrap()
}

#[test]
fn a_statefulset_with_two_claim_templates_and_a_sub_path_is_defaulted_and_emitted() {
    let (outcome, calls) = admit(&statefulset("shop", json!({})), tier_cluster(), &tiers());
    let Decision::Mutate(object) = outcome.decision else {
        panic!("{outcome:?}")
    };
    let annotations = annotations_of(&object);
    assert_eq!(annotations["stash.appscode.com/backup-blueprint"], "gold-hourly");
    assert_eq!(
        annotations["stash.appscode.com/target-paths"],
        "/var/lib/postgresql,/var/log/postgresql"
    );
    assert_eq!(
        annotations["stash.appscode.com/volume-mounts"],
        "data:/var/lib/postgresql:pgdata,logs:/var/log/postgresql"
    );
    let items = resolved_items(&object);
    assert_eq!(
        items[1]["spec"]["target"]["volumeMounts"],
        json!([{"name": "data", "mountPath": "/var/lib/postgresql", "subPath": "pgdata"},
               {"name": "logs", "mountPath": "/var/log/postgresql"}])
    );
    assert_eq!(
        calls,
        [
            "Namespace shop",
            "BackupBlueprint gold-hourly",
            "Secret shop/gcs-secret",
            "Repository shop/sts-db",
            "BackupConfiguration shop/sts-db"
        ]
    );
    // Only the metadata annotations changed, and applying the result again changes nothing.
    let mut original = statefulset("shop", json!({}));
    original["metadata"]["annotations"] = object["metadata"]["annotations"].clone();
    assert_eq!(object, original);
    let (again, _) = admit_with(&object, "UPDATE", MemoryCluster::new(tier_cluster()), &tiers());
    assert_eq!(again.decision, Decision::Accept);
}

#[test]
fn tiers_follow_the_namespace_labels() {
    let (outcome, _) = admit(&statefulset("lab", json!({})), tier_cluster(), &tiers());
    let Decision::Mutate(object) = outcome.decision else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        annotations_of(&object)["stash.appscode.com/backup-blueprint"],
        "bronze-daily"
    );
}

#[test]
fn a_deployment_with_a_pvc_volume_is_defaulted() {
    let mut object = deployment(json!({}));
    object["metadata"]["namespace"] = json!("lab");
    object["spec"]["template"]["spec"]["volumes"] =
        json!([{"name": "data", "persistentVolumeClaim": {"claimName": "web-data"}}]);
    let (outcome, _) = admit(&object, tier_cluster(), &tiers());
    let Decision::Mutate(object) = outcome.decision else {
        panic!("{outcome:?}")
    };
    let annotations = annotations_of(&object);
    assert_eq!(annotations["stash.appscode.com/volume-mounts"], "data:/data");
    assert_eq!(annotations["stash.appscode.com/target-paths"], "/data");
}

#[test]
fn a_deployment_with_only_empty_dir_is_not_defaulted() {
    let mut object = deployment(json!({}));
    object["metadata"]["namespace"] = json!("lab");
    let (outcome, calls) = admit(&object, tier_cluster(), &tiers());
    assert_eq!(outcome.decision, Decision::Accept);
    assert_eq!(calls, ["Namespace lab"]);
    let mut required = tiers();
    required.require_backup = settings(json!({"requireBackup": {"kinds": ["Deployment"]}})).require_backup;
    let (outcome, _) = admit(&object, tier_cluster(), &required);
    assert_eq!(
        message_of(&outcome),
        "Deployment lab/web: a backup is required:\n\
         - requireBackup applies to a Deployment in namespace 'lab': add the annotations stash.appscode.com/backup-blueprint, \
         stash.appscode.com/target-paths and stash.appscode.com/volume-mounts for the data to back up; none could be inferred: \
         defaultBlueprints[1] would give it BackupBlueprint 'bronze-daily', but it has no persistent storage to back up: \
         no persistentVolumeClaim volume is mounted by a container (at a path stash.appscode.com/volume-mounts can name)"
    );
}

#[test]
fn an_opted_out_target_is_not_defaulted() {
    let object = statefulset(
        "lab",
        json!({"autobackup.kubewarden.io/skip": "true", "autobackup.kubewarden.io/skip-reason": "cache"}),
    );
    let (outcome, calls) = admit(&object, tier_cluster(), &tiers());
    assert_eq!(outcome.decision, Decision::Accept);
    assert!(calls.is_empty());
}

#[test]
fn a_default_must_pass_blueprint_access_and_says_where_it_came_from() {
    let mut rules = tiers();
    rules.blueprint_access =
        settings(json!({"blueprintAccess": [{"blueprints": ["gold-*"], "namespaces": ["shop"]}]})).blueprint_access;
    let (outcome, _) = admit(&statefulset("lab", json!({})), tier_cluster(), &rules);
    assert_eq!(
        message_of(&outcome),
        "StatefulSet lab/db: auto-backup annotations are invalid:\n\
         - BackupBlueprint 'bronze-daily' may not be used in namespace 'lab': no blueprintAccess rule lists it; \
         use a blueprint allowed here or ask the cluster administrator to add a rule\n\
         - the backup annotations were added by defaultBlueprints[1] (BackupBlueprint 'bronze-daily'); fix what is listed, \
         set the annotations yourself, or ask the cluster administrator"
    );
}

#[test]
fn an_annotated_target_keeps_its_own_blueprint() {
    let object = deployment(good_annotations());
    let mut objects = tier_cluster();
    objects.extend(cluster());
    let (outcome, calls) = admit(&object, objects, &tiers());
    let Decision::Mutate(object) = outcome.decision else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        annotations_of(&object)["stash.appscode.com/backup-blueprint"],
        "gcs-daily"
    );
    assert!(!calls.iter().any(|c| c.starts_with("Namespace")), "{calls:?}");
}

#[test]
fn an_empty_namespace_selector_defaults_every_namespace_without_a_label_lookup() {
    let rules = settings(json!({"defaultBlueprints": [
        {"kinds": ["StatefulSet"], "blueprint": "bronze-daily", "namespaceSelector": {}},
    ]}));
    let (outcome, calls) = admit(&statefulset("lab", json!({})), tier_cluster(), &rules);
    let Decision::Mutate(object) = outcome.decision else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        annotations_of(&object)["stash.appscode.com/backup-blueprint"],
        "bronze-daily"
    );
    assert!(!calls.iter().any(|call| call.starts_with("Namespace")), "{calls:?}");
}
