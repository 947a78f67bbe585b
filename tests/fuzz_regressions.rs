//! Inputs the fuzz targets (`fuzz/`, `make fuzz`) showed to break an invariant, kept as tests.
//!
//! The invariant of all four: no message the policy gives is longer than 4 KiB (issue 9),
//! whatever the size of the input it quotes.

mod common;

use backup_blueprint_policy::evaluation::policy::Decision;
use backup_blueprint_policy::lookups::MemoryCluster;
use backup_blueprint_policy::settings::{self, Settings};
use common::admit;
use serde_json::{Map, Value, json};

const MAX_MESSAGE_BYTES: usize = 4096;

fn rejection(object: &Value) -> String {
    match admit(object, Vec::new(), &Settings::default()).0.decision {
        Decision::Reject(message) => message,
        other => panic!("not rejected: {other:?}"),
    }
}

/// 45 custom variables with 200-character invalid names: every problem line quotes its whole
/// annotation key, 40 lines made a rejection of 23 KB.
#[test]
fn many_problems_with_long_keys_fit_in_4_kib() {
    let mut annotations = Map::new();
    annotations.insert("stash.appscode.com/backup-blueprint".into(), json!("gcs-daily"));
    for i in 0..45 {
        annotations.insert(
            format!("vars.autobackup.kubewarden.io/{}{i}", "x".repeat(200)),
            json!("v"),
        );
    }
    let object = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "p", "namespace": "demo", "annotations": annotations}, "spec": {}});
    let message = rejection(&object);
    assert!(message.len() <= MAX_MESSAGE_BYTES, "{} bytes", message.len());
    assert!(message.starts_with("PersistentVolumeClaim demo/p: auto-backup annotations are invalid:\n- "));
    assert!(message.ends_with(" more problems"), "{message}");
}

/// A value of the wrong type is quoted whole by serde: `annotations` given as a 10,000-character
/// string made a 10 KB "could not be read" rejection.
#[test]
fn unreadable_metadata_fits_in_4_kib() {
    let object = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "demo", "annotations": "a".repeat(10_000)}});
    let message = rejection(&object);
    assert!(message.len() <= MAX_MESSAGE_BYTES, "{} bytes", message.len());
    assert!(
        message
            == "the object's metadata could not be read: metadata.annotations: expected a map of strings, got a string",
        "{message}"
    );
}

/// 100 blueprintAccess rules each with an invalid glob: the settings message joined all 100
/// problems (27 KB).
#[test]
fn many_settings_problems_fit_in_4_kib() {
    let rules: Vec<Value> = (0..100)
        .map(|_| json!({"blueprints": ["x".repeat(300)], "namespaces": [format!("[{}", "y".repeat(300))]}))
        .collect();
    let payload = json!({"blueprintAccess": rules}).to_string();
    let message = settings::parse(payload.as_bytes()).expect_err("invalid settings");
    assert!(message.len() <= MAX_MESSAGE_BYTES, "{} bytes", message.len());
    assert!(message.starts_with("blueprintAccess[0].namespaces[0]: "), "{message}");
    assert!(message.ends_with(" more problems"), "{message}");
}

/// A 6,000-character unknown setting name made a 6 KB message when serde quoted it whole; the
/// name is cut now.
#[test]
fn unknown_long_setting_fits_in_4_kib() {
    let payload = json!({"x".repeat(6000): 1}).to_string();
    let message = settings::parse(payload.as_bytes()).expect_err("invalid settings");
    assert!(message.len() <= MAX_MESSAGE_BYTES, "{} bytes", message.len());
    assert!(message.starts_with("xxx"), "{message}");
    assert!(
        message.contains("…: unknown field; expected emitResolvedObjects,"),
        "{message}"
    );
}

/// A case of the `evaluate` target as its JSON bundle (`FUZZ_DUMP=1` prints it): the outcome.
fn evaluate_bundle(path: &str) -> backup_blueprint_policy::evaluation::policy::Outcome {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let bundle: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let object: Value = serde_json::from_str(bundle["object"].as_str().unwrap()).unwrap();
    let settings = settings::parse(bundle["settings"].to_string().as_bytes()).unwrap();
    let cluster = bundle["cluster"].as_array().unwrap().clone();
    let operation = bundle["operation"].as_str().unwrap();
    common::admit_with(&object, operation, MemoryCluster::new(cluster), &settings).0
}

/// Found by `make fuzz` (evaluate, after 1.1 million runs): a ReplicaSet whose 21 annotation
/// problems (a blueprint list of JSON text, opt-out and params keys with suffixes…) made a
/// rejection of 4157 bytes.
#[test]
fn evaluate_crash_976e5c53_rejects_in_4_kib() {
    match evaluate_bundle("tests/fuzz/evaluate-crash-976e5c53.json").decision {
        Decision::Reject(message) => {
            assert!(message.len() <= MAX_MESSAGE_BYTES, "{} bytes", message.len());
            assert!(message.starts_with("ReplicaSet backup/gold-hourly: auto-backup annotations are invalid:\n"));
        }
        other => panic!("not rejected: {other:?}"),
    }
}

/// `make fuzz` (cron): an `@every` duration of control characters, quoted twice, each quote 80
/// characters before escaping and six times as long after (`\u{17}`): a 1,028-byte message
/// where a cron message stays within 1 KiB. A quote now counts its characters after escaping.
#[test]
fn escaped_quotes_stay_short() {
    let schedule = format!("@every 1\u{206c}{}ay\u{206c}@\u{206c}", "\u{17}".repeat(117));
    let message = backup_blueprint_policy::schedule::cron::parse_schedule(&schedule).unwrap_err();
    assert!(message.len() <= 1024, "{} bytes: {message}", message.len());
    assert!(message.starts_with("@every duration '1\\u{206c}\\u{17}"), "{message}");
}
