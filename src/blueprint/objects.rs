//! The Repository and BackupConfiguration generated for a target.

use serde_json::{Map, Value};

use crate::support::json_fields::{object, text};
use crate::target::Target;
use crate::target::annotations::{BackupAnnotations, OWNER, TARGET};
use crate::target::naming::ObjectNames;

pub const REPOSITORY_API_VERSION: &str = "stash.appscode.com/v1alpha1";
pub const BACKUP_CONFIGURATION_API_VERSION: &str = "stash.appscode.com/v1beta1";
pub const MANAGED_BY: &str = "backup-blueprint-policy";
pub const BLUEPRINT_LABEL: &str = "autobackup.kubewarden.io/blueprint";
/// Stash's default driver (the CRD default the API server would fill in).
const DEFAULT_DRIVER: &str = "Restic";

/// Blueprint `spec` fields that make the Repository spec.
const REPOSITORY_FIELDS: [&str; 3] = ["backend", "wipeOut", "usagePolicy"];
/// Blueprint `spec` fields that place the objects; consumed, not copied.
const PLACEMENT_FIELDS: [&str; 2] = ["backupNamespace", "repoNamespace"];
/// BackupConfiguration fields built from the blueprint and the annotations together.
const COMPOSED_FIELDS: [&str; 3] = ["schedule", "task", "driver"];

/// The objects generated from one blueprint, with where they go.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    /// The blueprint as the target names it: `gcs` (Stash), `backup/gcs` (KubeStash).
    pub blueprint: String,
    /// In the order they are emitted: Stash's Repository then BackupConfiguration, or
    /// KubeStash's one BackupConfiguration.
    pub objects: Vec<GeneratedObject>,
    /// What the storage check looks up for them.
    pub storage: Storage,
}

/// One generated object and its place.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedObject {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    pub value: Value,
}

/// The storage the generated objects rely on, per generation.
#[derive(Debug, Clone, PartialEq)]
pub enum Storage {
    /// Stash: `spec.backend.storageSecretName` of the Repository, in the Repository namespace.
    Secret { namespace: String, name: String },
    /// KubeStash: the BackupStorage and RetentionPolicy objects of the backends, and the
    /// repositories the BackupConfiguration controller will create.
    KubeStash(crate::blueprint::kubestash::StorageUse),
}

/// Which object of a kind, in which namespace: enough to look it up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectRef<'a> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub namespace: &'a str,
    pub name: &'a str,
}

impl std::fmt::Display for ObjectRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

impl GeneratedObject {
    pub fn place(&self) -> ObjectRef<'_> {
        ObjectRef {
            api_version: self.api_version,
            kind: self.kind,
            namespace: &self.namespace,
            name: &self.name,
        }
    }
}

impl Generated {
    /// The places of the objects, in emission order.
    pub fn refs(&self) -> impl Iterator<Item = ObjectRef<'_>> {
        self.objects.iter().map(GeneratedObject::place)
    }

    /// Stash's pair: the Repository then the BackupConfiguration of `names`.
    pub fn stash(blueprint: &str, names: &ObjectNames, storage_secret: String, repository: Value, bc: Value) -> Self {
        Generated {
            blueprint: blueprint.to_string(),
            objects: vec![
                GeneratedObject {
                    api_version: REPOSITORY_API_VERSION,
                    kind: "Repository",
                    namespace: names.repository_namespace.clone(),
                    name: names.repository_name.clone(),
                    value: repository,
                },
                GeneratedObject {
                    api_version: BACKUP_CONFIGURATION_API_VERSION,
                    kind: "BackupConfiguration",
                    namespace: names.backup_configuration_namespace.clone(),
                    name: names.backup_configuration_name.clone(),
                    value: bc,
                },
            ],
            storage: Storage::Secret {
                namespace: names.repository_namespace.clone(),
                name: storage_secret,
            },
        }
    }
}

/// The Repository: the blueprint's backend, wipeOut and usagePolicy. No ownerReference: the
/// backed-up data must outlive the target.
pub fn repository(target: &Target, names: &ObjectNames, blueprint: &str, spec: &Map<String, Value>) -> Value {
    let mut repository_spec = Map::new();
    for field in REPOSITORY_FIELDS {
        if let Some(value) = spec.get(field) {
            repository_spec.insert(field.to_string(), value.clone());
        }
    }
    let metadata = metadata(&names.repository_name, &names.repository_namespace, target, blueprint);
    object(vec![
        ("apiVersion", text(REPOSITORY_API_VERSION)),
        ("kind", text("Repository")),
        ("metadata", metadata),
        ("spec", Value::Object(repository_spec)),
    ])
}

