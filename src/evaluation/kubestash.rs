//! Step, KubeStash's side: read the annotations (the blueprint, sessions, variables, the pinned
//! ones), then look the namespaced blueprint up, check its usage policy and resolve it.

use super::{Context, Findings, access, namespace};
use crate::blueprint::kubestash::usage::{AllowedNamespaces, Usage};
use crate::blueprint::kubestash::{self, Resolution};
use crate::blueprint::objects::Generated;
use crate::lookups::LookupError;
use crate::report::{Problem, shorten};
use crate::support::string_map::StringMap;
use crate::target::annotations::KUBESTASH_VARIABLES_PREFIX;
use crate::target::generation::Trigger;
use crate::target::kubestash::{self as annotations, BlueprintRef, KubeStashAnnotations};

/// What the KubeStash annotations generate, and the annotations the policy adds (pinned
/// variables the owner did not write).
pub fn generated(
    context: &Context,
    all: &StringMap,
    trigger: &Trigger,
    findings: &mut Findings,
) -> (Vec<Generated>, StringMap) {
    let target = context.target;
    if !target.kubestash_watches() {
        findings.warning(Problem::object(format!(
            "{} has KubeStash's auto-backup annotations, but KubeStash does not watch {} objects (only apps/v1 \
             Deployments, StatefulSets and DaemonSets, PersistentVolumeClaims and KubeDB databases): nothing will be \
             backed up; annotate the workload that owns it",
            target.display(),
            shorten(&target.admitted_kind)
        )));
        return (Vec::new(), StringMap::new());
    }
    if let Trigger::Incomplete { missing, .. } = trigger {
        for key in missing {
            findings.problem(Problem::object(annotations::incomplete_trigger_problem(key)));
        }
    }
    let (mut request, problems) = annotations::parse(all);
    findings.problems(problems);
    super::check_name(context, findings);
    let added = pin_variables(context, all, &mut request, findings);
    check_values(context, &request, &added, findings);
    // The annotations alone make the object invalid: nothing is looked up.
    let Some(reference) = request.blueprint.clone().filter(|_| !findings.has_problems()) else {
        return (Vec::new(), added);
    };
    let shown = reference.reference();
    if access::allowed(context, std::slice::from_ref(&shown), findings).is_empty() {
        return (Vec::new(), added);
    }
    let generated = match resolve(context, &reference, &request, findings) {
        Some(generated) => vec![generated],
        None => Vec::new(),
    };
    (generated, added)
}

/// `kubestash.pinnedVariables`: a pinned variable takes the target's fact. Absent, the policy
/// adds its annotation (KubeStash reads it there); present with another value, it is a problem.
fn pin_variables(
    context: &Context,
    all: &StringMap,
    request: &mut KubeStashAnnotations,
    findings: &mut Findings,
) -> StringMap {
    let mut added = StringMap::new();
    for (variable, fact) in &context.settings.kubestash.pinned_variables {
        let Some(value) = fact.of(context.target) else {
            continue;
        };
        let key = format!("{KUBESTASH_VARIABLES_PREFIX}{variable}");
        match all.get(&key) {
            Some(written) if written == value => {}
            Some(written) => findings.problem(Problem::annotation(
                &key,
                format!(
                    "is '{}', but the policy pins {variable} to the target's {} '{}' (setting kubestash.pinnedVariables); \
                     remove the annotation, the policy sets it",
                    shorten(written),
                    fact.name(),
                    shorten(&value)
                ),
            )),
            None => {
                request.variables.insert(variable.as_str(), value.as_str());
                added.insert(key, value);
            }
        }
    }
    added
}

/// `kubestash.valuePattern` for every value the owner wrote.
fn check_values(context: &Context, request: &KubeStashAnnotations, added: &StringMap, findings: &mut Findings) {
    let Some((pattern, regex)) = &context.settings.kubestash.value_pattern else {
        return;
    };
    for (variable, value) in request.variables.iter() {
        let key = format!("{KUBESTASH_VARIABLES_PREFIX}{variable}");
        if added.contains_key(&key) || regex.is_match(value) {
            continue;
        }
        findings.problem(Problem::annotation(
            key,
            format!(
                "'{}' does not match the pattern '{}' that the policy setting kubestash.valuePattern requires of every \
                 variable value; change the value",
                shorten(value),
                shorten(pattern)
            ),
        ));
    }
}

/// Looks the blueprint up, checks its usage policy for the target's namespace and resolves it.
fn resolve(
    context: &Context,
    reference: &BlueprintRef,
    request: &KubeStashAnnotations,
    findings: &mut Findings,
) -> Option<Generated> {
    let shown = reference.reference();
    let blueprint = match context
        .lookups
        .kubestash_blueprint(&reference.namespace, &reference.name)
    {
        Ok(blueprint) => blueprint,
        Err(LookupError::NotFound) => {
            findings.problem(Problem::blueprint(
                &shown,
                "not found; check blueprint.kubestash.com/name and blueprint.kubestash.com/namespace",
            ));
            return None;
        }
        Err(LookupError::Failed(why)) => {
            findings.lookup_failed(format!("BackupBlueprint '{shown}'"), &why);
            return None;
        }
    };
    if !usage_allowed(context, &shown, &reference.namespace, &blueprint, findings) {
        return None;
    }
    let target = context.target;
    match kubestash::resolve(target, reference, &blueprint, request, &request.variables) {
        Ok(Resolution {
            generated,
            schedules,
            warnings,
        }) => {
            findings.warnings(warnings);
            let guardrails = &context.settings.guardrails;
            let mut fine = true;
            for s in &schedules {
                if let Some(why) = guardrails.schedule_problem(&s.text, &s.parsed) {
                    findings.problem(Problem::blueprint_field(&shown, &s.path, why));
                    fine = false;
                }
            }
            fine.then_some(generated)
        }
        Err(problems) => {
            findings.problems(problems);
            None
        }
    }
}

/// The blueprint's `usagePolicy` for the target's namespace.
fn usage_allowed(
    context: &Context,
    shown: &str,
    own_namespace: &str,
    blueprint: &serde_json::Value,
    findings: &mut Findings,
) -> bool {
    let target = context.target;
    let policy = match AllowedNamespaces::of(blueprint) {
        Ok(policy) => policy,
        Err(why) => {
            findings.problem(Problem::blueprint(shown, why));
            return false;
        }
    };
    match policy.decide(own_namespace, &target.namespace, || namespace::labels(context)) {
        Usage::Allowed => true,
        Usage::Denied(what) => {
            findings.problem(Problem::blueprint(
                shown,
                format!(
                    "may not be used from namespace '{}': its usagePolicy {what}; use a blueprint this namespace may \
                     use, or ask the blueprint's owner to allow it",
                    shorten(&target.namespace)
                ),
            ));
            false
        }
        Usage::Unknown(why) => {
            findings.lookup_failed(namespace::lookup_name(context), &why);
            false
        }
    }
}
