//! `annotations::parse` and `annotations::trigger` on arbitrary annotation maps, and KubeStash's
//! `kubestash::parse` and `generation::trigger`.
//!
//! Input: one flag byte (bit 0: the target is a workload), then `key=value` lines (see
//! `common::key_value_lines`). Checks: no panic; a blueprint list is empty whenever a
//! problem concerns it and never longer than 16; KubeStash's session names at most 32 and
//! distinct, its variables at most 100, each an envsubst name with a value of at most 1,024
//! characters and no `"`, `\` or control character (what KubeStash would paste into JSON);
//! both generations' triggers make `Both`; parsing twice gives the same result.
#![no_main]

mod common;

use backup_blueprint_policy::report::Subject;
use backup_blueprint_policy::target::annotations::{self, BACKUP_BLUEPRINT, MAX_BLUEPRINTS, MAX_ENTRIES};
use backup_blueprint_policy::target::generation::{self, Trigger};
use backup_blueprint_policy::target::kubestash::{self, MAX_SESSION_NAMES, MAX_VALUE_CHARS, MAX_VARIABLES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let is_workload = flags & 1 == 1;
    let map = common::key_value_lines(&String::from_utf8_lossy(rest));
    let trigger = annotations::trigger(&map, is_workload);
    if !is_workload {
        assert!(!matches!(trigger, Trigger::Incomplete { .. }));
    }
    let (parsed, problems) = annotations::parse(&map, is_workload);
    assert!(
        parsed.blueprints.len() <= MAX_BLUEPRINTS,
        "{} blueprints",
        parsed.blueprints.len()
    );
    assert!(parsed.target_paths.len() <= MAX_ENTRIES);
    assert!(parsed.volume_mounts.len() <= MAX_ENTRIES);
    let mut seen = std::collections::BTreeSet::new();
    for name in &parsed.blueprints {
        assert!(!name.is_empty() && name.len() <= 253, "blueprint name {name:?}");
        assert!(seen.insert(name), "blueprint {name:?} listed twice");
    }
    let blueprint_problem = problems
        .iter()
        .any(|p| p.subject == Subject::Annotation(BACKUP_BLUEPRINT.to_string()));
    if blueprint_problem {
        assert!(
            parsed.blueprints.is_empty(),
            "a blueprint list with a problem was used: {problems:?}"
        );
    }
    for problem in &problems {
        let text = problem.to_string();
        assert!(
            text.len() <= common::MAX_MESSAGE_BYTES,
            "a problem of {} bytes",
            text.len()
        );
    }
    assert_eq!(annotations::parse(&map, is_workload), (parsed, problems));

    let (kubestash, problems) = kubestash::parse(&map);
    if let Some(names) = &kubestash.session_names {
        assert!(names.len() <= MAX_SESSION_NAMES, "{} session names", names.len());
        let distinct: std::collections::BTreeSet<&String> = names.iter().collect();
        assert_eq!(distinct.len(), names.len(), "a session name listed twice: {names:?}");
    }
    assert!(kubestash.variables.len() <= MAX_VARIABLES);
    for (name, value) in kubestash.variables.iter() {
        assert!(kubestash::is_identifier(name), "variable {name:?}");
        assert!(value.chars().count() <= MAX_VALUE_CHARS);
        assert!(
            !value.chars().any(|c| c == '"' || c == '\\' || c.is_control()),
            "a value KubeStash would paste into JSON: {value:?}"
        );
    }
    for problem in &problems {
        assert!(problem.to_string().len() <= common::MAX_MESSAGE_BYTES);
    }
    assert_eq!(kubestash::parse(&map), (kubestash, problems));
    let both = generation::trigger(&map, is_workload);
    let stash = matches!(trigger, Trigger::Present(_) | Trigger::Incomplete { .. });
    let kubestash_keys = map.contains_key(common::KEYS[10]) || map.contains_key(common::KEYS[11]);
    if stash && kubestash_keys {
        assert_eq!(both, Trigger::Both);
    }
});
