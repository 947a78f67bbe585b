//! Cluster lookups (SPEC §9): one small interface, the Kubewarden host implementation behind
//! it, and an in-memory cluster for tests and tools.

use std::cell::RefCell;
use std::collections::BTreeSet;

use serde_json::Value;

pub const BLUEPRINT_API_VERSION: &str = "stash.appscode.com/v1beta1";
pub const BLUEPRINT_KIND: &str = "BackupBlueprint";
/// policy-server's text for a missing object starts with this.
const NOT_FOUND_PREFIX: &str = "Cannot find ";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    NotFound,
    /// Any other failure (API server unreachable, access not granted, bad answer).
    Failed(String),
}

/// What the policy reads from the cluster. Every call is a `get` of one object.
pub trait Cluster {
    /// The BackupBlueprint `name` (cluster scope), whole.
    fn backup_blueprint(&self, name: &str) -> Result<Value, LookupError>;
    /// Whether Secret `namespace/name` exists; never reads its data.
    fn secret_exists(&self, namespace: &str, name: &str) -> Result<(), LookupError>;
}

/// Kubewarden's `kubernetes.get_resource` host capability.
pub struct HostCluster;

impl Cluster for HostCluster {
    fn backup_blueprint(&self, name: &str) -> Result<Value, LookupError> {
        get_resource(BLUEPRINT_API_VERSION, BLUEPRINT_KIND, name, None, None)
    }

    fn secret_exists(&self, namespace: &str, name: &str) -> Result<(), LookupError> {
        let mask = BTreeSet::from(["metadata.name".to_string()]);
        get_resource("v1", "Secret", name, Some(namespace), Some(mask)).map(drop)
    }
}

fn get_resource(
    api_version: &str,
    kind: &str,
    name: &str,
    namespace: Option<&str>,
    field_masks: Option<BTreeSet<String>>,
) -> Result<Value, LookupError> {
    use kubewarden_policy_sdk::host_capabilities::kubernetes::GetResourceRequest;
    let request = GetResourceRequest {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        name: name.to_string(),
        namespace: namespace.map(str::to_string),
        disable_cache: false,
        field_masks,
    };
    let payload = serde_json::to_vec(&request).map_err(|e| LookupError::Failed(e.to_string()))?;
    let answer = kubewarden_policy_sdk::wapc_guest::host_call("kubewarden", "kubernetes", "get_resource", &payload)
        .map_err(|e| classify_host_error(&e.to_string()))?;
    serde_json::from_slice(&answer).map_err(|e| LookupError::Failed(format!("unreadable answer: {e}")))
}

/// Turns a host error text into a lookup error. waPC prefixes it with `Host error: ` and
/// policy-server with `Callback evaluation failure: `; neither helps the reader.
pub fn classify_host_error(text: &str) -> LookupError {
    let text = text.strip_prefix("Host error: ").unwrap_or(text);
    let text = text.strip_prefix("Callback evaluation failure: ").unwrap_or(text);
    match text.starts_with(NOT_FOUND_PREFIX) {
        true => LookupError::NotFound,
        false => LookupError::Failed(text.to_string()),
    }
}

/// A cluster held in memory: the objects it holds, and the lookups it was asked, in order.
#[derive(Debug, Default)]
pub struct MemoryCluster {
    objects: Vec<Value>,
    /// `Kind namespace/name` (or `Kind name`) of every lookup, in order.
    pub calls: RefCell<Vec<String>>,
    /// When set, every lookup fails with this text.
    pub failure: Option<String>,
}

impl MemoryCluster {
    pub fn new(objects: Vec<Value>) -> MemoryCluster {
        MemoryCluster {
            objects,
            ..MemoryCluster::default()
        }
    }

    /// A cluster whose every lookup fails with `failure`.
    pub fn failing(failure: &str) -> MemoryCluster {
        MemoryCluster {
            failure: Some(failure.to_string()),
            ..MemoryCluster::default()
        }
    }

    fn find(&self, api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> Result<Value, LookupError> {
        let label = match namespace {
            Some(ns) => format!("{kind} {ns}/{name}"),
            None => format!("{kind} {name}"),
        };
        self.calls.borrow_mut().push(label);
        if let Some(failure) = &self.failure {
            return Err(LookupError::Failed(failure.clone()));
        }
        let text = |v: &Value, pointer: &str| v.pointer(pointer).and_then(Value::as_str).map(str::to_string);
        self.objects
            .iter()
            .find(|o| {
                text(o, "/apiVersion").as_deref() == Some(api_version)
                    && text(o, "/kind").as_deref() == Some(kind)
                    && text(o, "/metadata/name").as_deref() == Some(name)
                    && text(o, "/metadata/namespace").as_deref() == namespace
            })
            .cloned()
            .ok_or(LookupError::NotFound)
    }
}

impl Cluster for MemoryCluster {
    fn backup_blueprint(&self, name: &str) -> Result<Value, LookupError> {
        self.find(BLUEPRINT_API_VERSION, BLUEPRINT_KIND, None, name)
    }

    fn secret_exists(&self, namespace: &str, name: &str) -> Result<(), LookupError> {
        self.find("v1", "Secret", Some(namespace), name).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn host_errors_are_classified() {
        assert_eq!(
            classify_host_error(
                "Host error: Cannot find stash.appscode.com/v1beta1/BackupBlueprint named 'x' inside of namespace 'None'"
            ),
            LookupError::NotFound
        );
        assert_eq!(
            classify_host_error(
                "Host error: Callback evaluation failure: Cannot find v1/Secret named 's' inside of namespace 'Some(\"demo\")'"
            ),
            LookupError::NotFound
        );
        assert_eq!(
            classify_host_error("Host error: Callback evaluation failure: ApiError: forbidden"),
            LookupError::Failed("ApiError: forbidden".into())
        );
    }

    #[test]
    fn memory_cluster_finds_by_identity_and_records_calls() {
        let cluster = MemoryCluster::new(vec![
            json!({"apiVersion": "stash.appscode.com/v1beta1", "kind": "BackupBlueprint", "metadata": {"name": "b"}}),
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "demo"}}),
        ]);
        assert!(cluster.backup_blueprint("b").is_ok());
        assert_eq!(cluster.backup_blueprint("c"), Err(LookupError::NotFound));
        assert_eq!(cluster.secret_exists("demo", "s"), Ok(()));
        assert_eq!(cluster.secret_exists("other", "s"), Err(LookupError::NotFound));
        assert_eq!(
            *cluster.calls.borrow(),
            [
                "BackupBlueprint b",
                "BackupBlueprint c",
                "Secret demo/s",
                "Secret other/s"
            ]
        );
    }
}
