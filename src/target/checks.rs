//! Checks on a target's volumes and on the resolved result.

use serde_json::{Map, Value};

use crate::report::{Problem, list, shorten};
use crate::schedule::CronSchedule;
use crate::support::json_fields::at;
use crate::target::Target;
use crate::target::annotations::{BackupAnnotations, SCHEDULE, TARGET_PATHS, VOLUME_MOUNTS};
use crate::target::naming::{ObjectNames, is_dns1123_label};

const PROVIDERS: [&str; 7] = ["local", "s3", "gcs", "azure", "swift", "b2", "rest"];
const PREFIXED_PROVIDERS: [&str; 5] = ["s3", "gcs", "azure", "swift", "b2"];
pub const KEEP_FIELDS: [&str; 6] = [
    "keepLast",
    "keepHourly",
    "keepDaily",
    "keepWeekly",
    "keepMonthly",
    "keepYearly",
];
const STASH_RESERVED_PATH: &str = "/stash";

/// Every `volume-mounts` volume exists in the pod template (or the StatefulSet's
/// volumeClaimTemplates) and every target path lies under a mount path.
pub fn workload_volumes(kind: &str, object_spec: Option<&Value>, request: &BackupAnnotations) -> Vec<Problem> {
    let mut problems = Vec::new();
    let volumes = declared_volumes(kind, object_spec);
    let where_ = match kind {
        "StatefulSet" => "the pod template's volumes or the volumeClaimTemplates",
        _ => "the pod template's volumes",
    };
    let found = match volumes.is_empty() {
        true => "none declared".to_string(),
        false => format!("declared: {}", list(&volumes)),
    };
    for mount in &request.volume_mounts {
        if !volumes.contains(&mount.name) {
            problems.push(Problem::annotation(
                VOLUME_MOUNTS,
                format!(
                    "volume '{}' is not in {where_} ({found}); use the name of a declared volume",
                    mount.name
                ),
            ));
        }
    }
    let mount_paths: Vec<&str> = request.volume_mounts.iter().map(|m| m.mount_path.as_str()).collect();
    if mount_paths.is_empty() {
        return problems;
    }
    for path in &request.target_paths {
        if !mount_paths.iter().any(|mount| is_under(path, mount)) {
            problems.push(Problem::annotation(
                TARGET_PATHS,
                format!(
                    "'{path}' is not under any mount path of {VOLUME_MOUNTS} ({}); \
                     mount the volume that holds it or fix the path",
                    list(&mount_paths)
                ),
            ));
        }
    }
    problems
}

fn declared_volumes(kind: &str, object_spec: Option<&Value>) -> Vec<String> {
    fn names(volumes: &mut Vec<String>, list: Option<&Value>, name_path: &[&str]) {
        for item in list.and_then(Value::as_array).map_or(&[][..], Vec::as_slice) {
            if let Some(name) = at(item, name_path).and_then(Value::as_str) {
                volumes.push(name.to_string());
            }
        }
    }
    let spec = object_spec.unwrap_or(&Value::Null);
    let mut volumes = Vec::new();
    names(&mut volumes, at(spec, &["template", "spec", "volumes"]), &["name"]);
    if kind == "StatefulSet" {
        names(&mut volumes, spec.get("volumeClaimTemplates"), &["metadata", "name"]);
    }
    volumes
}

fn is_under(path: &str, mount: &str) -> bool {
    let mount = mount.trim_end_matches('/');
    path == mount || mount.is_empty() || path.strip_prefix(mount).is_some_and(|rest| rest.starts_with('/'))
}

/// Where the schedule came from, for messages.
pub enum ScheduleSource<'a> {
    Annotation,
    Blueprint(&'a str),
}

/// Checks the resolved blueprint `spec` and the objects it generates; one line per problem.
/// Without a problem, the blueprint's own schedule, parsed, when it is the one used (`None`
/// when the schedule annotation replaces it: `annotation_schedule` parses that one).
pub fn resolved(
    target: &Target,
    blueprint: &str,
    spec: &Map<String, Value>,
    names: &ObjectNames,
    schedule: Option<(&str, ScheduleSource)>,
) -> Result<Option<CronSchedule>, Vec<Problem>> {
    let mut problems = generated_names(blueprint, names);
    let parsed = blueprint_schedule(blueprint, schedule).unwrap_or_else(|problem| {
        problems.push(problem);
        None
    });
    let field_problems = [
        retention_policy(spec.get("retentionPolicy")),
        backend(spec),
        stash_webhook_rules(target, spec, names),
    ];
    for (field, why) in field_problems.into_iter().flatten() {
        problems.push(Problem::blueprint_field(blueprint, field, why));
    }
    match problems.is_empty() {
        true => Ok(parsed),
        false => Err(problems),
    }
}

