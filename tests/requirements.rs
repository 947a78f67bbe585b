//! `requireBackup` over the core: unprotected targets are rejected with how to
//! comply, opt-outs with a reason are honoured, and objects the rule does not name cost nothing.

mod common;

use backup_blueprint_policy::evaluation::policy::Decision;
use backup_blueprint_policy::lookups::MemoryCluster;
use backup_blueprint_policy::settings::Settings;
use common::*;
use serde_json::{Value, json};

fn required(allow_opt_out: bool) -> Settings {
    settings(
        json!({"requireBackup": {"kinds": ["StatefulSet", "PersistentVolumeClaim"], "namespaces": ["prod-*"], "allowOptOut": allow_opt_out}}),
    )
}

fn opt_out(reason: &str, until: Option<&str>) -> Value {
    let mut annotations =
        json!({"autobackup.kubewarden.io/skip": "true", "autobackup.kubewarden.io/skip-reason": reason});
    if let Some(until) = until {
        annotations["autobackup.kubewarden.io/skip-until"] = json!(until);
    }
    annotations
}

/// With rules that name no blueprint, either generation's trigger is shown; with rules that
/// name Stash blueprints (`COMPLY_STASH`), Stash's.
const COMPLY: &str = "- requireBackup applies to a StatefulSet in namespace 'prod-eu': add the annotations \
     stash.appscode.com/backup-blueprint: <blueprint>, stash.appscode.com/target-paths: /var/lib/postgresql,/var/log/postgresql, \
     stash.appscode.com/volume-mounts: data:/var/lib/postgresql:pgdata,logs:/var/log/postgresql (inferred from its persistent volumes) \
     (Stash), or the annotations blueprint.kubestash.com/name: <blueprint> and blueprint.kubestash.com/namespace: <its namespace> \
     (KubeStash)";
const COMPLY_STASH: &str = "- requireBackup applies to a StatefulSet in namespace 'prod-eu': add the annotations \
     stash.appscode.com/backup-blueprint: <blueprint>, stash.appscode.com/target-paths: /var/lib/postgresql,/var/log/postgresql, \
     stash.appscode.com/volume-mounts: data:/var/lib/postgresql:pgdata,logs:/var/log/postgresql (inferred from its persistent volumes)";
const OPT_OUT_HOW: &str = "- or opt out: autobackup.kubewarden.io/skip: \"true\" with autobackup.kubewarden.io/skip-reason: \
     <why it needs no backup> (and optionally autobackup.kubewarden.io/skip-until: YYYY-MM-DD)";

fn rejection_lines(lines: &[&str]) -> String {
    format!("StatefulSet prod-eu/db: a backup is required:\n{}", lines.join("\n"))
}

#[test]
fn an_unprotected_statefulset_is_told_how_to_comply() {
    let (outcome, calls) = admit(&statefulset("prod-eu", json!({})), vec![], &required(true));
    assert_eq!(message_of(&outcome), rejection_lines(&[COMPLY, OPT_OUT_HOW]));
    assert!(calls.is_empty(), "namespaces by name: no lookup ({calls:?})");
}

#[test]
fn the_blueprints_the_namespace_may_use_are_listed() {
    let mut rules = required(false);
    rules.blueprint_access = settings(json!({"blueprintAccess": [
        {"blueprints": ["prod-*"], "namespaces": ["prod-*"]},
        {"blueprints": ["shared"], "namespaceSelector": {"matchLabels": {"shared": "yes"}}},
        {"blueprints": ["team-b"], "namespaces": ["team-b"]},
    ]}))
    .blueprint_access;
    let cluster = vec![namespace("prod-eu", json!({"shared": "yes"}))];
    let (outcome, calls) = admit(&statefulset("prod-eu", json!({})), cluster, &rules);
    assert_eq!(
        message_of(&outcome),
        rejection_lines(&[
            COMPLY_STASH,
            "- blueprints namespace 'prod-eu' may use (blueprintAccess): prod-*, shared"
        ])
    );
    assert_eq!(calls, ["Namespace prod-eu"]);
}

