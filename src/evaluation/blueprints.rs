//! Step: look each allowed blueprint up, resolve its variables and build the objects it
//! generates.

use serde_json::{Map, Value};

use super::{Context, Findings};
use crate::blueprint::objects::{self, Generated, ObjectRef};
use crate::blueprint::substitution::{self, SubstitutionError, Variables};
use crate::blueprint::variables::BUILTIN_NAMES;
use crate::lookups::LookupError;
use crate::report::{Problem, shorten};
use crate::schedule::CronSchedule;
use crate::target::Target;
use crate::target::annotations::BackupAnnotations;
use crate::target::checks::{self, ScheduleSource};
use crate::target::naming::object_names;

/// The objects generated from each blueprint that resolved without problems.
pub fn resolve_all(
    context: &Context,
    blueprints: &[&str],
    request: &BackupAnnotations,
    vars: &Variables,
    findings: &mut Findings,
) -> Vec<Generated> {
    let mut generated: Vec<Generated> = Vec::new();
    for name in blueprints {
        generated.extend(resolve(context, name, request, vars, findings));
    }
    report_duplicates(&generated, findings);
    generated
}

fn resolve(
    context: &Context,
    name: &str,
    request: &BackupAnnotations,
    vars: &Variables,
    findings: &mut Findings,
) -> Option<Generated> {
    let blueprint = match context.lookups.backup_blueprint(name) {
        Ok(blueprint) => blueprint,
        Err(LookupError::NotFound) => {
            findings.problem(Problem::blueprint(name, "not found"));
            return None;
        }
        Err(LookupError::Failed(why)) => {
            findings.lookup_failed(format!("BackupBlueprint '{name}'"), &why);
            return None;
        }
    };
    let Some(spec) = blueprint.get("spec").filter(|s| s.is_object()) else {
        findings.problem(Problem::blueprint(name, "has no spec"));
        return None;
    };
    let resolved = match substitution::substitute_tree(spec, vars, "spec") {
        Ok(Value::Object(resolved)) => resolved,
        Ok(_) => return None,
        Err(errors) => {
            for e in &errors {
                if let Some(problem) = substitution_problem(context.target, name, e, request) {
                    findings.problem(problem);
                }
            }
            return None;
        }
    };
    generate(context, name, request, &resolved, findings)
}

/// The problem for a substitution error; `None` when the variable is a custom one already
/// reported as rejected.
fn substitution_problem(
    target: &Target,
    blueprint: &str,
    error: &SubstitutionError,
    request: &BackupAnnotations,
) -> Option<Problem> {
    let hint = match (error, error.fix()) {
        (_, Some(fix)) => fix.to_string(),
        (SubstitutionError::Undefined { name, .. }, None) if !request.custom_variables.contains_key(name) => {
            undefined_variable_hint(name, target)
        }
        _ => return None,
    };
    Some(Problem::blueprint_field(
        blueprint,
        error.path(),
        format!("{error}{hint}"),
    ))
}

fn undefined_variable_hint(name: &str, target: &Target) -> String {
    if name.starts_with("TARGET_APP_") && !target.is_database() {
        format!(
            "; {name} is defined only for AppBindings and KubeDB databases, not for a {}",
            target.kind
        )
    } else if name.starts_with("TARGET_") {
        format!(
            "; it is not a blueprint variable (built in: {} and, for databases, {})",
            BUILTIN_NAMES.common.join(", "),
            BUILTIN_NAMES.databases.join(", ")
        )
    } else {
        let name = shorten(name);
        format!(
            "; give it a default (${{{name}:=value}}) or define it with the annotation vars.autobackup.kubewarden.io/{name} \
             (the policy settings must allow it)"
        )
    }
}

fn generate(
    context: &Context,
    blueprint: &str,
    request: &BackupAnnotations,
    spec: &Map<String, Value>,
    findings: &mut Findings,
) -> Option<Generated> {
    let target = context.target;
    let text_of = |field: &str| spec.get(field).and_then(Value::as_str).filter(|s| !s.is_empty());
    let bc_namespace = text_of("backupNamespace").unwrap_or(&target.namespace);
    let repo_namespace = text_of("repoNamespace").unwrap_or(bc_namespace);
    let several = request.blueprints.len() > 1;
    let names = object_names(target, blueprint, several, bc_namespace, repo_namespace);
    let schedule = match (&request.schedule, text_of("schedule")) {
        (Some(annotation), _) => Some((annotation.as_str(), ScheduleSource::Annotation)),
        (None, Some(from_blueprint)) => Some((from_blueprint, ScheduleSource::Blueprint(blueprint))),
        (None, None) => None,
    };
    let schedule_text = schedule.as_ref().map(|(s, _)| s.to_string()).unwrap_or_default();
    let problems = match checks::resolved(target, blueprint, spec, &names, schedule) {
        Ok(own_schedule) => guardrail_problems(
            context,
            blueprint,
            spec,
            own_schedule.as_ref().map(|p| (schedule_text.as_str(), p)),
        ),
        Err(problems) => problems,
    };
    if !problems.is_empty() {
        findings.problems(problems);
        return None;
    }
    for (long, cut) in &names.truncated {
        findings.truncated(Problem::blueprint(
            blueprint,
            format!("generates the name '{long}', longer than 63 characters: it was cut to '{cut}'"),
        ));
    }
    let storage_secret = spec
        .get("backend")
        .and_then(|b| b.get("storageSecretName"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let repository = objects::repository(target, &names, blueprint, spec);
    let bc = objects::backup_configuration(target, request, &names, blueprint, spec, &schedule_text);
    Some(Generated::stash(blueprint, &names, storage_secret, repository, bc))
}

/// `guardrails` for a resolved blueprint whose schedule and retention are valid: its own
/// schedule, as written and parsed, when the schedule annotation does not replace it (that one
/// is held to them once for all blueprints).
fn guardrail_problems(
    context: &Context,
    blueprint: &str,
    spec: &Map<String, Value>,
    own_schedule: Option<(&str, &CronSchedule)>,
) -> Vec<Problem> {
    let guardrails = &context.settings.guardrails;
    let mut problems = guardrails.retention_problems(blueprint, spec.get("retentionPolicy"));
    if let Some((schedule, parsed)) = own_schedule {
        let why = guardrails.schedule_problem(schedule, parsed);
        problems.extend(why.map(|why| Problem::blueprint_field(blueprint, "spec.schedule", why)));
    }
    problems
}

/// Two blueprints of one target must not generate the same object.
fn report_duplicates(generated: &[Generated], findings: &mut Findings) {
    // At most MAX_BLUEPRINTS × 2 objects: a list costs less in policy.wasm than a map.
    let mut seen: Vec<(ObjectRef, &str)> = Vec::new();
    for one in generated {
        for object in one.refs() {
            match seen.iter().find(|(seen, _)| *seen == object) {
                Some((_, first)) => findings.problem(Problem::object(format!(
                    "BackupBlueprints '{first}' and '{}' both generate {object}; \
                     give them different spec.backupNamespace or spec.repoNamespace, or keep one of them",
                    one.blueprint
                ))),
                None => seen.push((object, &one.blueprint)),
            }
        }
    }
}
