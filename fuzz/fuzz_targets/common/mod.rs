//! What the fuzz targets share: the line formats of their inputs and the invariants of the host-call budget.
#![allow(dead_code)]

use std::collections::BTreeSet;

use backup_blueprint_policy::admission::validation_response;
use backup_blueprint_policy::evaluation::policy::{Decision, Outcome};
use backup_blueprint_policy::support::json_text;
use backup_blueprint_policy::support::string_map::StringMap;

/// The longest rejection message the policy may give (issue 9: at most 4 KiB).
pub const MAX_MESSAGE_BYTES: usize = 4096;
/// The host-call budget: at most 16 distinct blueprints are looked up.
pub const MAX_BLUEPRINTS: usize = 16;

/// The annotation keys the policy reads; a key written as a single digit `d` in a fuzz input
/// stands for `KEYS[d]`, so that the fuzzer finds them without guessing 35 bytes. The KubeStash
/// keys after the tenth are written `k0` … `k4` (see `expand_key`), and reached by the
/// `evaluate` target's structured input (an index modulo their number) and its dictionary.
pub const KEYS: [&str; 15] = [
    "stash.appscode.com/backup-blueprint",
    "stash.appscode.com/target-paths",
    "stash.appscode.com/volume-mounts",
    "stash.appscode.com/schedule",
    "params.stash.appscode.com/",
    "vars.autobackup.kubewarden.io/",
    "autobackup.kubewarden.io/resolved",
    "autobackup.kubewarden.io/skip",
    "autobackup.kubewarden.io/skip-reason",
    "autobackup.kubewarden.io/skip-until",
    "blueprint.kubestash.com/name",
    "blueprint.kubestash.com/namespace",
    "blueprint.kubestash.com/session-names",
    "variables.kubestash.com/",
    "blueprint.kubestash.com/sessions",
];

include!("../../../tests/support/kubestash_budget.rs");

/// `key=value` lines (a value runs to the end of its line); a key of one digit `d` stands for
/// `KEYS[d]`, and a key starting with `d` and more text for `KEYS[d]` followed by that text
/// (`4args` is `params.stash.appscode.com/args`); `k` and a digit `d` stand for KubeStash's
/// `KEYS[10 + d % 5]` (`k3paths` is `variables.kubestash.com/paths`).
pub fn key_value_lines(text: &str) -> StringMap {
    let mut map = StringMap::new();
    for line in text.split('\n') {
        let (key, value) = line.split_once('=').unwrap_or((line, ""));
        map.insert(expand_key(key), value.to_string());
    }
    map
}

pub fn expand_key(key: &str) -> String {
    let mut chars = key.chars();
    match chars.next() {
        // `k0` … `k4`: KubeStash's keys (`k3namespace` is `variables.kubestash.com/namespace`).
        Some('k') => match chars.next().and_then(|c| c.to_digit(10)) {
            Some(d) => format!("{}{}", KEYS[10 + d as usize % 5], chars.as_str()),
            None => key.to_string(),
        },
        Some(c) => match c.to_digit(10) {
            Some(d) => format!("{}{}", KEYS[d as usize], chars.as_str()),
            None => key.to_string(),
        },
        None => key.to_string(),
    }
}

/// The invariants of every evaluation: a bounded message, the host-call budget, no
/// lookup made twice, and an answer written as serde_json writes it.
pub fn check_outcome(outcome: &Outcome, calls: &[String]) {
    check_answer(outcome);
    if let Decision::Reject(message) = &outcome.decision {
        assert!(
            message.len() <= MAX_MESSAGE_BYTES,
            "a rejection of {} bytes (at most {MAX_MESSAGE_BYTES}): {}…",
            message.len(),
            message.chars().take(600).collect::<String>()
        );
    }
    for warning in &outcome.warnings {
        assert!(
            warning.len() <= MAX_MESSAGE_BYTES,
            "a warning of {} bytes",
            warning.len()
        );
    }
    check_calls(calls);
}

/// The policy's own JSON writer writes what serde_json writes: the mutated object, and an answer
/// that reads back as the decision.
fn check_answer(outcome: &Outcome) {
    if let Decision::Mutate(object) = &outcome.decision {
        assert_eq!(json_text::of(object), serde_json::to_string(object).unwrap());
    }
    let answer = validation_response::json(&outcome.decision, &outcome.warnings);
    let answer: serde_json::Value = serde_json::from_slice(&answer).expect("the answer is JSON");
    let message = match &outcome.decision {
        Decision::Reject(message) => Some(message.as_str()),
        _ => None,
    };
    assert_eq!(answer["message"].as_str(), message);
}

/// Whether the calls are a KubeStash target's: a namespaced BackupBlueprint (Stash's are
/// cluster-scoped: `BackupBlueprint name`), a BackupStorage or a RetentionPolicy.
pub fn is_kubestash(calls: &[String]) -> bool {
    calls.iter().any(|call| {
        call.starts_with("BackupStorage ")
            || call.starts_with("RetentionPolicy ")
            || call
                .strip_prefix("BackupBlueprint ")
                .is_some_and(|rest| rest.contains('/'))
    })
}

/// The host-call budget of the target's generation, and no lookup made twice.
pub fn check_calls(calls: &[String]) {
    let distinct: BTreeSet<&String> = calls.iter().collect();
    assert_eq!(distinct.len(), calls.len(), "a lookup was made twice: {calls:?}");
    let count = |kind: &str| calls.iter().filter(|c| c.starts_with(&format!("{kind} "))).count();
    if is_kubestash(calls) {
        let mut known = 0;
        for (kind, most) in KUBESTASH_BUDGET {
            assert!(
                count(kind) <= most,
                "{} {kind} lookups for KubeStash: {calls:?}",
                count(kind)
            );
            known += count(kind);
        }
        assert_eq!(known, calls.len(), "a lookup of another kind for KubeStash: {calls:?}");
        return;
    }
    let namespaces = count("Namespace");
    let blueprints = count("BackupBlueprint");
    let secrets = count("Secret");
    let collisions = count("Repository") + count("BackupConfiguration");
    assert!(namespaces <= 1, "{namespaces} Namespace lookups: {calls:?}");
    assert!(
        blueprints <= MAX_BLUEPRINTS,
        "{blueprints} BackupBlueprint lookups: {calls:?}"
    );
    assert!(secrets <= MAX_BLUEPRINTS, "{secrets} Secret lookups: {calls:?}");
    assert!(
        collisions <= 2 * MAX_BLUEPRINTS,
        "{collisions} collision lookups: {calls:?}"
    );
    assert_eq!(
        namespaces + blueprints + secrets + collisions,
        calls.len(),
        "a lookup of another kind: {calls:?}"
    );
    assert!(
        calls.len() <= 1 + MAX_BLUEPRINTS * 4,
        "{} lookups: {calls:?}",
        calls.len()
    );
}
