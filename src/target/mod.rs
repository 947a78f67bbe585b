//! The target: its type and metadata, annotations, opt-out, inferred volumes, names and checks.
//!
//! Which objects are auto-backup targets, and the facts about a target that naming,
//! variables and the generated BackupConfiguration need.

pub mod annotations;
pub mod checks;
pub mod generation;
pub mod head;
pub mod inference;
pub mod kubestash;
pub mod naming;
pub mod opt_out;

use serde_json::Value;

pub const APPBINDING_API_VERSION: &str = "appcatalog.appscode.com/v1alpha1";
pub const APPBINDING_KIND: &str = "AppBinding";
const KUBEDB_GROUP: &str = "kubedb.com";
const KUBEDB_VERSIONS: [&str; 2] = ["v1alpha2", "v1"];

/// The KubeDB database kinds of metadata.yml's rules (KubeDB's own kind names).
const KUBEDB_KINDS: [&str; 15] = [
    "Postgres",
    "MySQL",
    "MariaDB",
    "MongoDB",
    "Redis",
    "Elasticsearch",
    "PerconaXtraDB",
    "PgBouncer",
    "ProxySQL",
    "Memcached",
    "Etcd",
    "Druid",
    "MSSQLServer",
    "Singlestore",
    "ZooKeeper",
];

/// Every kind the policy handles, as settings name them (`requireBackup.kinds`, …).
pub fn known_kinds() -> Vec<&'static str> {
    let mut kinds = Vec::new();
    for workload in &WORKLOADS {
        kinds.push(workload.kind);
    }
    kinds.extend_from_slice(&["PersistentVolumeClaim", APPBINDING_KIND]);
    kinds.extend_from_slice(&KUBEDB_KINDS);
    kinds
}

/// The workloads KubeStash's auto-backup watches (apps/v1).
const KUBESTASH_WORKLOADS: [&str; 3] = ["Deployment", "StatefulSet", "DaemonSet"];

/// How Stash treats a target kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, DeploymentConfig.
    Workload,
    PersistentVolumeClaim,
    /// An AppBinding, annotated directly.
    AppBinding,
    /// A KubeDB database, resolved as the AppBinding KubeDB creates for it.
    KubeDb,
}

struct WorkloadKind {
    api_version: &'static str,
    kind: &'static str,
    resource: &'static str,
    short: &'static str,
}

const WORKLOADS: [WorkloadKind; 6] = [
    WorkloadKind {
        api_version: "apps/v1",
        kind: "Deployment",
        resource: "deployments",
        short: "deploy",
    },
    WorkloadKind {
        api_version: "apps/v1",
        kind: "StatefulSet",
        resource: "statefulsets",
        short: "sts",
    },
    WorkloadKind {
        api_version: "apps/v1",
        kind: "DaemonSet",
        resource: "daemonsets",
        short: "ds",
    },
    WorkloadKind {
        api_version: "apps/v1",
        kind: "ReplicaSet",
        resource: "replicasets",
        short: "replicaset",
    },
    WorkloadKind {
        api_version: "v1",
        kind: "ReplicationController",
        resource: "replicationcontrollers",
        short: "rc",
    },
    WorkloadKind {
        api_version: "apps.openshift.io/v1",
        kind: "DeploymentConfig",
        resource: "deploymentconfigs",
        short: "deploymentconfig",
    },
];

/// The family of `apiVersion`/`kind`, or `None` when the policy ignores that kind.
pub fn classify(api_version: &str, kind: &str) -> Option<Family> {
    if WORKLOADS.iter().any(|w| w.api_version == api_version && w.kind == kind) {
        return Some(Family::Workload);
    }
    match (api_version, kind) {
        ("v1", "PersistentVolumeClaim") => Some(Family::PersistentVolumeClaim),
        (APPBINDING_API_VERSION, APPBINDING_KIND) => Some(Family::AppBinding),
        _ if is_kubedb(api_version) && !kind.is_empty() => Some(Family::KubeDb),
        _ => None,
    }
}

/// Whether `api_version` is one of KubeDB's (`kubedb.com/v1`, …).
pub fn is_kubedb(api_version: &str) -> bool {
    api_version
        .split_once('/')
        .is_some_and(|(group, version)| group == KUBEDB_GROUP && KUBEDB_VERSIONS.contains(&version))
}

/// The object Stash backs up, as the generated BackupConfiguration refers to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub family: Family,
    /// The apiVersion and kind of the admitted object: KubeStash's target, and messages
    /// ("Postgres demo/pg").
    pub admitted_api_version: String,
    pub admitted_kind: String,
    /// apiVersion and kind of the backup target (the AppBinding for a KubeDB database).
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: String,
    /// Set once the object exists in the cluster (never on CREATE).
    pub uid: Option<String>,
    /// AppBinding `spec.type` (for KubeDB: `kubedb.com/<lower-case kind>`).
    pub app_type: Option<String>,
    /// AppBinding `spec.version` (for KubeDB: the database's `spec.version`).
    pub app_version: Option<String>,
}

