//! What KubeStash's BackupConfiguration webhook (and the CRD schema) would refuse in a resolved
//! `backupConfigurationTemplate`, said with its meaning and a fix, and what the lookups need:
//! the backends' storage and retention objects and the repositories.

use serde_json::{Map, Value};

use super::{Backend, ObjectName, RepositoryUse, StorageUse};
use crate::report::{Problem, shorten};
use crate::schedule::CronSchedule;
use crate::target::naming::{is_dns1123_label, is_dns1123_subdomain};

/// The template's path in the blueprint.
pub const TEMPLATE: &str = "spec.backupConfigurationTemplate";
/// More backends than this is refused before any BackupStorage or RetentionPolicy lookup.
pub const MAX_BACKENDS: usize = 8;
/// More distinct repository names than this (or more repositories in one session) is refused
/// before any Repository lookup.
pub const MAX_REPOSITORIES: usize = 32;
/// More sessions than this in a blueprint is refused before anything is substituted.
pub const MAX_SESSIONS: usize = 32;

/// A chosen session: its index in the blueprint and its resolved value.
pub struct Session<'a> {
    pub index: usize,
    pub value: &'a Value,
}

/// A schedule of a resolved session, parsed.
pub struct SessionSchedule {
    pub path: String,
    pub text: String,
    pub parsed: CronSchedule,
}

/// What the checks found: problems, warnings, and (when there is no problem) the storage the
/// BackupConfiguration uses and its schedules.
#[derive(Default)]
pub struct Checked {
    pub problems: Vec<Problem>,
    pub warnings: Vec<Problem>,
    pub backends: Vec<Backend>,
    pub repositories: Vec<RepositoryUse>,
    pub schedules: Vec<SessionSchedule>,
}

struct Check<'a> {
    blueprint: &'a str,
    found: Checked,
}

impl Check<'_> {
    fn problem(&mut self, path: String, text: String) {
        self.found
            .problems
            .push(Problem::blueprint_field(self.blueprint, path, text));
    }

    /// A problem of `path.field`.
    fn field(&mut self, path: &str, field: &str, text: String) {
        self.problem(format!("{path}.{field}"), text);
    }

    /// A problem of `path.field` with a fixed text.
    fn fixed(&mut self, path: &str, field: &str, text: &str) {
        self.field(path, field, text.to_string());
    }

    /// A problem of `path.field`: `'value'` quoted, then `rest`.
    fn quoted(&mut self, path: &str, field: &str, value: &str, rest: &str) {
        self.field(path, field, format!("'{}'{rest}", shorten(value)));
    }
}

/// Checks the resolved template; `namespace` is the BackupConfiguration's.
pub fn check(blueprint: &str, backends: &[Value], sessions: &[Session], namespace: &str) -> Checked {
    let mut check = Check {
        blueprint,
        found: Checked::default(),
    };
    check_backends(&mut check, backends, namespace);
    if sessions.is_empty() {
        check.fixed(
            TEMPLATE,
            "sessions",
            "no session is left to back up (KubeStash refuses it: sessions can not be empty); add a session, \
             or choose one of the blueprint's with blueprint.kubestash.com/session-names",
        );
    }
    let mut session_names: Vec<&str> = Vec::new();
    for session in sessions {
        check_session(&mut check, session, &mut session_names, backends);
    }
    check_directories(&mut check);
    let distinct = distinct_repository_names(&check.found.repositories);
    if distinct > MAX_REPOSITORIES {
        check.field(
            TEMPLATE,
            "sessions",
            format!("names {distinct} repositories; at most {MAX_REPOSITORIES} are allowed for one target"),
        );
    }
    check.found
}

/// The counts that bound the work and the lookups, checked before anything is substituted:
/// the backends, the sessions, and the repositories of each session chosen.
pub fn limits(blueprint: &str, backends: Option<&Value>, sessions: &[Value], chosen: &[usize]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let count = |value: Option<&Value>| value.and_then(Value::as_array).map_or(0, Vec::len);
    let mut over = |field: &str, what: &str, count: usize, max: usize| {
        if count > max {
            let text = format!("has {count} {what}; at most {max} are allowed for one target");
            problems.push(Problem::blueprint_field(blueprint, format!("{TEMPLATE}.{field}"), text));
        }
    };
    over("backends", "backends", count(backends), MAX_BACKENDS);
    over("sessions", "sessions", sessions.len(), MAX_SESSIONS);
    if sessions.len() <= MAX_SESSIONS {
        for index in chosen {
            let field = format!("sessions[{index}].repositories");
            over(
                &field,
                "repositories",
                count(sessions[*index].get("repositories")),
                MAX_REPOSITORIES,
            );
        }
    }
    problems
}

