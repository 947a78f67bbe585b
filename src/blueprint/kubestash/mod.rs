//! KubeStash's side of a blueprint: the namespaced BackupBlueprint's template resolved with the
//! target's `variables.kubestash.com/*`, checked as KubeStash's webhook would, and the one
//! BackupConfiguration it generates.

pub mod objects;
pub mod template;
pub mod usage;

use serde_json::{Map, Value};

use crate::blueprint::objects::{Generated, GeneratedObject, Storage};
use crate::blueprint::substitution::{self, SubstitutionError, Variables};
use crate::report::{Problem, shorten};
use crate::target::Target;
use crate::target::annotations::{KUBESTASH_SESSION_NAMES, KUBESTASH_VARIABLES_PREFIX};
use crate::target::kubestash::{BlueprintRef, KubeStashAnnotations};
use template::{SessionSchedule, TEMPLATE};

pub const CORE_API_VERSION: &str = "core.kubestash.com/v1alpha1";
pub const STORAGE_API_VERSION: &str = "storage.kubestash.com/v1alpha1";
pub const BACKUP_CONFIGURATION_KIND: &str = "BackupConfiguration";
pub const BACKUP_STORAGE_KIND: &str = "BackupStorage";
pub const RETENTION_POLICY_KIND: &str = "RetentionPolicy";
pub const REPOSITORY_KIND: &str = "Repository";

/// An object referred to by name, its namespace defaulted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectName {
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for ObjectName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", shorten(&self.namespace), shorten(&self.name))
    }
}

/// A backend of the BackupConfiguration and its blueprint path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    pub name: String,
    pub path: String,
    pub storage: Option<ObjectName>,
    pub retention: Option<ObjectName>,
}

/// A repository the BackupConfiguration controller will create, and its blueprint path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryUse {
    pub name: String,
    pub backend: String,
    pub directory: String,
    pub path: String,
    pub session: String,
}

/// What the storage and collision checks look up for a KubeStash BackupConfiguration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageUse {
    /// The BackupConfiguration's namespace: its references default to it, and its usage is checked.
    pub namespace: String,
    pub backends: Vec<Backend>,
    pub repositories: Vec<RepositoryUse>,
}

impl StorageUse {
    /// The BackupStorage of the backend `name` (the default backend's when `name` is empty).
    pub fn storage_of(&self, backend: &str) -> Option<&ObjectName> {
        let found = self.backends.iter().find(|b| b.name == backend);
        found.and_then(|b| b.storage.as_ref())
    }
}

/// A resolved blueprint: the BackupConfiguration, and what guardrails and warnings need.
pub struct Resolution {
    pub generated: Generated,
    pub schedules: Vec<SessionSchedule>,
    pub warnings: Vec<Problem>,
}

/// Resolves `blueprint` (the BackupBlueprint object) for `target`. The problems name the
/// blueprint field, the annotation, or the object.
pub fn resolve(
    target: &Target,
    reference: &BlueprintRef,
    blueprint: &Value,
    request: &KubeStashAnnotations,
    variables: &Variables,
) -> Result<Resolution, Vec<Problem>> {
    let shown = reference.reference();
    let Some(template) = blueprint
        .get("spec")
        .and_then(|s| s.get("backupConfigurationTemplate"))
        .and_then(Value::as_object)
    else {
        return Err(vec![Problem::blueprint(
            &shown,
            format!("has no {TEMPLATE}: KubeStash generates nothing from it; add the template"),
        )]);
    };
    let (rest, sessions) = template::split(template);
    let chosen = choose_sessions(sessions, request.session_names.as_deref()).map_err(|p| vec![p])?;
    let over = template::limits(&shown, template.get("backends"), sessions, &chosen);
    if !over.is_empty() {
        return Err(over);
    }
    // Sessions not chosen are not resolved: a variable used only there is not needed.
    let mut errors = Vec::new();
    let rest = substituted(&Value::Object(rest), variables, TEMPLATE, &mut errors);
    let mut resolved: Vec<(usize, Value)> = Vec::new();
    for index in chosen {
        let path = format!("{TEMPLATE}.sessions[{index}]");
        if let Some(value) = substituted(&sessions[index], variables, &path, &mut errors) {
            resolved.push((index, value));
        }
    }
    if !errors.is_empty() {
        let mut problems = Vec::new();
        for error in &errors {
            problems.extend(substitution_problem(&shown, error, request));
        }
        return Err(problems);
    }
    let rest = match rest {
        Some(Value::Object(rest)) => rest,
        _ => Map::new(),
    };
    generate(target, reference, rest, resolved)
}