fn generated_names(blueprint: &str, names: &ObjectNames) -> Vec<Problem> {
    let objects = [
        ("Repository", &names.repository_name, &names.repository_namespace),
        (
            "BackupConfiguration",
            &names.backup_configuration_name,
            &names.backup_configuration_namespace,
        ),
    ];
    let mut problems = Vec::new();
    for (kind, name, namespace) in objects {
        if !is_dns1123_label(namespace) {
            problems.push(Problem::blueprint(
                blueprint,
                format!(
                    "places the {kind} in namespace '{}', which is not a valid namespace name \
                     (a DNS-1123 label: lower-case letters, digits and '-', at most 63); fix spec.backupNamespace or spec.repoNamespace",
                    shorten(namespace)
                ),
            ));
        } else if !is_dns1123_label(name) {
            problems.push(Problem::blueprint(
                blueprint,
                format!(
                    "generates the {kind} name '{}', which is not a DNS-1123 label \
                     (lower-case letters, digits and '-'); rename the target so that its name is one",
                    shorten(name)
                ),
            ));
        }
    }
    problems.dedup();
    problems
}

fn blueprint_schedule(
    blueprint: &str,
    schedule: Option<(&str, ScheduleSource)>,
) -> Result<Option<CronSchedule>, Problem> {
    match schedule {
        None => Err(Problem::blueprint(
            blueprint,
            format!("has no spec.schedule; set one there or set the annotation {SCHEDULE}"),
        )),
        Some((_, ScheduleSource::Annotation)) => Ok(None),
        Some((schedule, ScheduleSource::Blueprint(name))) => parse_schedule(schedule)
            .map(Some)
            .map_err(|why| Problem::blueprint_field(name, "spec.schedule", why)),
    }
}

/// The `schedule` annotation as written and parsed (`None` when it is not set), checked
/// whether or not its blueprints resolve.
pub fn annotation_schedule(request: &BackupAnnotations) -> Result<Option<(&str, CronSchedule)>, Problem> {
    let Some(schedule) = request.schedule.as_deref() else {
        return Ok(None);
    };
    match parse_schedule(schedule) {
        Ok(parsed) => Ok(Some((schedule, parsed))),
        Err(why) => Err(Problem::annotation(SCHEDULE, why)),
    }
}

fn parse_schedule(schedule: &str) -> Result<CronSchedule, String> {
    CronSchedule::parse(schedule).map_err(|why| {
        format!(
            "'{}' is not a valid cron schedule: {why}; \
             use 5 fields 'minute hour day-of-month month day-of-week' or @hourly, @daily, @weekly, @monthly, @yearly",
            shorten(schedule)
        )
    })
}

type FieldProblem = (String, String);

fn retention_policy(policy: Option<&Value>) -> Vec<FieldProblem> {
    let field = "spec.retentionPolicy";
    let Some(policy) = policy else {
        return vec![(
            field.into(),
            "is required; set at least name and prune (e.g. name: keep-last-5, keepLast: 5, prune: true)".into(),
        )];
    };
    let Some(policy) = policy.as_object() else {
        return vec![(
            field.into(),
            "must be an object with name, prune and keep* fields".into(),
        )];
    };
    let mut problems = Vec::new();
    if !has_text(policy, "name") {
        problems.push((
            format!("{field}.name"),
            "is required (a name for the retention policy, e.g. keep-last-5)".into(),
        ));
    }
    if !policy.get("prune").is_some_and(Value::is_boolean) {
        problems.push((format!("{field}.prune"), "is required: true or false".into()));
    }
    for keep in KEEP_FIELDS {
        if let Some(value) = policy.get(keep).filter(|v| v.as_i64().is_none_or(|n| n < 0)) {
            problems.push((
                format!("{field}.{keep}"),
                format!(
                    "must be a non-negative integer, got {}",
                    crate::support::json_text::of(value)
                ),
            ));
        }
    }
    problems
}