impl Target {
    /// Builds the target of an admitted object of a known `family`. `spec` is the object's
    /// `spec` (only read for AppBindings and KubeDB databases).
    pub fn new(
        family: Family,
        api_version: &str,
        kind: &str,
        name: &str,
        namespace: &str,
        uid: Option<&str>,
        spec: Option<&Value>,
    ) -> Target {
        let version = spec.and_then(|s| s.get("version")).and_then(scalar_text);
        let admitted_api_version = api_version.to_string();
        let (api_version, target_kind, app_type, app_version) = match family {
            Family::KubeDb => (
                APPBINDING_API_VERSION.to_string(),
                APPBINDING_KIND.to_string(),
                // Kinds are ASCII: the API server serves no other (CRD kinds are DNS-1035 labels).
                Some(format!("{KUBEDB_GROUP}/{}", kind.to_ascii_lowercase())),
                version,
            ),
            Family::AppBinding => {
                let app_type = spec.and_then(|s| s.get("type")).and_then(scalar_text);
                (api_version.to_string(), kind.to_string(), app_type, version)
            }
            Family::Workload | Family::PersistentVolumeClaim => (api_version.to_string(), kind.to_string(), None, None),
        };
        Target {
            family,
            admitted_api_version,
            admitted_kind: kind.to_string(),
            api_version,
            kind: target_kind,
            name: name.to_string(),
            namespace: namespace.to_string(),
            uid: uid.filter(|u| !u.is_empty()).map(str::to_string),
            app_type,
            app_version,
        }
    }

    pub fn is_workload(&self) -> bool {
        self.family == Family::Workload
    }

    pub fn is_database(&self) -> bool {
        matches!(self.family, Family::AppBinding | Family::KubeDb)
    }

    /// The plural resource name of the backup target, e.g. `deployments`.
    pub fn resource(&self) -> String {
        match self.workload_kind() {
            Some(w) => w.resource.to_string(),
            None if self.family == Family::PersistentVolumeClaim => "persistentvolumeclaims".to_string(),
            None => "appbindings".to_string(),
        }
    }

    /// Stash's short kind used as the name prefix (stashed/apimachinery `ResourceShortForm`).
    pub fn short_kind(&self) -> String {
        match self.workload_kind() {
            Some(w) => w.short.to_string(),
            None if self.family == Family::PersistentVolumeClaim => "pvc".to_string(),
            None => "app".to_string(),
        }
    }

    /// Stash backs workloads up with a sidecar, one per BackupConfiguration (stashed/stash#1139).
    pub fn uses_sidecar(&self) -> bool {
        self.is_workload()
    }

    /// Stash refuses a BackupConfiguration in another namespace than these targets.
    pub fn forbids_cross_namespace_backup(&self) -> bool {
        matches!(
            self.kind.as_str(),
            "Deployment" | "StatefulSet" | "DaemonSet" | "DeploymentConfig" | "PersistentVolumeClaim"
        )
    }

    /// `<apiVersion>/<Kind>/<namespace>/<name>` of the backup target, recorded on every
    /// generated object.
    pub fn reference(&self) -> String {
        format!("{}/{}/{}/{}", self.api_version, self.kind, self.namespace, self.name)
    }

    /// The group of the admitted object (`""` for the core group).
    pub fn admitted_group(&self) -> &str {
        self.admitted_api_version
            .rsplit_once('/')
            .map_or("", |(group, _)| group)
    }

    /// `<apiVersion>/<Kind>/<namespace>/<name>` of the admitted object: KubeStash backs up a
    /// KubeDB database as itself.
    pub fn kubestash_reference(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.admitted_api_version, self.admitted_kind, self.namespace, self.name
        )
    }

    /// The kind KubeStash names the BackupConfiguration after: the lower-case kind, `appbinding`
    /// for a KubeDB database (KubeStash acts on the AppBinding KubeDB makes for it).
    pub fn kubestash_kind(&self) -> String {
        match self.family {
            Family::KubeDb => APPBINDING_KIND.to_ascii_lowercase(),
            _ => self.admitted_kind.to_ascii_lowercase(),
        }
    }

    /// Whether KubeStash's auto-backup watches objects of this kind: apps/v1 Deployments,
    /// StatefulSets and DaemonSets, PersistentVolumeClaims and KubeDB databases.
    pub fn kubestash_watches(&self) -> bool {
        match self.family {
            Family::Workload => {
                self.admitted_api_version == "apps/v1" && KUBESTASH_WORKLOADS.contains(&self.admitted_kind.as_str())
            }
            Family::PersistentVolumeClaim | Family::KubeDb => true,
            Family::AppBinding => false,
        }
    }

    /// `Kind namespace/name` of the admitted object, for messages.
    pub fn display(&self) -> String {
        let shorten = crate::report::shorten;
        format!(
            "{} {}/{}",
            shorten(&self.admitted_kind),
            shorten(&self.namespace),
            shorten(&self.name)
        )
    }

    fn workload_kind(&self) -> Option<&'static WorkloadKind> {
        WORKLOADS
            .iter()
            .find(|w| w.kind == self.kind && w.api_version == self.api_version)
    }
}

