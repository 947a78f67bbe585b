//! The pipeline, one step per file (`policy`: screen, evaluate, decide); it alone asks the cluster.
//!
//! One evaluation of an auto-backup target: the fixed context, the findings, and
//! the steps, in an order that makes no lookup for what is already known to be wrong.

mod access;
mod blueprints;
mod collisions;
mod context;
pub mod defaulting;
pub mod drift;
mod findings;
mod kubestash;
mod namespace;
pub mod near_miss;
pub mod policy;
pub mod required;
mod storage;

use serde_json::Value;

pub use context::Context;
pub use findings::{Findings, Verdict};

use crate::blueprint::emission::GeneratedObjects;
use crate::blueprint::objects::Generated;
use crate::blueprint::variables;
use crate::report::Problem;
use crate::schedule::CronSchedule;
use crate::support::string_map::StringMap;
use crate::target::annotations::{self, SCHEDULE};
use crate::target::checks;
use crate::target::generation::{self, Generation, Trigger};

/// What the evaluation of a target generates, and the annotations the policy adds to it.
#[derive(Default)]
pub struct Evaluated {
    pub generated: GeneratedObjects,
    pub added: StringMap,
}

/// Checks the annotations of the target, resolves its allowed blueprints (of the generation its
/// trigger names) and checks the result. Returns the objects generated.
pub fn evaluate_target(
    context: &Context,
    annotations: &StringMap,
    trigger: &Trigger,
    spec: Option<&Value>,
    findings: &mut Findings,
) -> Evaluated {
    let (items, added) = match trigger.generation() {
        Some(Generation::Stash) => (stash(context, annotations, trigger, spec, findings), StringMap::new()),
        Some(Generation::KubeStash) => kubestash::generated(context, annotations, trigger, findings),
        None => {
            if matches!(trigger, Trigger::Both) {
                findings.problem(Problem::object(generation::both_triggers_problem()));
            }
            return Evaluated::default();
        }
    };
    let generated = GeneratedObjects::new(items);
    storage::check(context, &generated.items, findings);
    collisions::check(context, &generated, findings);
    Evaluated { generated, added }
}

/// Generated objects are named after the target.
fn check_name(context: &Context, findings: &mut Findings) {
    if context.target.name.is_empty() {
        findings.problem(Problem::object(
            "metadata.name is empty: generated objects are named after the target, so set a name instead of generateName",
        ));
    }
}

/// Stash's side: the annotations, the built-in and custom variables, the blueprints resolved.
fn stash(
    context: &Context,
    annotations: &StringMap,
    trigger: &Trigger,
    spec: Option<&Value>,
    findings: &mut Findings,
) -> Vec<Generated> {
    let target = context.target;
    if let Trigger::Incomplete { missing, .. } = trigger {
        findings.problem(Problem::object(annotations::incomplete_trigger_problem(missing)));
    }
    let (request, problems) = annotations::parse(annotations, target.is_workload());
    findings.problems(problems);
    check_name(context, findings);
    match checks::annotation_schedule(&request) {
        Err(invalid) => findings.problem(invalid),
        Ok(Some((schedule, parsed))) => findings.problems(annotation_schedule_guardrail(context, schedule, &parsed)),
        Ok(None) => {}
    }
    if target.is_workload() && matches!(trigger, Trigger::Present(Generation::Stash)) {
        findings.problems(checks::workload_volumes(&target.kind, spec, &request));
    }
    let (custom, problems) = variables::custom(&request.custom_variables, &context.settings.custom_variables);
    findings.problems(problems);
    let mut vars = variables::builtin(target);
    vars.extend(custom);
    if request.blueprints.len() > 1 && target.uses_sidecar() {
        findings.warning(Problem::object(format!(
            "{} backs up with several BackupBlueprints: Stash injects one sidecar per BackupConfiguration into a {} \
             and they can conflict (stashed/stash#1139); prefer one blueprint per workload",
            target.display(),
            target.kind
        )));
    }
    let allowed = access::allowed(context, &request.blueprints, findings);
    blueprints::resolve_all(context, &allowed, &request, &vars, findings)
}

/// `guardrails.minimumFrequency` for the schedule annotation, which replaces the schedule of
/// every blueprint of the target.
fn annotation_schedule_guardrail(context: &Context, schedule: &str, parsed: &CronSchedule) -> Option<Problem> {
    let why = context.settings.guardrails.schedule_problem(schedule, parsed)?;
    Some(Problem::annotation(SCHEDULE, why))
}
