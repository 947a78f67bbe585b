//! One admission request: decide whether the object is ours, evaluate it as a
//! target, and turn the verdict into a decision with the emitted objects.

use serde_json::Value;

use crate::blueprint::emission::{self, GeneratedObjects};
use crate::evaluation::defaulting::{self, Defaulting};
use crate::evaluation::drift;
use crate::evaluation::near_miss::{self, NearMisses};
use crate::evaluation::required::{self, NotDefaulted};
use crate::evaluation::{self, Context, Findings, Verdict};
use crate::lookups::{Cluster, Lookups};
use crate::report::{self, Headline, Problem};
use crate::settings::Settings;
use crate::support::civil_date::{Clock, Date, SystemClock};
use crate::support::string_map::StringMap;
use crate::target::annotations::RESOLVED;
use crate::target::generation::{self, Generation, Trigger};
use crate::target::head;
use crate::target::opt_out::{self, OptOut};
use crate::target::{self, Family, Target};

/// The parts of an admission request the policy reads.
pub struct Admission<'a> {
    pub operation: &'a str,
    /// The request namespace, used when the object does not carry one yet.
    pub namespace: &'a str,
    /// The object: only its type and metadata are read unless it is an auto-backup target; it
    /// becomes the mutated object.
    pub object: Value,
    /// The stored object an UPDATE changes: the objects the policy emitted for it need no
    /// collision lookup.
    pub old_object: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Accept,
    /// Accept with this mutated object.
    Mutate(Value),
    Reject(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub decision: Decision,
    pub warnings: Vec<String>,
}

impl Outcome {
    pub fn accept() -> Outcome {
        Outcome {
            decision: Decision::Accept,
            warnings: Vec::new(),
        }
    }
}

/// Evaluates `admission` on the day the system clock says.
pub fn evaluate(admission: Admission, settings: &Settings, cluster: &dyn Cluster) -> Outcome {
    evaluate_at(admission, settings, cluster, &SystemClock)
}

/// The verdict on an object from its type and metadata, all `screen` reads of it.
pub enum Screened {
    Accept,
    /// Answered from the type and metadata alone: a rejection, or an acceptance with the
    /// warnings of near misses (an object with only a misspelt trigger).
    Answered(Outcome),
    /// A target, or an object the rules may require or default.
    Evaluate {
        family: Family,
        api_version: String,
        kind: String,
        metadata: head::Metadata,
        trigger: Trigger,
        rules_apply: bool,
        near_misses: NearMisses,
    },
}

/// Decides from the type and metadata of `object` whether the policy looks further: an object
/// that is accepted (or rejected) here is never read whole.
pub fn screen(operation: &str, object: &Value, settings: &Settings) -> Screened {
    if !matches!(operation, "CREATE" | "UPDATE") {
        return Screened::Accept;
    }
    let head = match head::type_of(object) {
        Ok(head) => head,
        Err(message) => return Screened::Answered(reject_unreadable(message)),
    };
    let Some(family) = target::classify(head.api_version, head.kind) else {
        return Screened::Accept;
    };
    let metadata = match head::metadata(object) {
        Ok(metadata) => metadata,
        Err(message) => return Screened::Answered(reject_unreadable(message)),
    };
    let owner_kinds: Vec<String> = metadata.owners.iter().map(|o| o.kind.clone()).collect();
    // A Deployment's ReplicaSet carries its annotations; an object being deleted must be able
    // to lose its finalizers whatever became of its blueprint.
    if metadata.being_deleted || target::is_deployment_replicaset(head.api_version, head.kind, &owner_kinds) {
        return Screened::Accept;
    }
    // The AppBinding of a KubeDB database: the database is the target the rules apply to.
    let of_kubedb = family == Family::AppBinding && metadata.owners.iter().any(|o| target::is_kubedb(&o.api_version));
    let trigger = generation::trigger(&metadata.annotations, family == Family::Workload);
    // KubeStash acts on that AppBinding, which carries the database's annotations: the database
    // is evaluated, its AppBinding never reported.
    if of_kubedb && trigger.generation() == Some(Generation::KubeStash) {
        return Screened::Accept;
    }
    let rules_apply = !of_kubedb && rules_name_kind(settings, head.kind);
    // Keys that look like Stash's, KubeStash's or ours but are none (issue 17): from the keys
    // alone, at no lookup; nothing is allocated when there is none.
    let near_misses = near_miss::find(&metadata.annotations);
    if matches!(trigger, Trigger::Absent) && !metadata.annotations.contains_key(RESOLVED) && !rules_apply {
        if near_misses.is_empty() {
            return Screened::Accept;
        }
        let target = Target::new(
            family,
            head.api_version,
            head.kind,
            &metadata.name,
            &metadata.namespace,
            None,
            None,
        );
        return Screened::Answered(Outcome {
            decision: Decision::Accept,
            warnings: near_misses.warnings(&target.display()),
        });
    }
    Screened::Evaluate {
        family,
        api_version: head.api_version.to_owned(),
        kind: head.kind.to_owned(),
        metadata,
        trigger,
        rules_apply,
        near_misses,
    }
}