fn check_backends(check: &mut Check, backends: &[Value], namespace: &str) {
    if backends.is_empty() {
        check.found.warnings.push(Problem::blueprint_field(
            check.blueprint,
            format!("{TEMPLATE}.backends"),
            format!(
                "is empty: KubeStash uses the default BackupStorage and RetentionPolicy for namespace '{}', which \
                 this policy does not check; name the backends to have them checked",
                shorten(namespace)
            ),
        ));
        return;
    }
    let mut names: Vec<&str> = Vec::new();
    for (i, backend) in backends.iter().enumerate() {
        let path = format!("{TEMPLATE}.backends[{i}]");
        let name = text(backend, "name");
        if names.contains(&name) {
            check.quoted(
                &path,
                "name",
                name,
                " is the name of an earlier backend (KubeStash refuses duplicate backend names); give each backend its own name",
            );
        }
        names.push(name);
        let storage = object_name(
            check,
            backend.get("storageRef"),
            &format!("{path}.storageRef"),
            namespace,
        );
        if backend.get("storageRef").is_none_or(Value::is_null) {
            check.field(
                &path,
                "storageRef",
                format!(
                    "is missing (KubeStash refuses a backend without a storage reference); name the BackupStorage of backend '{}'",
                    shorten(name)
                ),
            );
        }
        let retention = object_name(
            check,
            backend.get("retentionPolicy"),
            &format!("{path}.retentionPolicy"),
            namespace,
        );
        check.found.backends.push(Backend {
            name: name.to_string(),
            path,
            storage,
            retention,
        });
    }
}

/// The `{name, namespace}` reference at `path` (namespace defaulting to `namespace`), checked.
fn object_name(check: &mut Check, value: Option<&Value>, path: &str, namespace: &str) -> Option<ObjectName> {
    let value = value.filter(|v| !v.is_null())?;
    let name = text(value, "name");
    let own_namespace = text(value, "namespace");
    if !is_dns1123_subdomain(name) {
        check.field(path, "name", invalid_name(name, "an object name"));
        return None;
    }
    if !own_namespace.is_empty() && !is_dns1123_label(own_namespace) {
        check.field(path, "namespace", invalid_name(own_namespace, "a namespace name"));
        return None;
    }
    Some(ObjectName {
        namespace: match own_namespace.is_empty() {
            true => namespace.to_string(),
            false => own_namespace.to_string(),
        },
        name: name.to_string(),
    })
}

fn invalid_name(value: &str, what: &str) -> String {
    format!(
        "'{}' is not {what} (lower-case letters, digits and '-', starting and ending with a letter or digit); fix the \
         blueprint or the variable that gives it",
        shorten(value)
    )
}

fn check_session<'a>(check: &mut Check, session: &Session<'a>, names: &mut Vec<&'a str>, backends: &[Value]) {
    let path = format!("{TEMPLATE}.sessions[{}]", session.index);
    let value = session.value;
    let name = text(value, "name");
    if name.is_empty() {
        check.fixed(
            &path,
            "name",
            "is empty (KubeStash refuses a session without a name); name the session",
        );
    } else if names.contains(&name) {
        check.quoted(
            &path,
            "name",
            name,
            " is the name of an earlier session (KubeStash refuses duplicate session names); give each session its own name",
        );
    } else if !is_dns1123_subdomain(name) {
        check.field(&path, "name", invalid_name(name, "a session name"));
    }
    names.push(name);
    check_scheduler(check, value, &path);
    check_addon(check, value, &path);
    check_repositories(check, value, &path, name, backends);
}

fn check_scheduler(check: &mut Check, session: &Value, path: &str) {
    let Some(scheduler) = session.get("scheduler").filter(|s| s.is_object()) else {
        check.fixed(
            path,
            "scheduler",
            "is missing (KubeStash refuses a session without a scheduler); add scheduler.schedule and scheduler.jobTemplate",
        );
        return;
    };
    let schedule = text(scheduler, "schedule");
    let schedule_path = format!("{path}.scheduler.schedule");
    if schedule.is_empty() {
        check.problem(
            schedule_path,
            "is empty (the BackupConfiguration's CRD requires it); set a cron schedule such as '0 2 * * *'".to_string(),
        );
        return;
    }
    match CronSchedule::parse(schedule) {
        Ok(parsed) => check.found.schedules.push(SessionSchedule {
            path: schedule_path,
            text: schedule.to_string(),
            parsed,
        }),
        Err(why) => check.problem(
            schedule_path,
            format!(
                "'{}' is not a valid cron schedule: {why}; KubeStash does not check it, and the session's CronJob would \
                 fail later",
                shorten(schedule)
            ),
        ),
    }
}

