//! `guardrails` over the core: the resolved schedule and retention give at least
//! the minimum, whether they come from the blueprint or from the target's annotation.

mod common;

use backup_blueprint_policy::evaluation::policy::Decision;
use backup_blueprint_policy::settings::Settings;
use common::*;
use serde_json::json;

fn minimum() -> Settings {
    settings(json!({"guardrails": {"minimumFrequency": "24h", "minimumRetention": {"keepLast": 5, "keepDaily": 7}}}))
}

#[test]
fn a_weekly_blueprint_with_short_retention_is_rejected() {
    let mut weekly = gcs_blueprint("gcs-daily");
    weekly["spec"]["schedule"] = json!("@weekly");
    let (outcome, _) = admit(
        &deployment(good_annotations()),
        vec![weekly, secret("demo", "gcs-secret")],
        &minimum(),
    );
    assert_eq!(
        message_of(&outcome),
        "Deployment demo/web: auto-backup annotations are invalid:\n\
         - BackupBlueprint 'gcs-daily' spec.retentionPolicy.keepDaily: keeps 0; guardrails.minimumRetention.keepDaily requires at least 7\n\
         - BackupBlueprint 'gcs-daily' spec.schedule: '@weekly' leaves up to 7d between backups; \
         guardrails.minimumFrequency requires a backup at least every 1d: schedule it more often"
    );
}

#[test]
fn the_schedule_annotation_is_held_to_the_same_rule() {
    let mut good = gcs_blueprint("gcs-daily");
    good["spec"]["retentionPolicy"] = json!({"name": "r", "keepLast": 5, "keepDaily": 7, "prune": true});
    let object = with_annotation(
        deployment(good_annotations()),
        "stash.appscode.com/schedule",
        "0 0 1 * *",
    );
    let (outcome, _) = admit(&object, vec![good.clone(), secret("demo", "gcs-secret")], &minimum());
    assert_eq!(
        message_of(&outcome),
        "Deployment demo/web: auto-backup annotations are invalid:\n\
         - stash.appscode.com/schedule: '0 0 1 * *' leaves up to 31d between backups; \
         guardrails.minimumFrequency requires a backup at least every 1d: schedule it more often"
    );
    let hourly = with_annotation(deployment(good_annotations()), "stash.appscode.com/schedule", "@hourly");
    let (outcome, _) = admit(&hourly, vec![good, secret("demo", "gcs-secret")], &minimum());
    assert!(matches!(outcome.decision, Decision::Mutate(_)), "{outcome:?}");
}
