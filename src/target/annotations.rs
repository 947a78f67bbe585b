//! The annotations read on a target and the ones the policy writes.

use crate::report::{AnnotationProblems, Problem, shorten};
use crate::support::string_map::StringMap;
use crate::target::generation::{Generation, Trigger};
use crate::target::naming::{is_dns1123_label, is_dns1123_subdomain};

pub const BACKUP_BLUEPRINT: &str = "stash.appscode.com/backup-blueprint";
pub const TARGET_PATHS: &str = "stash.appscode.com/target-paths";
pub const VOLUME_MOUNTS: &str = "stash.appscode.com/volume-mounts";
pub const SCHEDULE: &str = "stash.appscode.com/schedule";
pub const PARAMS_PREFIX: &str = "params.stash.appscode.com/";
pub const VARS_PREFIX: &str = "vars.autobackup.kubewarden.io/";
/// Written by the policy: the resolved Repository and BackupConfiguration objects.
pub const RESOLVED: &str = "autobackup.kubewarden.io/resolved";
/// Written on a generated object whose target has no uid yet (no ownerReference possible).
pub const OWNER: &str = "autobackup.kubewarden.io/owner";
/// Written on every generated object: `<apiVersion>/<Kind>/<namespace>/<name>` of its target,
/// so that an existing object of the same name is known to be ours or not.
pub const TARGET: &str = "autobackup.kubewarden.io/target";

/// Opt-out of `requireBackup` and `defaultBlueprints`.
pub const SKIP: &str = "autobackup.kubewarden.io/skip";
pub const SKIP_REASON: &str = "autobackup.kubewarden.io/skip-reason";
pub const SKIP_UNTIL: &str = "autobackup.kubewarden.io/skip-until";

/// KubeStash's auto-backup annotations (`target/kubestash.rs` reads them).
pub const KUBESTASH_BLUEPRINT_NAME: &str = "blueprint.kubestash.com/name";
pub const KUBESTASH_BLUEPRINT_NAMESPACE: &str = "blueprint.kubestash.com/namespace";
pub const KUBESTASH_SESSION_NAMES: &str = "blueprint.kubestash.com/session-names";
pub const KUBESTASH_VARIABLES_PREFIX: &str = "variables.kubestash.com/";
/// The session key before KubeStash v2024.4.27 (kubestash/apimachinery#107): a mistake now.
pub const KUBESTASH_OLD_SESSIONS: &str = "blueprint.kubestash.com/sessions";

/// More blueprints than this on one target is an error: it bounds the lookups per request.
pub const MAX_BLUEPRINTS: usize = 16;
/// More target paths or volume mounts, or more `params.*` or `vars.*` annotations, than this
/// is an error: it bounds the checks.
pub const MAX_ENTRIES: usize = 100;

const WORKLOAD_TRIGGER: [&str; 3] = [BACKUP_BLUEPRINT, TARGET_PATHS, VOLUME_MOUNTS];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeMount {
    pub name: String,
    pub mount_path: String,
    pub sub_path: Option<String>,
}

/// What the annotations of a target ask for. Fields that failed to parse are left empty and
/// the failure is reported separately, so one message can list every problem.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackupAnnotations {
    pub blueprints: Vec<String>,
    pub target_paths: Vec<String>,
    pub volume_mounts: Vec<VolumeMount>,
    pub schedule: Option<String>,
    /// `params.stash.appscode.com/<key>` entries, in key order.
    pub params: Vec<(String, String)>,
    /// `vars.autobackup.kubewarden.io/<NAME>` entries.
    pub custom_variables: StringMap,
}

/// Stash's trigger rule alone; [`generation::trigger`](super::generation::trigger) is both generations'.
pub fn trigger(annotations: &StringMap, is_workload: bool) -> Trigger {
    if !is_workload {
        return match annotations.contains_key(BACKUP_BLUEPRINT) {
            true => Trigger::Present(Generation::Stash),
            false => Trigger::Absent,
        };
    }
    let missing: Vec<&'static str> = WORKLOAD_TRIGGER
        .into_iter()
        .filter(|key| !annotations.contains_key(key))
        .collect();
    match missing.len() {
        0 => Trigger::Present(Generation::Stash),
        n if n == WORKLOAD_TRIGGER.len() => Trigger::Absent,
        _ => Trigger::Incomplete {
            generation: Generation::Stash,
            missing,
        },
    }
}