fn generate(
    target: &Target,
    reference: &BlueprintRef,
    rest: Map<String, Value>,
    sessions: Vec<(usize, Value)>,
) -> Result<Resolution, Vec<Problem>> {
    let shown = reference.reference();
    let namespace = match rest.get("namespace").and_then(Value::as_str).filter(|n| !n.is_empty()) {
        Some(namespace) if !crate::target::naming::is_dns1123_label(namespace) => {
            return Err(vec![Problem::blueprint_field(
                &shown,
                format!("{TEMPLATE}.namespace"),
                format!(
                    "'{}' is not a namespace name; fix the blueprint or the variable that gives it",
                    shorten(namespace)
                ),
            )]);
        }
        Some(namespace) => namespace.to_string(),
        None => reference.namespace.clone(),
    };
    let backends = rest
        .get("backends")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut views: Vec<template::Session> = Vec::new();
    for (index, value) in &sessions {
        views.push(template::Session { index: *index, value });
    }
    let checked = template::check(&shown, backends, &views, &namespace);
    let name = objects::name(target, &namespace).map_err(|why| vec![Problem::blueprint(&shown, why)]);
    let mut problems = checked.problems;
    let name = match name {
        Ok(name) => Some(name),
        Err(found) => {
            problems.extend(found);
            None
        }
    };
    let (true, Some(name)) = (problems.is_empty(), name) else {
        return Err(problems);
    };
    let storage = template::storage_use(&namespace, checked.backends, checked.repositories);
    let mut values: Vec<Value> = Vec::new();
    for (_, value) in sessions {
        values.push(value);
    }
    let sessions = values;
    let value = objects::backup_configuration(target, reference, &name, &namespace, rest, sessions);
    Ok(Resolution {
        generated: Generated {
            blueprint: shown,
            objects: vec![GeneratedObject {
                api_version: CORE_API_VERSION,
                kind: BACKUP_CONFIGURATION_KIND,
                namespace,
                name,
                value,
            }],
            storage: Storage::KubeStash(storage),
        },
        schedules: checked.schedules,
        warnings: checked.warnings,
    })
}

/// The indices of the sessions `names` chooses, in the blueprint's order; all when `None`. A
/// name the blueprint does not have is a problem that lists the ones it has.
fn choose_sessions(sessions: &[Value], names: Option<&[String]>) -> Result<Vec<usize>, Problem> {
    let name_of = |session| template::text(session, "name");
    let mut chosen = Vec::new();
    for (index, session) in sessions.iter().enumerate() {
        if names.is_none_or(|names| names.iter().any(|n| n == name_of(session))) {
            chosen.push(index);
        }
    }
    let Some(names) = names else {
        return Ok(chosen);
    };
    let mut unknown = String::new();
    let mut count = 0;
    for name in names {
        if !sessions.iter().any(|s| name_of(s) == name) {
            count += 1;
            push_quoted(&mut unknown, name);
        }
    }
    if count > 0 {
        let mut has = String::new();
        for session in sessions.iter().take(MAX_LISTED) {
            push_quoted(&mut has, name_of(session));
        }
        if has.is_empty() {
            has.push_str("none");
        }
        return Err(Problem::annotation(
            KUBESTASH_SESSION_NAMES,
            format!(
                "{unknown} {} not a session of the blueprint, which has {has}; list only those",
                if count == 1 { "is" } else { "are" },
            ),
        ));
    }
    Ok(chosen)
}

/// Appends `'name'` to a `, `-separated list.
pub(crate) fn push_quoted(list: &mut String, name: &str) {
    if !list.is_empty() {
        list.push_str(", ");
    }
    list.push('\'');
    list.push_str(&shorten(name));
    list.push('\'');
}

/// At most this many sessions are listed in a message.
const MAX_LISTED: usize = 10;

fn substituted(value: &Value, variables: &Variables, path: &str, errors: &mut Vec<SubstitutionError>) -> Option<Value> {
    substitution::substitute_tree(value, variables, path)
        .map_err(|found| errors.extend(found))
        .ok()
}

/// The problem for a substitution error; `None` for a variable whose annotation was already
/// reported.
fn substitution_problem(blueprint: &str, error: &SubstitutionError, request: &KubeStashAnnotations) -> Option<Problem> {
    let hint = match (error, error.fix()) {
        (_, Some(fix)) => fix.to_string(),
        (SubstitutionError::Undefined { name, .. }, None) if !request.rejected_variables.contains(name) => {
            let name = shorten(name);
            format!(
                "; define it on the target with the annotation {KUBESTASH_VARIABLES_PREFIX}{name} (KubeStash has no \
                 built-in variables), or give it a default in the blueprint (${{{name}:=value}})"
            )
        }
        _ => return None,
    };
    Some(Problem::blueprint_field(
        blueprint,
        error.path(),
        format!("{error}{hint}"),
    ))
}
