//! Step for a target without the trigger: `requireBackup` rejects it unless it
//! opted out, and says how to comply.

use serde_json::Value;

use super::{Context, Findings, namespace};
use crate::report::{Headline, Problem, list};
use crate::target::annotations::{
    BACKUP_BLUEPRINT, KUBESTASH_BLUEPRINT_NAME, KUBESTASH_BLUEPRINT_NAMESPACE, SKIP, SKIP_REASON, SKIP_UNTIL,
    TARGET_PATHS, VOLUME_MOUNTS,
};
use crate::target::inference::{infer_storage, why_none};
use crate::target::opt_out::OptOut;

/// Why a `defaultBlueprints` rule that matched did not give the target a blueprint.
pub struct NotDefaulted {
    pub rule: usize,
    pub blueprint: String,
    pub why: String,
}

pub fn check(
    context: &Context,
    opt_out: &OptOut,
    not_defaulted: Option<NotDefaulted>,
    spec: Option<&Value>,
    findings: &mut Findings,
) {
    let target = context.target;
    let Some(rule) = context.settings.require_backup.as_ref() else {
        return;
    };
    if !rule.names_kind(&target.admitted_kind) {
        return;
    }
    match namespace::matches(context, &rule.namespaces) {
        Ok(true) => {}
        Ok(false) => return,
        Err(why) => return findings.lookup_failed(namespace::lookup_name(context), &why),
    }
    match (opt_out, rule.allow_opt_out) {
        (OptOut::None, _) => {}
        (OptOut::Valid { .. }, true) => {
            if let Some(warning) = opt_out.ending_soon(&target.display()) {
                findings.warning(warning);
            }
            return;
        }
        (_, false) => findings.problem(Problem::annotation(
            SKIP,
            "opting out is not allowed here (requireBackup.allowOptOut is false)",
        )),
        (OptOut::Expired(date), true) => findings.problem(Problem::annotation(
            SKIP_UNTIL,
            format!("the opt-out ended on {date}, so it no longer counts; configure a backup or extend the opt-out"),
        )),
        (OptOut::Invalid(problems), true) => findings.problems(problems.iter().cloned()),
    }
    findings.headline(Headline::BackupRequired);
    findings.problem(how_to_comply(context, spec, not_defaulted));
    match usable_blueprints(context) {
        Ok(Some(line)) => findings.problem(line),
        Ok(None) => {}
        Err(why) => findings.lookup_failed(namespace::lookup_name(context), &why),
    }
    if rule.allow_opt_out {
        findings.problem(Problem::object(format!(
            "or opt out: {SKIP}: \"true\" with {SKIP_REASON}: <why it needs no backup> \
             (and optionally {SKIP_UNTIL}: YYYY-MM-DD)"
        )));
    }
}

/// The annotations that would make the target compliant.
fn how_to_comply(context: &Context, spec: Option<&Value>, not_defaulted: Option<NotDefaulted>) -> Problem {
    let target = context.target;
    let intro = format!(
        "requireBackup applies to a {} in namespace '{}': add",
        target.admitted_kind, target.namespace
    );
    let (stash, kubestash) = context.settings.generations_named();
    let kubestash_line = format!(
        "the annotations {KUBESTASH_BLUEPRINT_NAME}: <blueprint> and {KUBESTASH_BLUEPRINT_NAMESPACE}: <its namespace> \
         (KubeStash)"
    );
    if kubestash && !stash {
        return Problem::object(format!("{intro} {kubestash_line}"));
    }
    // Rules that name no blueprint at all: either generation's trigger.
    let either = match kubestash || !stash {
        true => format!(" (Stash), or {kubestash_line}"),
        false => String::new(),
    };
    if !target.is_workload() {
        return Problem::object(format!(
            "{intro} the annotation {BACKUP_BLUEPRINT}: <blueprint>{either}"
        ));
    }
    let no_storage = |why: String| {
        Problem::object(format!(
            "{intro} the annotations {BACKUP_BLUEPRINT}, {TARGET_PATHS} and {VOLUME_MOUNTS} for the data to back up; \
             none could be inferred: {why}"
        ))
    };
    // A default that matched already found no storage to infer: not inferred again.
    if let Some(NotDefaulted { rule, blueprint, why }) = not_defaulted {
        return no_storage(format!(
            "defaultBlueprints[{rule}] would give it BackupBlueprint '{blueprint}', but {why}"
        ));
    }
    let inferred = infer_storage(&target.kind, spec);
    if inferred.is_empty() {
        return no_storage(why_none(&target.kind));
    }
    Problem::object(format!(
        "{intro} the annotations {BACKUP_BLUEPRINT}: <blueprint>, {TARGET_PATHS}: {}, {VOLUME_MOUNTS}: {} \
         (inferred from its persistent volumes){either}",
        inferred.target_paths_value(),
        inferred.volume_mounts_value()
    ))
}

/// The blueprints the target's namespace may use, when `blueprintAccess` has rules.
fn usable_blueprints(context: &Context) -> Result<Option<Problem>, String> {
    let namespace = &context.target.namespace;
    let mut labels = || namespace::labels(context);
    let Some(usable) = context.settings.blueprint_access.usable_in(namespace, &mut labels)? else {
        return Ok(None);
    };
    let line = match usable.is_empty() {
        true => format!(
            "no blueprint may be used in namespace '{namespace}' (blueprintAccess); ask the cluster administrator"
        ),
        false => format!(
            "blueprints namespace '{namespace}' may use (blueprintAccess): {}",
            list(&usable)
        ),
    };
    Ok(Some(Problem::object(line)))
}