fn backend(spec: &Map<String, Value>) -> Vec<FieldProblem> {
    let Some(backend) = spec.get("backend").and_then(Value::as_object) else {
        return vec![(
            "spec.backend".into(),
            format!("is required; set storageSecretName and one of {}", PROVIDERS.join(", ")),
        )];
    };
    let mut problems = Vec::new();
    if !has_text(backend, "storageSecretName") {
        problems.push((
            "spec.backend.storageSecretName".into(),
            "is required: the Secret holding the restic password and storage credentials".into(),
        ));
    }
    let providers: Vec<&str> = PROVIDERS.into_iter().filter(|p| backend.contains_key(*p)).collect();
    match providers.as_slice() {
        [] => problems.push((
            "spec.backend".into(),
            format!("has no storage provider; set exactly one of {}", PROVIDERS.join(", ")),
        )),
        [provider] => problems.extend(provider_fields(provider, &backend[*provider])),
        several => problems.push((
            "spec.backend".into(),
            format!(
                "has several storage providers ({}); keep exactly one",
                several.join(", ")
            ),
        )),
    }
    problems
}

fn provider_fields(provider: &str, settings: &Value) -> Vec<FieldProblem> {
    let path = format!("spec.backend.{provider}");
    let Some(settings) = settings.as_object() else {
        return vec![(path, "must be an object".into())];
    };
    let required: &[&str] = match provider {
        "s3" => &["endpoint", "bucket"],
        "gcs" | "b2" => &["bucket"],
        "azure" | "swift" => &["container"],
        "rest" => &["url"],
        _ => &["mountPath"],
    };
    let mut problems: Vec<FieldProblem> = required
        .iter()
        .filter(|field| !has_text(settings, field))
        .map(|field| (format!("{path}.{field}"), "is required".into()))
        .collect();
    if provider == "local" && !settings.keys().any(|k| k != "mountPath" && k != "subPath") {
        problems.push((
            path.clone(),
            "needs a volume source (e.g. hostPath, nfs or persistentVolumeClaim)".into(),
        ));
    }
    let prefix = settings.get("prefix").and_then(Value::as_str);
    if let Some(prefix) = prefix.filter(|_| PREFIXED_PROVIDERS.contains(&provider)) {
        problems.extend(prefix_problem(prefix).map(|why| (format!("{path}.prefix"), why)));
    }
    problems
}

/// Whether `map[key]` is a non-empty string.
fn has_text(map: &Map<String, Value>, key: &str) -> bool {
    map.get(key).and_then(Value::as_str).is_some_and(|v| !v.is_empty())
}

fn prefix_problem(prefix: &str) -> Option<String> {
    if prefix.starts_with('/') {
        Some(format!(
            "'{}' starts with '/'; write the prefix relative to the bucket root",
            shorten(prefix)
        ))
    } else if prefix.split('/').any(|segment| segment == "..") {
        Some(format!(
            "'{}' has a '..' segment; a prefix must stay inside its own directory",
            shorten(prefix)
        ))
    } else {
        None
    }
}