/// The BackupConfiguration: the blueprint's template fields (unknown ones carried through),
/// the schedule, the task with the annotation params, and the target reference.
pub fn backup_configuration(
    target: &Target,
    request: &BackupAnnotations,
    names: &ObjectNames,
    blueprint: &str,
    spec: &Map<String, Value>,
    schedule: &str,
) -> Value {
    let mut bc_spec = Map::new();
    for (field, value) in spec {
        if !is_consumed(field) {
            bc_spec.insert(field.clone(), value.clone());
        }
    }
    let driver = spec.get("driver").cloned().unwrap_or_else(|| text(DEFAULT_DRIVER));
    bc_spec.insert("driver".into(), driver);
    bc_spec.insert("repository".into(), repository_ref(target, names));
    bc_spec.insert("schedule".into(), text(schedule));
    bc_spec.insert("target".into(), target_spec(target, request, names));
    bc_spec.insert("task".into(), task(spec.get("task"), &request.params));
    let (name, namespace) = (&names.backup_configuration_name, &names.backup_configuration_namespace);
    let mut metadata = metadata(name, namespace, target, blueprint);
    add_owner(&mut metadata, target, names);
    object(vec![
        ("apiVersion", text(BACKUP_CONFIGURATION_API_VERSION)),
        ("kind", text("BackupConfiguration")),
        ("metadata", metadata),
        ("spec", Value::Object(bc_spec)),
    ])
}

fn is_consumed(field: &str) -> bool {
    REPOSITORY_FIELDS.contains(&field) || PLACEMENT_FIELDS.contains(&field) || COMPOSED_FIELDS.contains(&field)
}

/// An emitted object's metadata: its place, its labels and the target it was generated for.
fn metadata(name: &str, namespace: &str, target: &Target, blueprint: &str) -> Value {
    let labels = object(vec![
        ("app.kubernetes.io/managed-by", text(MANAGED_BY)),
        (BLUEPRINT_LABEL, text(blueprint)),
    ]);
    object(vec![
        ("name", text(name)),
        ("namespace", text(namespace)),
        ("labels", labels),
        ("annotations", object(vec![(TARGET, Value::String(target.reference()))])),
    ])
}

fn repository_ref(target: &Target, names: &ObjectNames) -> Value {
    let mut reference = object(vec![("name", text(&names.repository_name))]);
    let bc_ns = &names.backup_configuration_namespace;
    if names.repository_namespace != *bc_ns || *bc_ns != target.namespace {
        reference["namespace"] = text(&names.repository_namespace);
    }
    reference
}

fn target_spec(target: &Target, request: &BackupAnnotations, names: &ObjectNames) -> Value {
    let mut reference = object(vec![
        ("apiVersion", text(&target.api_version)),
        ("kind", text(&target.kind)),
        ("name", text(&target.name)),
    ]);
    if names.backup_configuration_namespace != target.namespace {
        reference["namespace"] = text(&target.namespace);
    }
    let mut spec = object(vec![("ref", reference)]);
    if target.is_workload() {
        let mut paths = Vec::new();
        for path in &request.target_paths {
            paths.push(text(path));
        }
        spec["paths"] = Value::Array(paths);
        let mut mounts = Vec::new();
        for m in &request.volume_mounts {
            let mut mount = object(vec![("name", text(&m.name)), ("mountPath", text(&m.mount_path))]);
            if let Some(sub_path) = &m.sub_path {
                mount["subPath"] = text(sub_path);
            }
            mounts.push(mount);
        }
        spec["volumeMounts"] = Value::Array(mounts);
    }
    spec
}

