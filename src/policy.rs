//! One admission evaluation: decide whether the object is ours, parse its annotations, look
//! the blueprints up, resolve, check, and emit (SPEC §2–§7).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::annotations::{self, BackupAnnotations, RESOLVED, Trigger};
use crate::checks::{self, ScheduleSource};
use crate::emission;
use crate::lookups::{Cluster, LookupError};
use crate::naming::object_names;
use crate::objects::{self, Generated};
use crate::report;
use crate::settings::{OnLookupError, Settings, StorageSecretCheck};
use crate::substitution::{self, SubstitutionError, Variables};
use crate::target::{self, Family, Target};
use crate::variables;

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
    let mut evaluation = Evaluation::new(&target, settings, cluster);
    evaluation.run(&annotations, &trigger, spec);
    evaluation.finish(&mut object)
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

/// The state of one evaluation of an auto-backup target.
struct Evaluation<'a> {
    target: &'a Target,
    settings: &'a Settings,
    cluster: &'a dyn Cluster,
    problems: Vec<String>,
    warnings: Vec<String>,
    /// Lookups that failed for another reason than "not found".
    failed_lookups: Vec<String>,
    generated: Vec<Generated>,
    /// Warnings about names cut to 63 characters, given when the target is accepted.
    truncated: Vec<String>,
}

impl<'a> Evaluation<'a> {
    fn new(target: &'a Target, settings: &'a Settings, cluster: &'a dyn Cluster) -> Self {
        Evaluation {
            target,
            settings,
            cluster,
            problems: Vec::new(),
            warnings: Vec::new(),
            failed_lookups: Vec::new(),
            generated: Vec::new(),
            truncated: Vec::new(),
        }
    }

    fn run(&mut self, annotations: &BTreeMap<String, String>, trigger: &Trigger, spec: Option<&Value>) {
        if let Trigger::Incomplete { missing } = trigger {
            self.problems.push(annotations::incomplete_trigger_problem(missing));
        }
        let (request, problems) = annotations::parse(annotations, self.target.is_workload());
        self.problems.extend(problems);
        if self.target.name.is_empty() {
            self.problems.push(
                "metadata.name is empty: generated objects are named after the target, so set a name instead of generateName"
                    .to_string(),
            );
        }
        self.problems.extend(checks::annotation_schedule(&request));
        if self.target.is_workload() && *trigger == Trigger::Present {
            self.problems
                .extend(checks::workload_volumes(&self.target.kind, spec, &request));
        }
        let (custom, problems) = variables::custom(&request.custom_variables, &self.settings.custom_variables);
        self.problems.extend(problems);
        let mut vars = variables::builtin(self.target);
        vars.extend(custom);
        if request.blueprints.len() > 1 && self.target.uses_sidecar() {
            self.warnings.push(format!(
                "{} backs up with several BackupBlueprints: Stash injects one sidecar per BackupConfiguration into a {} \
                 and they can conflict (stashed/stash#1139); prefer one blueprint per workload",
                self.target.display(),
                self.target.kind
            ));
        }
        for blueprint in &request.blueprints {
            self.resolve_blueprint(blueprint, &request, &vars);
        }
        self.check_collisions();
        self.check_storage_secrets();
    }

    fn resolve_blueprint(&mut self, name: &str, request: &BackupAnnotations, vars: &Variables) {
        let blueprint = match self.cluster.backup_blueprint(name) {
            Ok(blueprint) => blueprint,
            Err(LookupError::NotFound) => return self.problems.push(format!("BackupBlueprint '{name}' not found")),
            Err(LookupError::Failed(why)) => {
                return self
                    .failed_lookups
                    .push(format!("could not look up BackupBlueprint '{name}': {why}"));
            }
        };
        let Some(spec) = blueprint.get("spec").filter(|s| s.is_object()) else {
            return self.problems.push(format!("BackupBlueprint '{name}' has no spec"));
        };
        let resolved = match substitution::substitute_tree(spec, vars, "spec") {
            Ok(Value::Object(resolved)) => resolved,
            Ok(_) => return,
            Err(errors) => {
                let lines = errors
                    .iter()
                    .filter_map(|e| self.substitution_problem(name, e, request));
                return self.problems.extend(lines.collect::<Vec<_>>());
            }
        };
        match self.generate(name, request, &resolved) {
            Ok(generated) => self.generated.push(generated),
            Err(problems) => self.problems.extend(problems),
        }
    }

    /// The problem line for a substitution error; `None` when the variable is a custom one
    /// already reported as rejected.
    fn substitution_problem(
        &self,
        blueprint: &str,
        error: &SubstitutionError,
        request: &BackupAnnotations,
    ) -> Option<String> {
        let hint = match error {
            SubstitutionError::Undefined { name, .. } if request.custom_variables.contains_key(name) => return None,
            SubstitutionError::Undefined { name, .. } => undefined_variable_hint(name, self.target),
            SubstitutionError::Malformed { .. } => {
                "; write a variable as ${NAME} or with an envsubst operator (${NAME:-default}, ${NAME^^}, …), \
                 and a literal $ as $$"
                    .to_string()
            }
            SubstitutionError::TooDeep { .. } | SubstitutionError::TooLarge { .. } => {
                "; simplify the blueprint field".to_string()
            }
        };
        Some(format!("BackupBlueprint '{blueprint}' {}: {error}{hint}", error.path()))
    }