/// The problem line for an incomplete workload trigger.
pub fn incomplete_trigger_problem(missing: &[&str]) -> String {
    let present: Vec<&str> = WORKLOAD_TRIGGER.into_iter().filter(|k| !missing.contains(k)).collect();
    format!(
        "{} {} set but {} {} missing; Stash backs up a workload only when all of {}, {} and {} are set",
        join_and(&present),
        if present.len() == 1 { "is" } else { "are" },
        join_and(missing),
        if missing.len() == 1 { "is" } else { "are" },
        BACKUP_BLUEPRINT,
        TARGET_PATHS,
        VOLUME_MOUNTS
    )
}

fn join_and(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Parses the annotations of a target that has the trigger. Returns what parsed and the
/// problems of what did not. A blueprint list with any problem is left empty: an unusable list
/// is reported before any lookup, and nothing of it is looked up.
pub fn parse(annotations: &StringMap, is_workload: bool) -> (BackupAnnotations, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut parsed = BackupAnnotations {
        schedule: annotations.get(SCHEDULE).map(str::to_string),
        params: prefixed(annotations, PARAMS_PREFIX, &mut problems),
        ..BackupAnnotations::default()
    };
    parsed
        .custom_variables
        .extend(prefixed(annotations, VARS_PREFIX, &mut problems));
    if let Some(value) = annotations.get(BACKUP_BLUEPRINT) {
        parsed.blueprints = parse_list(BACKUP_BLUEPRINT, value, MAX_BLUEPRINTS, &mut problems, parse_blueprints);
    }
    if is_workload {
        if let Some(value) = annotations.get(TARGET_PATHS) {
            parsed.target_paths = parse_list(TARGET_PATHS, value, MAX_ENTRIES, &mut problems, parse_target_paths);
        }
        if let Some(value) = annotations.get(VOLUME_MOUNTS) {
            parsed.volume_mounts = parse_list(VOLUME_MOUNTS, value, MAX_ENTRIES, &mut problems, parse_volume_mounts);
        }
    }
    (parsed, problems)
}

/// Parses the `,`-separated list `value` of annotation `key`. A list of more than `max`
/// entries is one problem and is not parsed at all; a list with any problem yields nothing.
fn parse_list<'a, T>(
    key: &'a str,
    value: &'a str,
    max: usize,
    problems: &mut Vec<Problem>,
    parse: fn(&str, &mut AnnotationProblems<'a>) -> Vec<T>,
) -> Vec<T> {
    let mut found = AnnotationProblems::new(key);
    let count = value.split(',').count();
    let parsed = match count > max {
        true => {
            found.push(|| format!("{count} entries listed; at most {max} are allowed on one object"));
            Vec::new()
        }
        false => parse(value, &mut found),
    };
    let usable = found.is_empty();
    problems.extend(found.into_problems());
    match usable {
        true => parsed,
        false => Vec::new(),
    }
}

fn parse_blueprints(value: &str, problems: &mut AnnotationProblems) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for element in value.split(',') {
        let name = element.trim();
        if name.is_empty() {
            problems.push(|| {
                format!(
                    "empty name in '{}'; separate blueprint names with a single ','",
                    shorten(value)
                )
            });
        } else if !is_dns1123_subdomain(name) {
            problems.push(|| {
                format!(
                    "'{}' is not a valid BackupBlueprint name \
                     (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit)",
                    shorten(name)
                )
            });
        } else if names.iter().any(|n| n == name) {
            problems.push(|| format!("'{name}' is listed twice; list each blueprint once"));
        } else {
            names.push(name.to_string());
        }
    }
    names
}

