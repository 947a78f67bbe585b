//! The hostile catalogue through policy.wasm (issue 9): every case gets a decision (never a
//! trap or an engine error), messages of at most 4 KiB with no raw control or bidirectional
//! character, at most the host-call budget, and at most 64 MiB of guest memory.
//! Time is measured by `make bench` (benches/hostile.rs), never asserted here.

#[path = "hostile/catalogue.rs"]
mod catalogue;
mod common;

use catalogue::{Case, catalogue};
use common::runner;

/// Each case's problems, printed as the case runs.
fn failures(cases: &[Case]) -> Vec<String> {
    cases
        .iter()
        .filter_map(|case: &Case| {
            let observed = case.run(runner());
            let problems = observed.problems(case);
            // Shown when the test fails (or with --nocapture).
            println!(
                "{:<55} {:?} {} lookups {} KiB {}",
                case.name,
                observed.decision,
                observed.lookups.len(),
                observed.guest_memory >> 10,
                observed
                    .message
                    .as_deref()
                    .unwrap_or("")
                    .chars()
                    .take(150)
                    .collect::<String>()
                    .replace('\n', " | ")
            );
            (!problems.is_empty()).then(|| format!("{}:\n  {}", case.name, problems.join("\n  ")))
        })
        .collect()
}

#[test]
fn the_catalogue_has_at_least_fifty_distinct_cases() {
    let cases = catalogue();
    let mut names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names are unique");
    assert!(cases.len() >= 50, "{} cases", cases.len());
}

/// Fails listing every case of `cases` not answered within the bounds.
fn assert_within_bounds(cases: &[Case]) {
    let failures = failures(cases);
    assert!(
        failures.is_empty(),
        "{} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_hostile_case_is_answered_within_bounds() {
    assert_within_bounds(&catalogue());
}

/// A KubeStash target whose backends name BackupStorages and RetentionPolicies with usage
/// policies of 1.4 MB each (each under etcd's 1.5 MiB): no answer over 64 KiB is read, so the
/// guest stays far below 64 MiB whatever the number of backends (it took 14 MiB per object).
#[test]
fn kubestash_storage_objects_at_the_size_limit() {
    assert_within_bounds(&catalogue::storage_objects_at_the_limit());
}

#[test]
fn the_bounds_are_checked() {
    // The checks themselves can fail: a lookup made twice, too many Namespaces, a raw RLO.
    use backup_blueprint_policy_e2e::callback_request::CallbackRequest;
    let namespace = |name: &str| CallbackRequest::KubernetesGetResource {
        api_version: "v1".into(),
        kind: "Namespace".into(),
        name: name.into(),
        namespace: None,
        disable_cache: false,
        field_masks: None,
    };
    let problems = catalogue::budget_problems(&[namespace("a"), namespace("a"), namespace("b")], 2);
    assert_eq!(
        problems,
        [
            "looked up twice: Namespace None/a",
            "3 Namespace lookups",
            "3 lookups, at most 2 expected"
        ]
    );
    // KubeStash's budget: two Namespaces, one blueprint, no Stash kind.
    let lookup = |api_version: &str, kind: &str, name: &str| CallbackRequest::KubernetesGetResource {
        api_version: api_version.into(),
        kind: kind.into(),
        name: name.into(),
        namespace: Some("backup".into()),
        disable_cache: false,
        field_masks: None,
    };
    let kubestash = [
        namespace("a"),
        namespace("b"),
        lookup("core.kubestash.com/v1alpha1", "BackupBlueprint", "x"),
        lookup("storage.kubestash.com/v1alpha1", "BackupStorage", "s"),
        lookup("storage.kubestash.com/v1alpha1", "RetentionPolicy", "r"),
        lookup("storage.kubestash.com/v1alpha1", "Repository", "r"),
        lookup("core.kubestash.com/v1alpha1", "BackupConfiguration", "c"),
    ];
    assert_eq!(catalogue::budget_problems(&kubestash, 7), Vec::<String>::new());
    let mut over = kubestash.to_vec();
    over.extend([
        namespace("c"),
        lookup("core.kubestash.com/v1alpha1", "BackupBlueprint", "y"),
        lookup("v1", "Secret", "s"),
    ]);
    assert_eq!(
        catalogue::budget_problems(&over, 7),
        [
            "a lookup of a v1 Secret for a KubeStash target",
            "3 Namespace lookups, at most 2 for KubeStash",
            "2 BackupBlueprint lookups, at most 1 for KubeStash",
            "a lookup of a Secret",
            "10 lookups, at most 7 expected"
        ]
    );
    let storages: Vec<CallbackRequest> = (0..9)
        .map(|i| lookup("storage.kubestash.com/v1alpha1", "BackupStorage", &format!("s{i}")))
        .collect();
    assert_eq!(
        catalogue::budget_problems(&storages, 9),
        ["9 BackupStorage lookups, at most 8 for KubeStash"]
    );
    assert!(catalogue::is_unsafe_in_message('\u{202e}') && catalogue::is_unsafe_in_message('\u{0}'));
    assert!(catalogue::is_unsafe_in_message('\u{200f}') && catalogue::is_unsafe_in_message('\u{2028}'));
    assert!(!catalogue::is_unsafe_in_message('\n') && !catalogue::is_unsafe_in_message('é'));
}
