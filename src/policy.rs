//! One admission request: decide whether the object is ours (SPEC §2), evaluate it as a
//! target, and turn the verdict into a decision with the emitted objects (SPEC §7).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::annotations::{self, RESOLVED, Trigger};
use crate::emission;
use crate::evaluation::{self, Context, Verdict};
use crate::lookups::{Cluster, Lookups};
use crate::report;
use crate::settings::Settings;
use crate::target::{self, Family, Target};

/// The parts of an admission request the policy reads.
pub struct Admission<'a> {
    pub operation: &'a str,
    /// The request namespace, used when the object does not carry one yet.
    pub namespace: &'a str,
    /// The object as JSON text: only its metadata is read unless it is an auto-backup target.
    pub object: &'a str,
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
    fn accept() -> Outcome {
        Outcome {
            decision: Decision::Accept,
            warnings: Vec::new(),
        }
    }
}

/// The fields read before deciding whether the object is ours.
/// The type of the object, read first: an object of another kind is never read further.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Head<'a> {
    api_version: String,
    kind: String,
    #[serde(borrow)]
    metadata: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct HeadMetadata {
    name: String,
    namespace: String,
    uid: String,
    annotations: Option<BTreeMap<String, String>>,
    owner_references: Option<Vec<OwnerReference>>,
    deletion_timestamp: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OwnerReference {
    kind: String,
}

pub fn evaluate(admission: &Admission, settings: &Settings, cluster: &dyn Cluster) -> Outcome {
    if !matches!(admission.operation, "CREATE" | "UPDATE") {
        return Outcome::accept();
    }
    let head: Head = match serde_json::from_str(admission.object) {
        Ok(head) => head,
        Err(e) => return reject_unreadable("the object", &e),
    };
    let Some(family) = target::classify(&head.api_version, &head.kind) else {
        return Outcome::accept();
    };
    let metadata: HeadMetadata = match head.metadata.map(|m| serde_json::from_str(m.get())).transpose() {
        Ok(metadata) => metadata.unwrap_or_default(),
        Err(e) => return reject_unreadable("the object's metadata", &e),
    };
    let owner_kinds: Vec<String> = metadata
        .owner_references
        .iter()
        .flatten()
        .map(|o| o.kind.clone())
        .collect();
    // A Deployment's ReplicaSet carries its annotations; an object being deleted must be able
    // to lose its finalizers whatever became of its blueprint.
    let being_deleted = metadata.deletion_timestamp.is_some();
    if being_deleted || target::is_deployment_replicaset(&head.api_version, &head.kind, &owner_kinds) {
        return Outcome::accept();
    }
    let annotations = metadata.annotations.unwrap_or_default();
    let trigger = annotations::trigger(&annotations, family == Family::Workload);
    if trigger == Trigger::Absent && !annotations.contains_key(RESOLVED) {
        return Outcome::accept();
    }
    let mut object: Value = match serde_json::from_str(admission.object) {
        Ok(object) => object,
        Err(e) => return reject_unreadable("the object", &e),
    };
    if trigger == Trigger::Absent {
        return mutate_or_accept(&mut object, None, Vec::new());
    }
    let namespace = match metadata.namespace.is_empty() {
        true => admission.namespace,
        false => &metadata.namespace,
    };
    let uid = Some(metadata.uid.as_str());
    let spec = object.get("spec");
    let target = Target::new(
        family,
        &head.api_version,
        &head.kind,
        &metadata.name,
        namespace,
        uid,
        spec,
    );
    let context = Context {
        target: &target,
        settings,
        lookups: Lookups::new(cluster),
    };
    let (findings, generated) = evaluation::evaluate_target(&context, &annotations, &trigger, spec);
    match findings.verdict(settings.on_lookup_error) {
        Verdict::Reject { problems, warnings } => Outcome {
            decision: Decision::Reject(report::rejection(&target.display(), &problems)),
            warnings,
        },
        // Accepted despite failed lookups: the object is left as it is.
        Verdict::AcceptUnchecked { warnings } => Outcome {
            decision: Decision::Accept,
            warnings,
        },
        Verdict::Accept { warnings } => {
            let resolved = settings
                .emit_resolved_objects
                .then(|| emission::resolved_list(&generated));
            mutate_or_accept(&mut object, resolved, warnings)
        }
    }
}

fn reject_unreadable(what: &str, error: &serde_json::Error) -> Outcome {
    Outcome {
        decision: Decision::Reject(format!("{what} could not be read: {error}")),
        warnings: Vec::new(),
    }
}

fn mutate_or_accept(object: &mut Value, resolved: Option<String>, warnings: Vec<String>) -> Outcome {
    let decision = match emission::set_resolved(object, resolved) {
        true => Decision::Mutate(object.take()),
        false => Decision::Accept,
    };
    Outcome { decision, warnings }
}