#[test]
fn a_valid_opt_out_is_accepted() {
    let object = statefulset("prod-eu", opt_out("scratch data, rebuilt nightly", Some("2027-06-30")));
    let (outcome, _) = admit(&object, vec![], &required(true));
    assert_eq!(outcome.decision, Decision::Accept);
    assert!(outcome.warnings.is_empty());
}

#[test]
fn an_opt_out_ending_within_14_days_warns() {
    let object = statefulset("prod-eu", opt_out("migration", Some("2027-01-20")));
    let (outcome, _) = admit(&object, vec![], &required(true));
    assert_eq!(outcome.decision, Decision::Accept);
    assert_eq!(
        outcome.warnings,
        [
            "autobackup.kubewarden.io/skip-until: the opt-out of StatefulSet prod-eu/db ends on 2027-01-20 (in 5 days); \
          configure a backup before then or extend it"
        ]
    );
}

#[test]
fn an_expired_opt_out_no_longer_counts() {
    let object = statefulset("prod-eu", opt_out("migration", Some("2027-01-14")));
    let (outcome, _) = admit(&object, vec![], &required(true));
    assert_eq!(
        message_of(&outcome),
        rejection_lines(&[
            "- autobackup.kubewarden.io/skip-until: the opt-out ended on 2027-01-14, so it no longer counts; \
             configure a backup or extend the opt-out",
            COMPLY,
            OPT_OUT_HOW
        ])
    );
}

#[test]
fn an_opt_out_needs_a_reason() {
    let object = statefulset("prod-eu", json!({"autobackup.kubewarden.io/skip": "true"}));
    let (outcome, _) = admit(&object, vec![], &required(true));
    assert_eq!(
        message_of(&outcome),
        rejection_lines(&[
            "- autobackup.kubewarden.io/skip-reason: is required with autobackup.kubewarden.io/skip: \"true\"; \
             say why this object needs no backup",
            COMPLY,
            OPT_OUT_HOW
        ])
    );
}

#[test]
fn an_opt_out_where_none_is_allowed() {
    let object = statefulset("prod-eu", opt_out("scratch", None));
    let (outcome, _) = admit(&object, vec![], &required(false));
    assert_eq!(
        message_of(&outcome),
        rejection_lines(&[
            "- autobackup.kubewarden.io/skip: opting out is not allowed here (requireBackup.allowOptOut is false)",
            COMPLY
        ])
    );
}

#[test]
fn a_protected_target_passes() {
    let annotations = json!({
        "stash.appscode.com/backup-blueprint": "gcs-daily",
        "stash.appscode.com/target-paths": "/var/lib/postgresql",
        "stash.appscode.com/volume-mounts": "data:/var/lib/postgresql",
    });
    let mut objects = cluster();
    objects.push(secret("prod-eu", "gcs-secret"));
    let (outcome, _) = admit(&statefulset("prod-eu", annotations), objects, &required(true));
    assert!(matches!(outcome.decision, Decision::Mutate(_)), "{outcome:?}");
}

#[test]
fn outside_its_kinds_and_namespaces_nothing_is_required_or_looked_up() {
    let rules = settings(
        json!({"requireBackup": {"kinds": ["StatefulSet"], "namespaceSelector": {"matchLabels": {"env": "prod"}}}}),
    );
    let (outcome, calls) = admit(&deployment(json!({})), vec![], &rules);
    assert_eq!(outcome.decision, Decision::Accept);
    assert!(calls.is_empty(), "a kind no rule names makes no host call: {calls:?}");
    let cluster = vec![namespace("dev", json!({"env": "dev"}))];
    let (outcome, calls) = admit(&statefulset("dev", json!({})), cluster, &rules);
    assert_eq!(outcome.decision, Decision::Accept);
    assert_eq!(calls, ["Namespace dev"], "the selector needs the labels, once");
}