/// A ReplicaSet created by the Deployment controller carries the Deployment's annotations;
/// the Deployment is the target, so the ReplicaSet is left alone.
pub fn is_deployment_replicaset(api_version: &str, kind: &str, owner_kinds: &[String]) -> bool {
    api_version == "apps/v1" && kind == "ReplicaSet" && owner_kinds.iter().any(|k| k == "Deployment")
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn classifies_every_target_kind() {
        let cases = [
            ("apps/v1", "Deployment", Some(Family::Workload)),
            ("apps/v1", "StatefulSet", Some(Family::Workload)),
            ("apps/v1", "DaemonSet", Some(Family::Workload)),
            ("apps/v1", "ReplicaSet", Some(Family::Workload)),
            ("v1", "ReplicationController", Some(Family::Workload)),
            ("apps.openshift.io/v1", "DeploymentConfig", Some(Family::Workload)),
            ("v1", "PersistentVolumeClaim", Some(Family::PersistentVolumeClaim)),
            (
                "appcatalog.appscode.com/v1alpha1",
                "AppBinding",
                Some(Family::AppBinding),
            ),
            ("kubedb.com/v1alpha2", "Postgres", Some(Family::KubeDb)),
            ("kubedb.com/v1", "MySQL", Some(Family::KubeDb)),
            ("kubedb.com/v1beta9", "MySQL", None),
            ("extensions/v1beta1", "Deployment", None),
            ("v1", "Pod", None),
            ("v1", "ConfigMap", None),
            ("", "", None),
        ];
        for (api_version, kind, expected) in cases {
            assert_eq!(classify(api_version, kind), expected, "{api_version} {kind}");
        }
    }

    #[test]
    fn kubedb_database_is_resolved_as_its_appbinding() {
        let spec = json!({"version": "11.11"});
        let t = Target::new(
            Family::KubeDb,
            "kubedb.com/v1alpha2",
            "Postgres",
            "pg",
            "demo",
            None,
            Some(&spec),
        );
        assert_eq!(t.api_version, "appcatalog.appscode.com/v1alpha1");
        assert_eq!(t.kind, "AppBinding");
        assert_eq!(t.app_type.as_deref(), Some("kubedb.com/postgres"));
        assert_eq!(t.app_version.as_deref(), Some("11.11"));
        assert_eq!(t.resource(), "appbindings");
        assert_eq!(t.short_kind(), "app");
        assert_eq!(t.display(), "Postgres demo/pg");
    }

    #[test]
    fn short_kinds_and_resources_follow_stash() {
        let cases = [
            ("apps/v1", "Deployment", "deploy", "deployments"),
            ("apps/v1", "StatefulSet", "sts", "statefulsets"),
            ("apps/v1", "DaemonSet", "ds", "daemonsets"),
            ("apps/v1", "ReplicaSet", "replicaset", "replicasets"),
            ("v1", "ReplicationController", "rc", "replicationcontrollers"),
            (
                "apps.openshift.io/v1",
                "DeploymentConfig",
                "deploymentconfig",
                "deploymentconfigs",
            ),
            ("v1", "PersistentVolumeClaim", "pvc", "persistentvolumeclaims"),
            ("appcatalog.appscode.com/v1alpha1", "AppBinding", "app", "appbindings"),
        ];
        for (api_version, kind, short, resource) in cases {
            let family = classify(api_version, kind).unwrap();
            let t = Target::new(family, api_version, kind, "x", "ns", None, None);
            assert_eq!(
                (t.short_kind().as_str(), t.resource().as_str()),
                (short, resource),
                "{kind}"
            );
        }
    }

    #[test]
    fn replicaset_owned_by_a_deployment_is_skipped() {
        let owners = vec!["Deployment".to_string()];
        assert!(is_deployment_replicaset("apps/v1", "ReplicaSet", &owners));
        assert!(!is_deployment_replicaset("apps/v1", "ReplicaSet", &[]));
        assert!(!is_deployment_replicaset("apps/v1", "StatefulSet", &owners));
    }
}