fn check_addon(check: &mut Check, session: &Value, path: &str) {
    let Some(addon) = session.get("addon").filter(|a| a.is_object()) else {
        check.fixed(
            path,
            "addon",
            "is missing (KubeStash refuses a session without addon info); add addon.name and addon.tasks",
        );
        return;
    };
    if text(addon, "name").is_empty() {
        check.fixed(
            path,
            "addon.name",
            "is empty (KubeStash refuses it); name the Addon, e.g. workload-addon or postgres-addon",
        );
    }
    let tasks = list(addon, "tasks");
    if tasks.is_empty() {
        check.fixed(
            path,
            "addon.tasks",
            "is empty (KubeStash refuses a session without tasks); add the addon's backup task, e.g. logical-backup",
        );
    }
    for (i, task) in tasks.iter().enumerate() {
        if text(task, "name").is_empty() {
            check.fixed(
                &format!("{path}.addon.tasks[{i}]"),
                "name",
                "is empty (KubeStash refuses a task without a name); name the addon task",
            );
        }
    }
}

fn check_repositories(check: &mut Check, session: &Value, path: &str, session_name: &str, backends: &[Value]) {
    let repositories = list(session, "repositories");
    if repositories.is_empty() {
        check.fixed(
            path,
            "repositories",
            "is empty (KubeStash refuses a session without repositories); add a repository with name, backend and directory",
        );
    }
    let mut names: Vec<&str> = Vec::new();
    for (i, repository) in repositories.iter().enumerate() {
        let path = format!("{path}.repositories[{i}]");
        let name = text(repository, "name");
        let backend = text(repository, "backend");
        let directory = text(repository, "directory");
        if names.contains(&name) {
            check.quoted(
                &path,
                "name",
                name,
                " is the name of an earlier repository of this session (KubeStash refuses it); give each repository its own name",
            );
        } else if !is_dns1123_subdomain(name) {
            check.field(&path, "name", invalid_name(name, "a Repository name"));
        }
        names.push(name);
        let known = match backends.is_empty() {
            // The default backend KubeStash adds has no name.
            true => backend.is_empty(),
            false => backends.iter().any(|b| text(b, "name") == backend),
        };
        if !known {
            let mut listed = String::new();
            for b in backends {
                super::push_quoted(&mut listed, text(b, "name"));
            }
            check.field(
                &path,
                "backend",
                format!(
                    "'{}' is not one of the backends ({listed}); KubeStash refuses it: name one of them",
                    shorten(backend),
                ),
            );
        }
        if directory.is_empty() {
            check.fixed(
                &path,
                "directory",
                "is empty (KubeStash refuses a repository without a directory); set the directory in the backend to \
                 back up into, e.g. /<namespace>/<target>",
            );
        }
        check.found.repositories.push(RepositoryUse {
            name: name.to_string(),
            backend: backend.to_string(),
            directory: directory.to_string(),
            path,
            session: session_name.to_string(),
        });
    }
}

/// Two repositories of one BackupConfiguration with one directory: only the same repository
/// (name and backend) may repeat across sessions.
fn check_directories(check: &mut Check) {
    let repositories = &check.found.repositories;
    let mut clashes = Vec::new();
    for (i, later) in repositories.iter().enumerate() {
        if later.directory.is_empty() {
            continue;
        }
        let earlier = repositories[..i].iter().find(|earlier| {
            earlier.directory == later.directory && !(earlier.name == later.name && earlier.backend == later.backend)
        });
        if let Some(earlier) = earlier {
            clashes.push((
                format!("{}.directory", later.path),
                format!(
                    "'{}' is already the directory of repository '{}' (KubeStash refuses it: two repositories would \
                     write into one directory); give repository '{}' its own directory",
                    shorten(&later.directory),
                    shorten(&earlier.name),
                    shorten(&later.name)
                ),
            ));
        }
    }
    for (path, text) in clashes {
        check.problem(path, text);
    }
}

/// The number of distinct repository names, counted up to one past the maximum (enough to
/// refuse, and bounded however many repositories a template has).
fn distinct_repository_names(repositories: &[RepositoryUse]) -> usize {
    let mut names: Vec<&str> = Vec::new();
    for repository in repositories {
        if names.len() > MAX_REPOSITORIES {
            break;
        }
        if !names.contains(&repository.name.as_str()) {
            names.push(&repository.name);
        }
    }
    names.len()
}

