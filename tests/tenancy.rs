//! Blueprint access rules end to end over the core: who may use which
//! blueprint, the exact rejections, and the lookups made.

mod common;

use backup_blueprint_policy::evaluation::policy::Decision;
use common::*;
use serde_json::{Value, json};

/// Two teams, two blueprints, one selector: team-a's namespaces use `team-a-*` blueprints by
/// name; any namespace labelled `backup-tier: shared` may use `shared-gcs`.
fn two_teams() -> backup_blueprint_policy::settings::Settings {
    settings(json!({"blueprintAccess": [
        {"blueprints": ["team-a-*"], "namespaces": ["team-a", "team-a-*"]},
        {"blueprints": ["shared-gcs"], "namespaceSelector": {"matchLabels": {"backup-tier": "shared"}}},
    ]}))
}

fn web_in(namespace: &str, blueprints: &str) -> Value {
    let mut object = with_annotation(
        deployment(good_annotations()),
        "stash.appscode.com/backup-blueprint",
        blueprints,
    );
    object["metadata"]["namespace"] = json!(namespace);
    object
}

fn team_cluster(namespace_labels: Value) -> Vec<Value> {
    vec![
        gcs_blueprint("team-a-daily"),
        gcs_blueprint("shared-gcs"),
        secret("team-a", "gcs-secret"),
        secret("team-b", "gcs-secret"),
        namespace("team-a", json!({})),
        namespace("team-b", namespace_labels),
    ]
}

#[test]
fn a_namespace_allowed_by_name_makes_no_namespace_lookup() {
    let (outcome, calls) = admit(&web_in("team-a", "team-a-daily"), team_cluster(json!({})), &two_teams());
    assert!(matches!(outcome.decision, Decision::Mutate(_)), "{outcome:?}");
    assert_eq!(
        calls,
        [
            "BackupBlueprint team-a-daily",
            "Secret team-a/gcs-secret",
            "Repository team-a/deploy-web",
            "BackupConfiguration team-a/deploy-web"
        ]
    );
}

#[test]
fn a_namespace_allowed_by_its_labels() {
    let cluster = team_cluster(json!({"backup-tier": "shared"}));
    let (outcome, calls) = admit(&web_in("team-b", "shared-gcs"), cluster, &two_teams());
    assert!(matches!(outcome.decision, Decision::Mutate(_)), "{outcome:?}");
    assert_eq!(calls[0], "Namespace team-b");
    assert_eq!(calls.len(), 5);
}

#[test]
fn an_empty_selector_allows_every_namespace_without_a_lookup() {
    let rules = settings(json!({"blueprintAccess": [{"blueprints": ["shared-gcs"], "namespaceSelector": {}}]}));
    let (outcome, calls) = admit(&web_in("team-b", "shared-gcs"), team_cluster(json!({})), &rules);
    assert!(matches!(outcome.decision, Decision::Mutate(_)), "{outcome:?}");
    assert!(!calls.iter().any(|call| call.starts_with("Namespace")), "{calls:?}");
}

#[test]
fn forbidden_by_name() {
    let (outcome, calls) = admit(&web_in("team-b", "team-a-daily"), team_cluster(json!({})), &two_teams());
    assert_eq!(
        outcome.decision,
        Decision::Reject(
            "Deployment team-b/web: auto-backup annotations are invalid:\n\
             - BackupBlueprint 'team-a-daily' may not be used in namespace 'team-b': blueprintAccess allows it only in \
             namespaces team-a, team-a-*; use a blueprint allowed here or ask the cluster administrator"
                .into()
        )
    );
    assert!(calls.is_empty(), "a forbidden blueprint is not looked up: {calls:?}");
}

#[test]
fn forbidden_by_selector() {
    let (outcome, calls) = admit(
        &web_in("team-b", "shared-gcs"),
        team_cluster(json!({"backup-tier": "none"})),
        &two_teams(),
    );
    assert_eq!(
        outcome.decision,
        Decision::Reject(
            "Deployment team-b/web: auto-backup annotations are invalid:\n\
             - BackupBlueprint 'shared-gcs' may not be used in namespace 'team-b': blueprintAccess allows it only in \
             namespaces labelled backup-tier=shared; use a blueprint allowed here or ask the cluster administrator"
                .into()
        )
    );
    assert_eq!(calls, ["Namespace team-b"]);
}

#[test]
fn a_blueprint_no_rule_lists_is_forbidden_everywhere() {
    let (outcome, _) = admit(&web_in("team-a", "gcs-daily"), team_cluster(json!({})), &two_teams());
    assert_eq!(
        outcome.decision,
        Decision::Reject(
            "Deployment team-a/web: auto-backup annotations are invalid:\n\
             - BackupBlueprint 'gcs-daily' may not be used in namespace 'team-a': no blueprintAccess rule lists it; \
             use a blueprint allowed here or ask the cluster administrator to add a rule"
                .into()
        )
    );
}

#[test]
fn several_blueprints_of_which_one_is_forbidden() {
    let cluster = team_cluster(json!({"backup-tier": "shared"}));
    let (outcome, calls) = admit(&web_in("team-b", "shared-gcs,team-a-daily"), cluster, &two_teams());
    let Decision::Reject(message) = outcome.decision else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        message,
        "Deployment team-b/web: auto-backup annotations are invalid:\n\
         - BackupBlueprint 'team-a-daily' may not be used in namespace 'team-b': blueprintAccess allows it only in \
         namespaces team-a, team-a-*; use a blueprint allowed here or ask the cluster administrator"
    );
    assert_eq!(
        calls,
        [
            "Namespace team-b",
            "BackupBlueprint shared-gcs",
            "Secret team-b/gcs-secret"
        ],
        "the Namespace once, the allowed blueprint only, no collision lookup for a rejected target"
    );
}

#[test]
fn a_failed_namespace_lookup_follows_on_lookup_error() {
    let cluster = backup_blueprint_policy::lookups::MemoryCluster::failing("ApiError: forbidden");
    let (outcome, calls) = admit_with(&web_in("team-b", "shared-gcs"), "CREATE", cluster, &two_teams());
    assert_eq!(
        outcome.decision,
        Decision::Reject(
            "Deployment team-b/web: auto-backup annotations are invalid:\n\
             - could not look up Namespace 'team-b': ApiError: forbidden; the policy could not verify the backup, retry \
             later or ask the cluster administrator to check the policy-server's access (see rbac.yaml)"
                .into()
        )
    );
    assert_eq!(calls, ["Namespace team-b"]);
}

#[test]
fn a_kubedb_database_is_checked_in_its_own_namespace() {
    let postgres = json!({
        "apiVersion": "kubedb.com/v1", "kind": "Postgres",
        "metadata": {"name": "pg", "namespace": "team-b", "annotations": {"stash.appscode.com/backup-blueprint": "team-a-daily"}},
        "spec": {"version": "16.1"},
    });
    let (outcome, _) = admit(&postgres, team_cluster(json!({})), &two_teams());
    let Decision::Reject(message) = outcome.decision else {
        panic!("{outcome:?}")
    };
    assert!(message.starts_with(
        "Postgres team-b/pg: auto-backup annotations are invalid:\n- BackupBlueprint 'team-a-daily' may not"
    ));
}
