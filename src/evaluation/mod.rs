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
mod namespace;
pub mod near_miss;
pub mod policy;
pub mod required;
mod storage;

use serde_json::Value;

pub use context::Context;
pub use findings::{Findings, Verdict};

use crate::blueprint::emission::GeneratedObjects;
use crate::blueprint::variables;
use crate::report::Problem;
use crate::schedule::CronSchedule;
use crate::support::string_map::StringMap;
use crate::target::annotations::{self, SCHEDULE, Trigger};
use crate::target::checks;

/// Checks the annotations of the target, resolves its allowed blueprints and checks the
/// result. Returns the objects generated.
pub fn evaluate_target(
    context: &Context,
    annotations: &StringMap,
    trigger: &Trigger,
    spec: Option<&Value>,
    findings: &mut Findings,
) -> GeneratedObjects {
    let target = context.target;
    if let Trigger::Incomplete { missing } = trigger {
        findings.problem(Problem::object(annotations::incomplete_trigger_problem(missing)));
    }
    let (request, problems) = annotations::parse(annotations, target.is_workload());
    findings.problems(problems);
    if target.name.is_empty() {
        findings.problem(Problem::object(
            "metadata.name is empty: generated objects are named after the target, so set a name instead of generateName",
        ));
    }
    match checks::annotation_schedule(&request) {
        Err(invalid) => findings.problem(invalid),
        Ok(Some((schedule, parsed))) => findings.problems(annotation_schedule_guardrail(context, schedule, &parsed)),
        Ok(None) => {}
    }
    if target.is_workload() && *trigger == Trigger::Present {
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
    let generated = GeneratedObjects::new(blueprints::resolve_all(context, &allowed, &request, &vars, findings));
    storage::check_secrets(context, &generated.items, findings);
    collisions::check(context, &generated, findings);
    generated
}

/// `guardrails.minimumFrequency` for the schedule annotation, which replaces the schedule of
/// every blueprint of the target.
fn annotation_schedule_guardrail(context: &Context, schedule: &str, parsed: &CronSchedule) -> Option<Problem> {
    let why = context.settings.guardrails.schedule_problem(schedule, parsed)?;
    Some(Problem::annotation(SCHEDULE, why))
}