/// The string field `field` of `value`; empty when absent or not a string.
pub(crate) fn text<'a>(value: &'a Value, field: &str) -> &'a str {
    value.get(field).and_then(Value::as_str).unwrap_or_default()
}

fn list<'a>(value: &'a Value, field: &str) -> &'a [Value] {
    value
        .get(field)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The storage of a checked template.
pub fn storage_use(namespace: &str, backends: Vec<Backend>, repositories: Vec<RepositoryUse>) -> StorageUse {
    StorageUse {
        namespace: namespace.to_string(),
        backends,
        repositories,
    }
}

/// The template's fields that are not the BackupConfiguration's: where it goes, and what
/// happens on the blueprint's deletion.
pub const CONSUMED_FIELDS: [&str; 2] = ["namespace", "deletionPolicy"];

/// The template map without its sessions, and its sessions (each may be absent).
pub fn split(template: &Map<String, Value>) -> (Map<String, Value>, &[Value]) {
    // Field by field: the sessions (thousands, in a hostile blueprint) are never copied.
    let mut rest = Map::new();
    for (field, value) in template {
        if field != "sessions" {
            rest.insert(field.clone(), value.clone());
        }
    }
    (rest, list_of(template.get("sessions")))
}

fn list_of(value: Option<&Value>) -> &[Value] {
    value.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::render;
    use serde_json::json;

    fn checked(backends: Value, sessions: Value) -> Checked {
        let sessions: Vec<Value> = sessions.as_array().unwrap().clone();
        let views: Vec<Session> = sessions
            .iter()
            .enumerate()
            .map(|(index, value)| Session { index, value })
            .collect();
        check("backup/gcs", backends.as_array().unwrap(), &views, "backup")
    }

    /// A session KubeStash's webhook accepts; `fields` replace its fields.
    fn session(fields: Value) -> Value {
        let mut session = json!({
            "name": "daily",
            "scheduler": {"schedule": "0 2 * * *", "jobTemplate": {}},
            "addon": {"name": "workload-addon", "tasks": [{"name": "logical-backup"}]},
            "repositories": [{"name": "repo", "backend": "gcs", "directory": "/a"}],
        });
        for (key, value) in fields.as_object().unwrap() {
            session[key] = value.clone();
        }
        session
    }

    #[test]
    fn a_valid_template_gives_its_storage_and_schedules() {
        let found = checked(
            json!([{"name": "gcs", "storageRef": {"name": "s"}, "retentionPolicy": {"name": "r", "namespace": "keep"}}]),
            json!([session(json!({}))]),
        );
        assert!(found.problems.is_empty(), "{:?}", render(&found.problems));
        assert_eq!(found.schedules.len(), 1);
        let backend = &found.backends[0];
        assert_eq!(backend.storage.as_ref().unwrap().to_string(), "backup/s");
        assert_eq!(backend.retention.as_ref().unwrap().to_string(), "keep/r");
        assert_eq!(found.repositories[0].directory, "/a");
    }

    #[test]
    fn every_webhook_rule_names_the_field_and_its_fix() {
        let found = checked(
            json!([{"name": "gcs", "storageRef": {"name": "s"}}, {"name": "gcs"}, {"name": "x", "storageRef": {"name": "Bad_Name"}}]),
            json!([
                session(json!({"name": ""})),
                session(json!({"scheduler": null, "addon": null})),
                session(json!({"name": "daily", "scheduler": {"schedule": "every day"},
                               "addon": {"name": "", "tasks": [{"name": ""}]}})),
                session(
                    json!({"name": "weekly", "scheduler": {"schedule": ""}, "addon": {"name": "a", "tasks": []},
                               "repositories": []})
                ),
                session(json!({"name": "Monthly", "repositories": [
                    {"name": "r1", "backend": "nowhere", "directory": ""},
                    {"name": "r1", "backend": "gcs", "directory": "/b"},
                    {"name": "r2", "backend": "gcs", "directory": "/b"},
                ]})),
            ]),
        );
        assert_eq!(
            render(&found.problems),
            [
                "BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.backends[1].name: 'gcs' is the name of an earlier \
                 backend (KubeStash refuses duplicate backend names); give each backend its own name",
                "BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.backends[1].storageRef: is missing (KubeStash \
                 refuses a backend without a storage reference); name the BackupStorage of backend 'gcs'",
                "BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.backends[2].storageRef.name: 'Bad_Name' is not an \
                 object name (lower-case letters, digits and '-', starting and ending with a letter or digit); fix the blueprint \
                 or the variable that gives it",
                "BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.sessions[0].name: is empty (KubeStash refuses a \
                 session without a name); name the session",
                "BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.sessions[1].scheduler: is missing (KubeStash \
                 refuses a session without a scheduler); add scheduler.schedule and scheduler.jobTemplate",
                "BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.sessions[1].addon: is missing (KubeStash refuses \
                 a session without addon info); add addon.name and addon.tasks",
                "BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.sessions[2].name: 'daily' is the name of an \
                 earlier session (KubeStash refuses duplicate session names); give each session its own name",
                "BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.sessions[2].scheduler.schedule: 'every day' is \
                 not a valid cron schedule: expected 5 fields (minute hour day-of-month month day-of-week), found 2; \
                 KubeStash does not check it, and the session's CronJob would fail later",
                "BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.sessions[2].addon.name: is empty (KubeStash \
                 refuses it); name the Addon, e.g. workload-addon or postgres-addon",
                "BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.sessions[2].addon.tasks[0].name: is empty \
                 (KubeStash refuses a task without a name); name the addon task",
                "BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.sessions[3].scheduler.schedule: is empty (the \
                 BackupConfiguration's CRD requires it); set a cron schedule such as '0 2 * * *'",
                "BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.sessions[3].addon.tasks: is empty (KubeStash \
                 refuses a session without tasks); add the addon's backup task, e.g. logical-backup",
                "BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.sessions[3].repositories: is empty (KubeStash \
                 refuses a session without repositories); add a repository with name, backend and directory",
                "BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.sessions[4].name: 'Monthly' is not a session name \
                 (lower-case letters, digits and '-', starting and ending with a letter or digit); fix the blueprint or the \
                 variable that gives it",
                "BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.sessions[4].repositories[0].backend: 'nowhere' is \
                 not one of the backends ('gcs', 'gcs', 'x'); KubeStash refuses it: name one of them",
                "BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.sessions[4].repositories[0].directory: is empty \
                 (KubeStash refuses a repository without a directory); set the directory in the backend to back up into, e.g. \
                 /<namespace>/<target>",
                "BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.sessions[4].repositories[1].name: 'r1' is the \
                 name of an earlier repository of this session (KubeStash refuses it); give each repository its own name",
                "BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.sessions[4].repositories[2].directory: '/b' is \
                 already the directory of repository 'r1' (KubeStash refuses it: two repositories would write into one \
                 directory); give repository 'r2' its own directory",
            ]
        );
    }

    #[test]
    fn empty_backends_are_left_to_the_default_with_a_warning() {
        let found = checked(
            json!([]),
            json!([session(json!({"repositories": [{"name": "r", "directory": "/a"}]}))]),
        );
        assert!(found.problems.is_empty(), "{:?}", render(&found.problems));
        assert_eq!(
            render(&found.warnings),
            [
                "BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.backends: is empty: KubeStash uses the default \
                 BackupStorage and RetentionPolicy for namespace 'backup', which this policy does not check; name the backends \
                 to have them checked"
            ]
        );
        assert_eq!(
            render(&checked(json!([]), json!([])).problems),
            [
                "BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.sessions: no session is left to back up \
                 (KubeStash refuses it: sessions can not be empty); add a session, or choose one of the blueprint's with \
                 blueprint.kubestash.com/session-names"
            ]
        );
    }

    #[test]
    fn counts_over_the_limits_are_refused_before_anything_else() {
        let backends = json!((0..9).map(|i| json!({"name": format!("b{i}")})).collect::<Vec<_>>());
        let repositories: Vec<Value> = (0..33).map(|i| json!({"name": format!("r{i}")})).collect();
        let few = vec![session(json!({"repositories": repositories}))];
        assert_eq!(
            render(&limits("backup/gcs", Some(&backends), &few, &[0])),
            [
                "BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.backends: has 9 backends; at most 8 are allowed \
                 for one target",
                "BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.sessions[0].repositories: has 33 repositories; \
                 at most 32 are allowed for one target",
            ]
        );
        let many = vec![session(json!({})); 33];
        assert_eq!(
            render(&limits("backup/gcs", None, &many, &[0])),
            [
                "BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.sessions: has 33 sessions; at most 32 are allowed \
              for one target"
            ]
        );
        assert!(limits("backup/gcs", Some(&json!([])), &few[..0], &[]).is_empty());
    }
}