fn parse_target_paths(value: &str, problems: &mut AnnotationProblems) -> Vec<String> {
    let mut paths = Vec::new();
    for element in value.split(',') {
        match path_problem(element) {
            Some(why) => problems.push(|| format!("{why}; expected absolute paths separated by ','")),
            None => paths.push(element.to_string()),
        }
    }
    paths
}

/// Why `element` is not an acceptable absolute path, if it is not.
fn path_problem(element: &str) -> Option<String> {
    let quoted = || shorten(element);
    if element.is_empty() {
        Some("empty path".to_string())
    } else if element.trim() != element {
        Some(format!("'{}' has surrounding white space", quoted()))
    } else if !element.starts_with('/') {
        Some(format!("'{}' is not an absolute path", quoted()))
    } else if element.contains(':') {
        Some(format!("'{}' contains ':'", quoted()))
    } else {
        None
    }
}

fn parse_volume_mounts(value: &str, problems: &mut AnnotationProblems) -> Vec<VolumeMount> {
    let mut mounts = Vec::new();
    for element in value.split(',') {
        match parse_volume_mount(element) {
            Ok(mount) => mounts.push(mount),
            Err(why) => problems.push(|| why),
        }
    }
    mounts
}

fn parse_volume_mount(element: &str) -> Result<VolumeMount, String> {
    if element.is_empty() {
        return Err("empty entry; expected entries 'volumeName:mountPath[:subPath]' separated by ','".to_string());
    }
    let quoted = shorten(element);
    if element.trim() != element {
        return Err(format!("'{quoted}' has surrounding white space; remove it"));
    }
    let mut parts = element.splitn(4, ':');
    let (name, mount_path, sub_path) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(name), Some(path), sub, None) => (name, path, sub),
        _ => return Err(format!("'{quoted}' is not 'volumeName:mountPath[:subPath]'")),
    };
    if !is_dns1123_label(name) {
        return Err(format!(
            "'{quoted}': '{}' is not a valid volume name \
             (lower-case letters, digits and '-', starting and ending with a letter or digit)",
            shorten(name)
        ));
    }
    if let Some(why) = path_problem(mount_path) {
        return Err(format!("'{quoted}': mount path {why}"));
    }
    let bad_sub_path = |sub: &&str| sub.is_empty() || sub.starts_with('/') || sub.split('/').any(|s| s == "..");
    if let Some(sub) = sub_path.filter(bad_sub_path) {
        return Err(format!(
            "'{quoted}': subPath '{}' must be a relative path without '..'",
            shorten(sub)
        ));
    }
    Ok(VolumeMount {
        name: name.to_string(),
        mount_path: mount_path.to_string(),
        sub_path: sub_path.map(str::to_string),
    })
}