/// Evaluates `admission`; `clock` says which day it is (for opt-outs that end).
pub fn evaluate_at(admission: Admission, settings: &Settings, cluster: &dyn Cluster, clock: &dyn Clock) -> Outcome {
    let screened = screen(admission.operation, &admission.object, settings);
    evaluate_screened(screened, admission, settings, cluster, clock)
}

/// Evaluates `admission`, whose type and metadata `screened` already judged (the same JSON).
pub fn evaluate_screened(
    screened: Screened,
    admission: Admission,
    settings: &Settings,
    cluster: &dyn Cluster,
    clock: &dyn Clock,
) -> Outcome {
    let Admission {
        operation,
        namespace: request_namespace,
        object,
        old_object,
    } = admission;
    let (family, api_version, kind, mut metadata, trigger, rules_apply, near_misses) = match screened {
        Screened::Accept => return Outcome::accept(),
        Screened::Answered(outcome) => return outcome,
        Screened::Evaluate {
            family,
            api_version,
            kind,
            metadata,
            trigger,
            rules_apply,
            near_misses,
        } => (family, api_version, kind, metadata, trigger, rules_apply, near_misses),
    };
    let annotations = std::mem::take(&mut metadata.annotations);
    let namespace = match metadata.namespace.is_empty() {
        true => request_namespace,
        false => &metadata.namespace,
    };
    let target = Target::new(
        family,
        &api_version,
        &kind,
        &metadata.name,
        namespace,
        Some(metadata.uid.as_str()),
        object.get("spec"),
    );
    let context = Context {
        target: &target,
        settings,
        lookups: Lookups::new(cluster),
        old_object: old_object.as_ref().filter(|_| operation == "UPDATE"),
    };
    let admitted = Admitted {
        object,
        annotations,
        trigger,
        // The audit scanner sends stored objects as CREATE requests.
        stored: operation == "CREATE" && !metadata.resource_version.is_empty(),
        rules_apply,
    };
    let mut outcome = admitted.decide(&context, clock.today());
    let mut warnings = near_misses.warnings(&target.display());
    warnings.append(&mut outcome.warnings);
    outcome.warnings = warnings;
    outcome
}

/// Whether `requireBackup` or `defaultBlueprints` name objects of `kind`.
fn rules_name_kind(settings: &Settings, kind: &str) -> bool {
    settings
        .require_backup
        .as_ref()
        .is_some_and(|rule| rule.names_kind(kind))
        || settings.default_blueprints.for_kind(kind).next().is_some()
}

/// An object the policy evaluates: a target, or an object the rules may require or default.
struct Admitted {
    object: Value,
    annotations: StringMap,
    trigger: Trigger,
    /// A stored object re-evaluated by the audit scanner: reported on, never mutated.
    stored: bool,
    rules_apply: bool,
}