#[test]
fn a_workload_without_persistent_storage_is_told_why_nothing_was_inferred() {
    let rules = settings(json!({"requireBackup": {"kinds": ["Deployment"]}}));
    let (outcome, _) = admit(&deployment(json!({})), vec![], &rules);
    assert_eq!(
        message_of(&outcome),
        "Deployment demo/web: a backup is required:\n\
         - requireBackup applies to a Deployment in namespace 'demo': add the annotations stash.appscode.com/backup-blueprint, \
         stash.appscode.com/target-paths and stash.appscode.com/volume-mounts for the data to back up; none could be inferred: \
         it has no persistent storage to back up: no persistentVolumeClaim volume is mounted by a container \
         (at a path stash.appscode.com/volume-mounts can name)"
    );
}

#[test]
fn a_pvc_needs_only_the_blueprint() {
    let pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": "prod-eu"}});
    let (outcome, _) = admit(&pvc, vec![], &required(false));
    assert_eq!(
        message_of(&outcome),
        "PersistentVolumeClaim prod-eu/data: a backup is required:\n\
         - requireBackup applies to a PersistentVolumeClaim in namespace 'prod-eu': add the annotation \
         stash.appscode.com/backup-blueprint: <blueprint> (Stash), or the annotations blueprint.kubestash.com/name: \
         <blueprint> and blueprint.kubestash.com/namespace: <its namespace> (KubeStash)"
    );
}

#[test]
fn skipped_objects_are_never_reported() {
    let rules = settings(json!({"requireBackup": {"kinds": ["ReplicaSet", "StatefulSet", "AppBinding"]}}));
    let replicaset = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "web-1", "namespace": "demo", "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}]}});
    let mut deleting = statefulset("demo", json!({}));
    deleting["metadata"]["deletionTimestamp"] = json!("2027-01-15T00:00:00Z");
    let kubedb_binding = json!({"apiVersion": "appcatalog.appscode.com/v1alpha1", "kind": "AppBinding",
        "metadata": {"name": "pg", "namespace": "demo", "ownerReferences": [{"apiVersion": "kubedb.com/v1", "kind": "Postgres", "name": "pg"}]},
        "spec": {"type": "kubedb.com/postgres"}});
    for object in [replicaset, deleting, kubedb_binding] {
        let (outcome, calls) = admit_with(&object, "CREATE", MemoryCluster::default(), &rules);
        assert_eq!(outcome.decision, Decision::Accept, "{object}");
        assert!(calls.is_empty());
    }
}

#[test]
fn a_namespace_no_rule_allows_is_told_so() {
    let mut rules = required(false);
    rules.blueprint_access =
        settings(json!({"blueprintAccess": [{"blueprints": ["team-b-*"], "namespaces": ["team-b"]}]})).blueprint_access;
    let (outcome, calls) = admit(&statefulset("prod-eu", json!({})), vec![], &rules);
    assert_eq!(
        message_of(&outcome),
        rejection_lines(&[
            COMPLY_STASH,
            "- no blueprint may be used in namespace 'prod-eu' (blueprintAccess); ask the cluster administrator"
        ])
    );
    assert!(calls.is_empty(), "no selector to evaluate: {calls:?}");
}

#[test]
fn an_empty_namespace_selector_requires_a_backup_everywhere_without_a_lookup() {
    let rules = settings(json!({"requireBackup": {"kinds": ["StatefulSet"], "namespaceSelector": {}}}));
    let (outcome, calls) = admit(&statefulset("prod-eu", json!({})), vec![], &rules);
    assert!(
        message_of(&outcome).starts_with("StatefulSet prod-eu/db: a backup is required:"),
        "{outcome:?}"
    );
    assert!(calls.is_empty(), "{{}} needs no labels: {calls:?}");
}