/// The blueprint's task with the annotation params: a param of the same name replaces the
/// blueprint's, the others are appended in key order.
fn task(blueprint_task: Option<&Value>, params: &[(String, String)]) -> Value {
    let mut task = match blueprint_task {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    if params.is_empty() {
        return Value::Object(task);
    }
    let mut list = match task.remove("params") {
        Some(Value::Array(list)) => list,
        _ => Vec::new(),
    };
    // The first blueprint param of each name takes the annotation's value; the annotation
    // params are in key order, so each name is found by binary search (a blueprint may hold
    // thousands of params).
    let mut taken = vec![false; params.len()];
    for param in &mut list {
        let Some(name) = param.get("name").and_then(Value::as_str) else {
            continue;
        };
        if let Ok(i) = params.binary_search_by(|(key, _)| key.as_str().cmp(name))
            && !taken[i]
        {
            taken[i] = true;
            *param = param_entry(name, &params[i].1);
        }
    }
    let untaken = params.iter().zip(&taken).filter(|(_, taken)| !**taken);
    list.extend(untaken.map(|((name, value), _)| param_entry(name, value)));
    task.insert("params".into(), Value::Array(list));
    Value::Object(task)
}

fn param_entry(name: &str, value: &str) -> Value {
    object(vec![("name", text(name)), ("value", text(value))])
}

/// A controller ownerReference when the target exists (has a uid) in the same namespace;
/// the `autobackup.kubewarden.io/owner` annotation when it does not exist yet. A KubeDB
/// database is never the owner: its AppBinding is, and the AppBinding's uid is unknown here.
fn add_owner(metadata: &mut Value, target: &Target, names: &ObjectNames) {
    if names.backup_configuration_namespace != target.namespace {
        return;
    }
    match target.uid.as_deref().filter(|_| target.kind == target.admitted_kind) {
        Some(uid) => {
            let owner = object(vec![
                ("apiVersion", text(&target.api_version)),
                ("kind", text(&target.kind)),
                ("name", text(&target.name)),
                ("uid", text(uid)),
                ("controller", Value::Bool(true)),
                ("blockOwnerDeletion", Value::Bool(true)),
            ]);
            metadata["ownerReferences"] = Value::Array(vec![owner]);
        }
        None => {
            metadata["annotations"][OWNER] = Value::String(format!("{}/{}", target.kind, target.name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::annotations::VolumeMount;
    use crate::target::naming::object_names;
    use crate::target::{Target, classify};
    use serde_json::json;

    fn target(api_version: &str, kind: &str, uid: Option<&str>) -> Target {
        let spec = json!({"version": "11.11"});
        Target::new(
            classify(api_version, kind).unwrap(),
            api_version,
            kind,
            "web",
            "demo",
            uid,
            Some(&spec),
        )
    }

    fn spec() -> Map<String, Value> {
        json!({
            "backend": {"gcs": {"bucket": "b", "prefix": "p"}, "storageSecretName": "s"},
            "wipeOut": true,
            "usagePolicy": {"allowedNamespaces": {"from": "All"}},
            "backupNamespace": "demo",
            "schedule": "@daily",
            "task": {"name": "pg", "params": [{"name": "args", "value": "old"}, {"name": "keep", "value": "k"}]},
            "retentionPolicy": {"name": "r", "prune": true, "keepLast": 5},
            "runtimeSettings": {"pod": {"serviceAccountName": "sa"}},
            "futureField": {"x": 1},
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn request() -> BackupAnnotations {
        BackupAnnotations {
            target_paths: vec!["/data".into()],
            volume_mounts: vec![VolumeMount {
                name: "data".into(),
                mount_path: "/data".into(),
                sub_path: Some("s".into()),
            }],
            params: vec![("args".into(), "--x=1,2".into()), ("new".into(), "n".into())],
            ..BackupAnnotations::default()
        }
    }

    #[test]
    fn repository_carries_the_repository_fields_only() {
        let t = target("apps/v1", "Deployment", None);
        let names = object_names(&t, "bp", false, "demo", "demo");
        assert_eq!(
            repository(&t, &names, "bp", &spec()),
            json!({
                "apiVersion": "stash.appscode.com/v1alpha1",
                "kind": "Repository",
                "metadata": {
                    "name": "deploy-web",
                    "namespace": "demo",
                    "labels": {"app.kubernetes.io/managed-by": "backup-blueprint-policy", "autobackup.kubewarden.io/blueprint": "bp"},
                    "annotations": {"autobackup.kubewarden.io/target": "apps/v1/Deployment/demo/web"},
                },
                "spec": {
                    "backend": {"gcs": {"bucket": "b", "prefix": "p"}, "storageSecretName": "s"},
                    "wipeOut": true,
                    "usagePolicy": {"allowedNamespaces": {"from": "All"}},
                },
            })
        );
    }

    #[test]
    fn backup_configuration_of_a_new_workload() {
        let t = target("apps/v1", "Deployment", None);
        let names = object_names(&t, "bp", false, "demo", "demo");
        assert_eq!(
            backup_configuration(&t, &request(), &names, "bp", &spec(), "*/5 * * * *"),
            json!({
                "apiVersion": "stash.appscode.com/v1beta1",
                "kind": "BackupConfiguration",
                "metadata": {
                    "name": "deploy-web",
                    "namespace": "demo",
                    "labels": {"app.kubernetes.io/managed-by": "backup-blueprint-policy", "autobackup.kubewarden.io/blueprint": "bp"},
                    "annotations": {"autobackup.kubewarden.io/owner": "Deployment/web", "autobackup.kubewarden.io/target": "apps/v1/Deployment/demo/web"},
                },
                "spec": {
                    "driver": "Restic",
                    "repository": {"name": "deploy-web"},
                    "schedule": "*/5 * * * *",
                    "target": {
                        "ref": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                        "paths": ["/data"],
                        "volumeMounts": [{"name": "data", "mountPath": "/data", "subPath": "s"}],
                    },
                    "task": {"name": "pg", "params": [
                        {"name": "args", "value": "--x=1,2"},
                        {"name": "keep", "value": "k"},
                        {"name": "new", "value": "n"},
                    ]},
                    "retentionPolicy": {"name": "r", "prune": true, "keepLast": 5},
                    "runtimeSettings": {"pod": {"serviceAccountName": "sa"}},
                    "futureField": {"x": 1},
                },
            })
        );
    }

    #[test]
    fn existing_target_gets_a_controller_owner_reference() {
        let t = target("apps/v1", "StatefulSet", Some("u-1"));
        let names = object_names(&t, "bp", false, "demo", "demo");
        let bc = backup_configuration(&t, &request(), &names, "bp", &spec(), "@daily");
        assert_eq!(
            bc["metadata"]["ownerReferences"],
            json!([{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "u-1", "controller": true, "blockOwnerDeletion": true}])
        );
        assert_eq!(
            bc["metadata"]["annotations"],
            json!({"autobackup.kubewarden.io/target": "apps/v1/StatefulSet/demo/web"})
        );
    }

    #[test]
    fn database_in_a_backup_namespace_is_referenced_across_namespaces() {
        let t = target("kubedb.com/v1alpha2", "Postgres", Some("db-uid"));
        let names = object_names(&t, "bp", false, "backup", "backup");
        let bc = backup_configuration(&t, &BackupAnnotations::default(), &names, "bp", &spec(), "@daily");
        assert_eq!(bc["metadata"]["name"], "demo-app-web");
        assert_eq!(bc["metadata"].get("ownerReferences"), None);
        assert_eq!(
            bc["metadata"]["annotations"],
            json!({"autobackup.kubewarden.io/target": "appcatalog.appscode.com/v1alpha1/AppBinding/demo/web"})
        );
        assert_eq!(
            bc["spec"]["repository"],
            json!({"name": "demo-app-web", "namespace": "backup"})
        );
        assert_eq!(
            bc["spec"]["target"],
            json!({"ref": {"apiVersion": "appcatalog.appscode.com/v1alpha1", "kind": "AppBinding", "name": "web", "namespace": "demo"}})
        );
    }

    #[test]
    fn kubedb_database_owner_is_its_appbinding_by_name() {
        let t = target("kubedb.com/v1alpha2", "Postgres", Some("db-uid"));
        let names = object_names(&t, "bp", false, "demo", "demo");
        let bc = backup_configuration(&t, &BackupAnnotations::default(), &names, "bp", &spec(), "@daily");
        assert_eq!(
            bc["metadata"]["annotations"],
            json!({"autobackup.kubewarden.io/owner": "AppBinding/web",
                   "autobackup.kubewarden.io/target": "appcatalog.appscode.com/v1alpha1/AppBinding/demo/web"})
        );
        assert_eq!(
            bc["spec"]["task"],
            json!({"name": "pg", "params": [{"name": "args", "value": "old"}, {"name": "keep", "value": "k"}]})
        );
    }

    #[test]
    fn repository_in_another_namespace_is_referenced_with_it() {
        let t = target("apps/v1", "Deployment", None);
        let names = object_names(&t, "bp", false, "demo", "backup");
        let bc = backup_configuration(&t, &request(), &names, "bp", &spec(), "@daily");
        assert_eq!(
            bc["spec"]["repository"],
            json!({"name": "demo-deploy-web", "namespace": "backup"})
        );
    }
}
