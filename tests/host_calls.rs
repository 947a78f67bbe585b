//! The host-call budget: an unusable blueprint list is reported before any lookup,
//! nothing past the first 16 valid names is looked up, and no lookup is made twice.

mod common;

use backup_blueprint_policy::evaluation::policy::Decision;
use common::*;
use serde_json::json;

fn with_blueprints(names: &str) -> serde_json::Value {
    with_annotation(
        deployment(good_annotations()),
        "stash.appscode.com/backup-blueprint",
        names,
    )
}

#[test]
fn twenty_thousand_names_are_one_problem_and_no_lookup() {
    let names: Vec<String> = (0..20_000).map(|i| format!("bp-{i}")).collect();
    let (outcome, calls) = admit(&with_blueprints(&names.join(",")), cluster(), &Default::default());
    assert_eq!(
        outcome.decision,
        Decision::Reject(
            "Deployment demo/web: auto-backup annotations are invalid:\n\
             - stash.appscode.com/backup-blueprint: 20000 entries listed; at most 16 are allowed on one object"
                .into()
        )
    );
    assert!(calls.is_empty(), "{} lookups", calls.len());
}

#[test]
fn an_invalid_or_duplicate_name_makes_the_list_unusable() {
    for names in ["gcs-daily,Bad_Name", "gcs-daily,gcs-daily", "gcs-daily,,x"] {
        let (outcome, calls) = admit(&with_blueprints(names), cluster(), &Default::default());
        assert!(matches!(outcome.decision, Decision::Reject(_)), "{names}");
        assert!(calls.is_empty(), "{names}: {calls:?}");
    }
}

#[test]
fn sixteen_blueprints_stay_within_the_budget() {
    let names: Vec<String> = (0..16).map(|i| format!("bp-{i}")).collect();
    let mut objects: Vec<_> = names.iter().map(|n| gcs_blueprint(n)).collect();
    objects.push(secret("demo", "gcs-secret"));
    objects.push(namespace("demo", json!({"tier": "gold"})));
    let access = settings(json!({"blueprintAccess": [
        {"blueprints": ["bp-*"], "namespaceSelector": {"matchLabels": {"tier": "gold"}}}
    ]}));
    let (outcome, calls) = admit(&with_blueprints(&names.join(",")), objects, &access);
    assert!(matches!(outcome.decision, Decision::Mutate(_)), "{outcome:?}");
    // 1 Namespace + per blueprint 1 BackupBlueprint and 2 collision lookups; the one shared
    // Secret once.
    assert_eq!(calls.len(), 1 + 16 + 1 + 32);
    let mut distinct = calls.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), calls.len(), "no lookup twice");
}