/// The entries whose key starts with `prefix`, keyed by the rest of the key.
fn prefixed(annotations: &StringMap, prefix: &str, problems: &mut Vec<Problem>) -> Vec<(String, String)> {
    let with_prefix = annotations
        .iter()
        .filter_map(|(key, value)| Some((key, key.strip_prefix(prefix)?, value)));
    // Counted before any per-entry work: 10,000 params took seconds (issue 9).
    let count = with_prefix.clone().count();
    if count > MAX_ENTRIES {
        problems.push(Problem::annotation(
            format!("{prefix}*"),
            format!("{count} annotations with this prefix; at most {MAX_ENTRIES} are allowed on one object"),
        ));
        return Vec::new();
    }
    let mut entries = Vec::new();
    for (key, rest, value) in with_prefix {
        if rest.is_empty() {
            problems.push(Problem::annotation(
                key,
                format!("the annotation key needs a name after '{prefix}'"),
            ));
        } else {
            entries.push((rest.to_string(), value.to_string()));
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::render;

    fn map(pairs: &[(&str, &str)]) -> StringMap {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn problems_of(pairs: &[(&str, &str)]) -> Vec<String> {
        render(&parse(&map(pairs), true).1)
    }

    #[test]
    fn trigger_rule_follows_stash() {
        let all = [(BACKUP_BLUEPRINT, "b"), (TARGET_PATHS, "/d"), (VOLUME_MOUNTS, "v:/d")];
        assert_eq!(trigger(&map(&all), true), Trigger::Present(Generation::Stash));
        assert_eq!(trigger(&map(&[]), true), Trigger::Absent);
        assert_eq!(trigger(&map(&[(SCHEDULE, "@daily")]), true), Trigger::Absent);
        assert_eq!(
            trigger(&map(&all[..1]), true),
            Trigger::Incomplete {
                generation: Generation::Stash,
                missing: vec![TARGET_PATHS, VOLUME_MOUNTS]
            }
        );
        assert_eq!(trigger(&map(&all[..1]), false), Trigger::Present(Generation::Stash));
        assert_eq!(trigger(&map(&all[1..]), false), Trigger::Absent);
    }

    #[test]
    fn incomplete_trigger_message() {
        assert_eq!(
            incomplete_trigger_problem(&[TARGET_PATHS, VOLUME_MOUNTS]),
            "stash.appscode.com/backup-blueprint is set but stash.appscode.com/target-paths and \
             stash.appscode.com/volume-mounts are missing; Stash backs up a workload only when all of \
             stash.appscode.com/backup-blueprint, stash.appscode.com/target-paths and \
             stash.appscode.com/volume-mounts are set"
        );
        assert_eq!(
            incomplete_trigger_problem(&[BACKUP_BLUEPRINT]),
            "stash.appscode.com/target-paths and stash.appscode.com/volume-mounts are set but \
             stash.appscode.com/backup-blueprint is missing; Stash backs up a workload only when all of \
             stash.appscode.com/backup-blueprint, stash.appscode.com/target-paths and \
             stash.appscode.com/volume-mounts are set"
        );
    }

    #[test]
    fn parses_a_complete_workload() {
        let (parsed, problems) = parse(
            &map(&[
                (BACKUP_BLUEPRINT, "gcs, s3"),
                (TARGET_PATHS, "/data,/logs/app"),
                (VOLUME_MOUNTS, "data:/data,logs:/logs:app"),
                (SCHEDULE, "*/15 * * * *"),
                ("params.stash.appscode.com/args", "--a=1,--b=2"),
                ("vars.autobackup.kubewarden.io/TEAM", "blue"),
                ("unrelated", "x"),
            ]),
            true,
        );
        assert_eq!(problems, []);
        assert_eq!(parsed.blueprints, ["gcs", "s3"]);
        assert_eq!(parsed.target_paths, ["/data", "/logs/app"]);
        assert_eq!(
            parsed.volume_mounts,
            [
                VolumeMount {
                    name: "data".into(),
                    mount_path: "/data".into(),
                    sub_path: None
                },
                VolumeMount {
                    name: "logs".into(),
                    mount_path: "/logs".into(),
                    sub_path: Some("app".into())
                },
            ]
        );
        assert_eq!(parsed.schedule.as_deref(), Some("*/15 * * * *"));
        assert_eq!(parsed.params, [("args".to_string(), "--a=1,--b=2".to_string())]);
        assert_eq!(parsed.custom_variables, map(&[("TEAM", "blue")]));
    }

    #[test]
    fn each_syntax_error_has_its_message() {
        let cases: [(&str, &str, &str); 16] = [
            (
                BACKUP_BLUEPRINT,
                "a,,b",
                "stash.appscode.com/backup-blueprint: empty name in 'a,,b'; separate blueprint names with a single ','",
            ),
            (
                BACKUP_BLUEPRINT,
                "Gcs_Daily",
                "stash.appscode.com/backup-blueprint: 'Gcs_Daily' is not a valid BackupBlueprint name (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit)",
            ),
            (
                BACKUP_BLUEPRINT,
                "a, a",
                "stash.appscode.com/backup-blueprint: 'a' is listed twice; list each blueprint once",
            ),
            (
                TARGET_PATHS,
                "/a,",
                "stash.appscode.com/target-paths: empty path; expected absolute paths separated by ','",
            ),
            (
                TARGET_PATHS,
                "/a, /b",
                "stash.appscode.com/target-paths: ' /b' has surrounding white space; expected absolute paths separated by ','",
            ),
            (
                TARGET_PATHS,
                "data",
                "stash.appscode.com/target-paths: 'data' is not an absolute path; expected absolute paths separated by ','",
            ),
            (
                TARGET_PATHS,
                "/a:b",
                "stash.appscode.com/target-paths: '/a:b' contains ':'; expected absolute paths separated by ','",
            ),
            (
                VOLUME_MOUNTS,
                "data",
                "stash.appscode.com/volume-mounts: 'data' is not 'volumeName:mountPath[:subPath]'",
            ),
            (
                VOLUME_MOUNTS,
                "a:/b:c:d",
                "stash.appscode.com/volume-mounts: 'a:/b:c:d' is not 'volumeName:mountPath[:subPath]'",
            ),
            (
                VOLUME_MOUNTS,
                "d:/d,",
                "stash.appscode.com/volume-mounts: empty entry; expected entries 'volumeName:mountPath[:subPath]' separated by ','",
            ),
            (
                VOLUME_MOUNTS,
                " d:/d",
                "stash.appscode.com/volume-mounts: ' d:/d' has surrounding white space; remove it",
            ),
            (
                VOLUME_MOUNTS,
                "Data:/d",
                "stash.appscode.com/volume-mounts: 'Data:/d': 'Data' is not a valid volume name (lower-case letters, digits and '-', starting and ending with a letter or digit)",
            ),
            (
                VOLUME_MOUNTS,
                ":/d",
                "stash.appscode.com/volume-mounts: ':/d': '' is not a valid volume name (lower-case letters, digits and '-', starting and ending with a letter or digit)",
            ),
            (
                VOLUME_MOUNTS,
                "d:data",
                "stash.appscode.com/volume-mounts: 'd:data': mount path 'data' is not an absolute path",
            ),
            (
                VOLUME_MOUNTS,
                "d:/d:../x",
                "stash.appscode.com/volume-mounts: 'd:/d:../x': subPath '../x' must be a relative path without '..'",
            ),
            (
                "params.stash.appscode.com/",
                "x",
                "params.stash.appscode.com/: the annotation key needs a name after 'params.stash.appscode.com/'",
            ),
        ];
        for (key, value, expected) in cases {
            let mut pairs = vec![(BACKUP_BLUEPRINT, "b"), (TARGET_PATHS, "/d"), (VOLUME_MOUNTS, "d:/d")];
            pairs.retain(|(k, _)| *k != key);
            pairs.push((key, value));
            assert_eq!(problems_of(&pairs), [expected], "{key}: {value}");
        }
    }

    #[test]
    fn too_many_blueprints_is_an_error_and_leaves_no_name_to_look_up() {
        let names: Vec<String> = (0..20_000).map(|i| format!("b{i}")).collect();
        let (parsed, problems) = parse(&map(&[(BACKUP_BLUEPRINT, &names.join(","))]), false);
        assert!(parsed.blueprints.is_empty());
        assert_eq!(
            render(&problems),
            ["stash.appscode.com/backup-blueprint: 20000 entries listed; at most 16 are allowed on one object"]
        );
    }

    #[test]
    fn a_blueprint_list_with_any_problem_is_unusable() {
        for value in ["a,B", "a,a", "a,,b"] {
            let (parsed, problems) = parse(&map(&[(BACKUP_BLUEPRINT, value)]), false);
            assert!(parsed.blueprints.is_empty(), "{value}");
            assert_eq!(problems.len(), 1, "{value}");
        }
    }

    #[test]
    fn workload_only_annotations_are_ignored_elsewhere() {
        let (parsed, problems) = parse(&map(&[(BACKUP_BLUEPRINT, "b"), (TARGET_PATHS, "nonsense")]), false);
        assert!(problems.is_empty());
        assert!(parsed.target_paths.is_empty());
    }
}