impl Admitted {
    fn decide(self, context: &Context, today: Date) -> Outcome {
        let Admitted {
            mut object,
            mut annotations,
            mut trigger,
            stored,
            rules_apply,
        } = self;
        let mut findings = Findings::default();
        let spec = object.get("spec");
        let opt_out = opt_out::read(&annotations, today);
        let mut added = StringMap::new();
        let mut not_defaulted = None;
        let mut defaulted_by = None;
        let may_default = rules_apply && !stored && !matches!(opt_out, OptOut::Valid { .. });
        if matches!(trigger, Trigger::Absent) && may_default {
            match defaulting::choose(context, spec, &mut findings) {
                Defaulting::Applied {
                    rule,
                    blueprint,
                    annotations: defaults,
                } => {
                    annotations.extend(defaults.iter());
                    trigger = Trigger::Present(Generation::of_blueprint_reference(&blueprint));
                    added = defaults;
                    defaulted_by = Some((rule, blueprint));
                }
                Defaulting::NoStorage { rule, blueprint, why } => {
                    not_defaulted = Some(NotDefaulted { rule, blueprint, why });
                }
                Defaulting::NotApplicable => {}
            }
        }
        let generated = match trigger {
            Trigger::Absent if rules_apply => {
                required::check(context, &opt_out, not_defaulted, spec, &mut findings);
                GeneratedObjects::default()
            }
            Trigger::Absent => GeneratedObjects::default(),
            _ => {
                let evaluated = evaluation::evaluate_target(context, &annotations, &trigger, spec, &mut findings);
                added.extend(evaluated.added.iter());
                evaluated.generated
            }
        };
        if let Some((rule, blueprint)) = defaulted_by.filter(|_| findings.has_problems()) {
            findings.problem(Problem::object(format!(
                "the backup annotations were added by defaultBlueprints[{rule}] (BackupBlueprint '{blueprint}'); \
                 fix what is listed, set the annotations yourself, or ask the cluster administrator"
            )));
        }
        // A target that generates nothing (a kind KubeStash does not watch) records nothing.
        let emit = context.settings.emit_resolved_objects
            && matches!(trigger, Trigger::Present(_))
            && !generated.items.is_empty();
        if stored && emit && findings.is_clean() {
            let stale = drift::stale(annotations.get(RESOLVED), &generated.items);
            if !stale.is_empty() {
                findings.headline(Headline::Stale);
                findings.problems(stale);
            }
        }
        match findings.verdict(context.settings.on_lookup_error) {
            Verdict::Reject {
                headline,
                problems,
                warnings,
            } => Outcome {
                decision: Decision::Reject(report::rejection(&context.target.display(), headline, &problems)),
                warnings,
            },
            // Accepted despite failed lookups, or a stored object: left as it is.
            Verdict::AcceptUnchecked { warnings } => Outcome {
                decision: Decision::Accept,
                warnings,
            },
            Verdict::Accept { warnings } if stored => Outcome {
                decision: Decision::Accept,
                warnings,
            },
            Verdict::Accept { warnings } => {
                let resolved = emit.then(|| generated.into_resolved_list());
                let changed = emission::add_annotations(&mut object, &added);
                mutate_or_accept(context, object, changed, resolved, warnings)
            }
        }
    }
}

fn reject_unreadable(message: String) -> Outcome {
    Outcome {
        decision: Decision::Reject(report::bounded(message)),
        warnings: Vec::new(),
    }
}

/// policy-server reads the policy's answer with serde_json, at most 128 levels deep: with the
/// mutated object one level down, an object deeper than this cannot be returned mutated.
const MAX_MUTATED_DEPTH: usize = 126;

/// The mutated object when something changed, or a rejection when it could not be returned
/// (too deep for policy-server's decoder) or stored (annotations over Kubernetes' limit, from a
/// blueprint that carries large fields through).
fn mutate_or_accept(
    context: &Context,
    mut object: Value,
    changed: bool,
    resolved: Option<String>,
    warnings: Vec<String>,
) -> Outcome {
    let changed = emission::set_resolved(&mut object, resolved) || changed;
    let over_limit = |object: &Value| {
        Some(emission::annotations_size(object)).filter(|size| *size > emission::MAX_ANNOTATIONS_BYTES)
    };
    let decision = if !changed {
        Decision::Accept
    } else if deeper_than(&object, MAX_MUTATED_DEPTH) {
        Decision::Reject(format!(
            "the object is nested deeper than {MAX_MUTATED_DEPTH} levels of objects and arrays: \
             it cannot be returned with its backup annotations set; flatten it"
        ))
    } else if let Some(size) = over_limit(&object) {
        let problem = Problem::object(format!(
            "with the emitted objects ({RESOLVED}) its annotations would be {size} bytes, over Kubernetes' limit of {} \
             bytes for all annotations of an object; make the blueprint smaller or set the policy setting \
             emitResolvedObjects to false",
            emission::MAX_ANNOTATIONS_BYTES
        ));
        let display = context.target.display();
        Decision::Reject(report::rejection(&display, Headline::InvalidAnnotations, &[problem]))
    } else {
        Decision::Mutate(object)
    };
    Outcome { decision, warnings }
}

/// True when `value` holds more than `levels` levels of objects and arrays.
fn deeper_than(value: &Value, levels: usize) -> bool {
    match value {
        Value::Array(items) => levels == 0 || items.iter().any(|item| deeper_than(item, levels - 1)),
        Value::Object(members) => levels == 0 || members.values().any(|member| deeper_than(member, levels - 1)),
        _ => false,
    }
}