    fn generate(
        &mut self,
        blueprint: &str,
        request: &BackupAnnotations,
        spec: &Map<String, Value>,
    ) -> Result<Generated, Vec<String>> {
        let target = self.target;
        let namespace_of = |field: &str| spec.get(field).and_then(Value::as_str).filter(|s| !s.is_empty());
        let bc_namespace = namespace_of("backupNamespace").unwrap_or(&target.namespace);
        let repo_namespace = namespace_of("repoNamespace").unwrap_or(bc_namespace);
        let several = request.blueprints.len() > 1;
        let names = object_names(target, blueprint, several, bc_namespace, repo_namespace);
        let schedule = match (&request.schedule, spec.get("schedule").and_then(Value::as_str)) {
            (Some(annotation), _) => Some((annotation.as_str(), ScheduleSource::Annotation)),
            (None, Some(from_blueprint)) => Some((from_blueprint, ScheduleSource::Blueprint(blueprint))),
            (None, None) => None,
        };
        let schedule_text = schedule.as_ref().map(|(s, _)| s.to_string()).unwrap_or_default();
        let problems = checks::resolved(target, blueprint, spec, &names, schedule);
        if !problems.is_empty() {
            return Err(problems);
        }
        for (long, cut) in &names.truncated {
            self.truncated.push(format!(
                "BackupBlueprint '{blueprint}': the generated name '{long}' is longer than 63 characters and was cut to '{cut}'"
            ));
        }
        Ok(Generated {
            blueprint: blueprint.to_string(),
            repository: objects::repository(&names, blueprint, spec),
            backup_configuration: objects::backup_configuration(
                target,
                request,
                &names,
                blueprint,
                spec,
                &schedule_text,
            ),
        })
    }

    fn check_collisions(&mut self) {
        let mut seen: BTreeMap<(String, String, String), &str> = BTreeMap::new();
        for generated in &self.generated {
            for object in [&generated.repository, &generated.backup_configuration] {
                let field = |p: &str| {
                    object
                        .pointer(p)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                let key = (field("/kind"), field("/metadata/namespace"), field("/metadata/name"));
                if let Some(first) = seen.get(&key) {
                    self.problems.push(format!(
                        "BackupBlueprints '{first}' and '{}' both generate {} {}/{}; \
                         give them different spec.backupNamespace or spec.repoNamespace, or keep one of them",
                        generated.blueprint, key.0, key.1, key.2
                    ));
                } else {
                    seen.insert(key, &generated.blueprint);
                }
            }
        }
    }

    fn check_storage_secrets(&mut self) {
        if self.settings.storage_secret_check == StorageSecretCheck::Skip {
            return;
        }
        let mut checked = BTreeSet::new();
        for generated in &self.generated {
            let repository = &generated.repository;
            let text = |p: &str| {
                repository
                    .pointer(p)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            let secret = (text("/metadata/namespace"), text("/spec/backend/storageSecretName"));
            if !checked.insert(secret.clone()) {
                continue;
            }
            let (namespace, name) = secret;
            match self.cluster.secret_exists(&namespace, &name) {
                Ok(()) => {}
                Err(LookupError::NotFound) => {
                    let line = format!(
                        "Secret '{name}' (spec.backend.storageSecretName of BackupBlueprint '{}') not found in namespace '{namespace}'; \
                         create it there: Secrets are namespaced and every Repository namespace needs its own copy",
                        generated.blueprint
                    );
                    match self.settings.storage_secret_check {
                        StorageSecretCheck::Warn => self.warnings.push(line),
                        _ => self.problems.push(line),
                    }
                }
                Err(LookupError::Failed(why)) => self.failed_lookups.push(format!(
                    "could not look up Secret '{name}' in namespace '{namespace}': {why}"
                )),
            }
        }
    }

    fn finish(mut self, object: &mut Value) -> Outcome {
        let accept_failures = self.settings.on_lookup_error == OnLookupError::Accept;
        let unchecked = !self.failed_lookups.is_empty();
        for failure in std::mem::take(&mut self.failed_lookups) {
            match accept_failures {
                true => self.warnings.push(format!(
                    "{failure}; accepted unchecked because onLookupError is 'accept'"
                )),
                false => self.problems.push(format!(
                    "{failure}; the policy could not verify the backup, retry later or ask the cluster administrator \
                     to check the policy-server's access (see rbac.yaml)"
                )),
            }
        }
        if !self.problems.is_empty() {
            return Outcome {
                decision: Decision::Reject(self.rejection()),
                warnings: self.warnings,
            };
        }
        if unchecked {
            // Accepted despite failed lookups: leave the object as it is.
            return Outcome {
                decision: Decision::Accept,
                warnings: self.warnings,
            };
        }
        self.warnings.append(&mut self.truncated);
        let resolved = self
            .settings
            .emit_resolved_objects
            .then(|| emission::resolved_list(&self.generated));
        mutate_or_accept(object, resolved, self.warnings)
    }

    fn rejection(&self) -> String {
        report::rejection(&self.target.display(), &self.problems)
    }
}

fn undefined_variable_hint(name: &str, target: &Target) -> String {
    if name.starts_with("TARGET_APP_") && !target.is_database() {
        format!(
            "; {name} is defined only for AppBindings and KubeDB databases, not for a {}",
            target.kind
        )
    } else if name.starts_with("TARGET_") {
        "; it is not a blueprint variable (built in: TARGET_API_VERSION, TARGET_KIND, TARGET_NAME, TARGET_NAMESPACE, \
         TARGET_RESOURCE and, for databases, TARGET_APP_VERSION, TARGET_APP_TYPE, TARGET_APP_GROUP, TARGET_APP_RESOURCE)"
            .to_string()
    } else {
        format!(
            "; give it a default (${{{name}:=value}}) or define it with the annotation vars.autobackup.kubewarden.io/{name} \
             (the policy settings must allow it)"
        )
    }
}