/// What Stash's own admission webhooks would refuse.
fn stash_webhook_rules(target: &Target, spec: &Map<String, Value>, names: &ObjectNames) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    let backend = spec.get("backend");
    let has = |provider: &str| backend.and_then(|b| b.get(provider)).is_some();
    if spec.get("wipeOut") == Some(&Value::Bool(true)) {
        for provider in ["local", "b2"].into_iter().filter(|p| has(p)) {
            problems.push((
                "spec.wipeOut".to_string(),
                format!(
                    "Stash does not support wipeOut with a {provider} backend; remove wipeOut or use another backend"
                ),
            ));
        }
    }
    let local_mount_path = backend
        .and_then(|b| at(b, &["local", "mountPath"]))
        .and_then(Value::as_str);
    if let Some(mount_path) = local_mount_path.filter(|path| is_under(path, STASH_RESERVED_PATH)) {
        problems.push((
            "spec.backend.local.mountPath".to_string(),
            format!(
                "'{}' is reserved by Stash ({STASH_RESERVED_PATH} and below); mount the local backend elsewhere",
                shorten(mount_path)
            ),
        ));
    }
    let bc_ns = &names.backup_configuration_namespace;
    if *bc_ns != target.namespace && target.forbids_cross_namespace_backup() {
        problems.push((
            "spec.backupNamespace".to_string(),
            format!(
                "Stash does not allow a BackupConfiguration in namespace '{bc_ns}' to back up a {} in namespace '{}'; \
                 only databases (AppBindings) may use backupNamespace",
                target.kind, target.namespace
            ),
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::render;
    use crate::target::annotations::VolumeMount;
    use crate::target::naming::object_names;
    use crate::target::{Target, classify};
    use serde_json::json;

    fn request(mounts: &[(&str, &str)], paths: &[&str]) -> BackupAnnotations {
        BackupAnnotations {
            volume_mounts: mounts
                .iter()
                .map(|(n, p)| VolumeMount {
                    name: n.to_string(),
                    mount_path: p.to_string(),
                    sub_path: None,
                })
                .collect(),
            target_paths: paths.iter().map(|p| p.to_string()).collect(),
            ..BackupAnnotations::default()
        }
    }

    #[test]
    fn volumes_must_be_declared() {
        let spec = json!({"template": {"spec": {"volumes": [{"name": "data"}, {"name": "cache"}]}}});
        assert!(workload_volumes("Deployment", Some(&spec), &request(&[("data", "/data")], &["/data/x"])).is_empty());
        assert_eq!(
            render(&workload_volumes(
                "Deployment",
                Some(&spec),
                &request(&[("dta", "/data")], &["/data"])
            )),
            [
                "stash.appscode.com/volume-mounts: volume 'dta' is not in the pod template's volumes (declared: data, cache); use the name of a declared volume"
            ]
        );
        assert_eq!(
            render(&workload_volumes(
                "DaemonSet",
                None,
                &request(&[("data", "/data")], &[])
            )),
            [
                "stash.appscode.com/volume-mounts: volume 'data' is not in the pod template's volumes (none declared); use the name of a declared volume"
            ]
        );
    }

    #[test]
    fn statefulset_claim_templates_count_as_volumes() {
        let spec = json!({"volumeClaimTemplates": [{"metadata": {"name": "source-data"}}]});
        assert!(
            workload_volumes(
                "StatefulSet",
                Some(&spec),
                &request(&[("source-data", "/source/data")], &["/source/data"])
            )
            .is_empty()
        );
        assert_eq!(
            render(&workload_volumes(
                "StatefulSet",
                Some(&spec),
                &request(&[("x", "/x")], &[])
            )),
            [
                "stash.appscode.com/volume-mounts: volume 'x' is not in the pod template's volumes or the volumeClaimTemplates (declared: source-data); use the name of a declared volume"
            ]
        );
    }

    #[test]
    fn target_paths_must_lie_under_a_mount() {
        let spec = json!({"template": {"spec": {"volumes": [{"name": "data"}]}}});
        assert_eq!(
            render(&workload_volumes(
                "Deployment",
                Some(&spec),
                &request(&[("data", "/data")], &["/data", "/data/a", "/database", "/etc"])
            )),
            [
                "stash.appscode.com/target-paths: '/database' is not under any mount path of stash.appscode.com/volume-mounts (/data); mount the volume that holds it or fix the path",
                "stash.appscode.com/target-paths: '/etc' is not under any mount path of stash.appscode.com/volume-mounts (/data); mount the volume that holds it or fix the path",
            ]
        );
    }

    fn deployment() -> Target {
        Target::new(
            classify("apps/v1", "Deployment").unwrap(),
            "apps/v1",
            "Deployment",
            "web",
            "demo",
            None,
            None,
        )
    }

    fn good_spec() -> Value {
        json!({
            "backend": {"gcs": {"bucket": "b", "prefix": "demo/web"}, "storageSecretName": "gcs-secret"},
            "retentionPolicy": {"name": "keep-last-5", "keepLast": 5, "prune": true},
        })
    }

    fn check(spec: Value, bc_ns: &str, schedule: &str) -> Vec<String> {
        let t = deployment();
        let names = object_names(&t, "bp", false, bc_ns, bc_ns);
        let checked = resolved(
            &t,
            "bp",
            spec.as_object().unwrap(),
            &names,
            Some((schedule, ScheduleSource::Blueprint("bp"))),
        );
        render(&checked.err().unwrap_or_default())
    }

    fn with(mut spec: Value, pointer: &str, value: Value) -> Value {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let target = if parent.is_empty() {
            &mut spec
        } else {
            spec.pointer_mut(parent).unwrap()
        };
        match value {
            Value::Null => {
                target.as_object_mut().unwrap().remove(key);
            }
            v => target[key] = v,
        }
        spec
    }

    #[test]
    fn a_good_result_passes() {
        assert_eq!(check(good_spec(), "demo", "*/5 * * * *"), Vec::<String>::new());
    }

    #[test]
    fn each_result_problem_has_its_message() {
        let local = json!({"mountPath": "/safe/repo", "hostPath": {"path": "/data"}});
        let cases: Vec<(Value, &str)> = vec![
            (
                with(good_spec(), "/retentionPolicy", Value::Null),
                "BackupBlueprint 'bp' spec.retentionPolicy: is required; set at least name and prune (e.g. name: keep-last-5, keepLast: 5, prune: true)",
            ),
            (
                with(good_spec(), "/retentionPolicy/name", Value::Null),
                "BackupBlueprint 'bp' spec.retentionPolicy.name: is required (a name for the retention policy, e.g. keep-last-5)",
            ),
            (
                with(good_spec(), "/retentionPolicy/prune", Value::Null),
                "BackupBlueprint 'bp' spec.retentionPolicy.prune: is required: true or false",
            ),
            (
                with(good_spec(), "/retentionPolicy/keepLast", json!("5")),
                "BackupBlueprint 'bp' spec.retentionPolicy.keepLast: must be a non-negative integer, got \"5\"",
            ),
            (
                with(good_spec(), "/backend", Value::Null),
                "BackupBlueprint 'bp' spec.backend: is required; set storageSecretName and one of local, s3, gcs, azure, swift, b2, rest",
            ),
            (
                with(good_spec(), "/backend/storageSecretName", Value::Null),
                "BackupBlueprint 'bp' spec.backend.storageSecretName: is required: the Secret holding the restic password and storage credentials",
            ),
            (
                with(good_spec(), "/backend/gcs", Value::Null),
                "BackupBlueprint 'bp' spec.backend: has no storage provider; set exactly one of local, s3, gcs, azure, swift, b2, rest",
            ),
            (
                with(good_spec(), "/backend/s3", json!({"endpoint": "e", "bucket": "b"})),
                "BackupBlueprint 'bp' spec.backend: has several storage providers (s3, gcs); keep exactly one",
            ),
            (
                with(good_spec(), "/backend/gcs/bucket", Value::Null),
                "BackupBlueprint 'bp' spec.backend.gcs.bucket: is required",
            ),
            (
                with(
                    with(good_spec(), "/backend/gcs", Value::Null),
                    "/backend/s3",
                    json!({"bucket": "b"}),
                ),
                "BackupBlueprint 'bp' spec.backend.s3.endpoint: is required",
            ),
            (
                with(
                    with(good_spec(), "/backend/gcs", Value::Null),
                    "/backend/azure",
                    json!({}),
                ),
                "BackupBlueprint 'bp' spec.backend.azure.container: is required",
            ),
            (
                with(
                    with(good_spec(), "/backend/gcs", Value::Null),
                    "/backend/rest",
                    json!({"url": ""}),
                ),
                "BackupBlueprint 'bp' spec.backend.rest.url: is required",
            ),
            (
                with(
                    with(good_spec(), "/backend/gcs", Value::Null),
                    "/backend/local",
                    json!({"mountPath": "/r"}),
                ),
                "BackupBlueprint 'bp' spec.backend.local: needs a volume source (e.g. hostPath, nfs or persistentVolumeClaim)",
            ),
            (
                with(good_spec(), "/backend/gcs/prefix", json!("/abs")),
                "BackupBlueprint 'bp' spec.backend.gcs.prefix: '/abs' starts with '/'; write the prefix relative to the bucket root",
            ),
            (
                with(good_spec(), "/backend/gcs/prefix", json!("a/../other-team")),
                "BackupBlueprint 'bp' spec.backend.gcs.prefix: 'a/../other-team' has a '..' segment; a prefix must stay inside its own directory",
            ),
            (
                with(
                    with(good_spec(), "/backend/gcs", Value::Null),
                    "/backend/local",
                    with(local.clone(), "/mountPath", json!("/stash/repo")),
                ),
                "BackupBlueprint 'bp' spec.backend.local.mountPath: '/stash/repo' is reserved by Stash (/stash and below); mount the local backend elsewhere",
            ),
            (
                with(
                    with(
                        with(good_spec(), "/backend/gcs", Value::Null),
                        "/backend/local",
                        local.clone(),
                    ),
                    "/wipeOut",
                    json!(true),
                ),
                "BackupBlueprint 'bp' spec.wipeOut: Stash does not support wipeOut with a local backend; remove wipeOut or use another backend",
            ),
            (
                with(
                    with(
                        with(good_spec(), "/backend/gcs", Value::Null),
                        "/backend/b2",
                        json!({"bucket": "b"}),
                    ),
                    "/wipeOut",
                    json!(true),
                ),
                "BackupBlueprint 'bp' spec.wipeOut: Stash does not support wipeOut with a b2 backend; remove wipeOut or use another backend",
            ),
        ];
        for (spec, expected) in cases {
            assert_eq!(check(spec.clone(), "demo", "@daily"), [expected], "{spec}");
        }
    }

    #[test]
    fn cross_namespace_workload_backup_is_refused() {
        assert_eq!(
            check(good_spec(), "backup", "@daily"),
            [
                "BackupBlueprint 'bp' spec.backupNamespace: Stash does not allow a BackupConfiguration in namespace 'backup' to back up a Deployment in namespace 'demo'; only databases (AppBindings) may use backupNamespace"
            ]
        );
    }

    #[test]
    fn bad_namespace_and_names_are_reported() {
        assert_eq!(
            check(good_spec(), "Backup_NS", "@daily")[0],
            "BackupBlueprint 'bp' places the Repository in namespace 'Backup_NS', which is not a valid namespace name (a DNS-1123 label: lower-case letters, digits and '-', at most 63); fix spec.backupNamespace or spec.repoNamespace"
        );
        let t = Target::new(
            classify("v1", "PersistentVolumeClaim").unwrap(),
            "v1",
            "PersistentVolumeClaim",
            "data.v2",
            "demo",
            None,
            None,
        );
        let names = object_names(&t, "bp", false, "demo", "demo");
        assert_eq!(
            render(
                &resolved(
                    &t,
                    "bp",
                    good_spec().as_object().unwrap(),
                    &names,
                    Some(("@daily", ScheduleSource::Annotation))
                )
                .unwrap_err()
            ),
            [
                "BackupBlueprint 'bp' generates the Repository name 'pvc-data.v2', which is not a DNS-1123 label (lower-case letters, digits and '-'); rename the target so that its name is one",
                "BackupBlueprint 'bp' generates the BackupConfiguration name 'pvc-data.v2', which is not a DNS-1123 label (lower-case letters, digits and '-'); rename the target so that its name is one",
            ]
        );
    }

    #[test]
    fn schedule_problems_name_their_source() {
        let t = deployment();
        let names = object_names(&t, "bp", false, "demo", "demo");
        let spec = good_spec();
        let spec = spec.as_object().unwrap();
        let annotated = resolved(&t, "bp", spec, &names, Some(("61 * * * *", ScheduleSource::Annotation)));
        assert_eq!(annotated, Ok(None), "the annotation is checked on its own");
        let daily = resolved(
            &t,
            "bp",
            spec,
            &names,
            Some(("@daily", ScheduleSource::Blueprint("bp"))),
        );
        assert_eq!(
            daily,
            Ok(Some(CronSchedule::parse("@daily").unwrap())),
            "parsed once, for the guardrails"
        );
        let request = BackupAnnotations {
            schedule: Some("61 * * * *".into()),
            ..BackupAnnotations::default()
        };
        assert_eq!(
            annotation_schedule(&request)
                .map_err(|p| p.to_string())
                .as_ref()
                .err()
                .map(String::as_str),
            Some(
                "stash.appscode.com/schedule: '61 * * * *' is not a valid cron schedule: minute value 61 is out of range 0-59; \
                 use 5 fields 'minute hour day-of-month month day-of-week' or @hourly, @daily, @weekly, @monthly, @yearly"
            )
        );
        assert_eq!(annotation_schedule(&BackupAnnotations::default()), Ok(None));
        let from_blueprint =
            render(&resolved(&t, "bp", spec, &names, Some(("daily", ScheduleSource::Blueprint("bp")))).unwrap_err());
        assert!(
            from_blueprint[0].starts_with("BackupBlueprint 'bp' spec.schedule: 'daily' is not a valid cron schedule: ")
        );
        assert!(from_blueprint[0].ends_with(
            "; use 5 fields 'minute hour day-of-month month day-of-week' or @hourly, @daily, @weekly, @monthly, @yearly"
        ));
        assert_eq!(
            render(&resolved(&t, "bp", spec, &names, None).unwrap_err()),
            [
                "BackupBlueprint 'bp' has no spec.schedule; set one there or set the annotation stash.appscode.com/schedule"
            ]
        );
    }
}
