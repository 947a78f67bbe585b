//! A cluster held in memory, for tests and tools: the objects it holds, and the lookups it
//! was asked, in order.

use std::cell::RefCell;

use serde_json::Value;

use super::{Cluster, LookupError, Query};

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

    fn holds(object: &Value, query: &Query) -> bool {
        let text = |pointer: &str| object.pointer(pointer).and_then(Value::as_str);
        text("/apiVersion") == Some(query.api_version)
            && text("/kind") == Some(query.kind)
            && text("/metadata/name") == Some(query.name)
            && text("/metadata/namespace") == query.namespace
    }
}

impl Cluster for MemoryCluster {
    fn get(&self, query: &Query) -> Result<Value, LookupError> {
        self.calls.borrow_mut().push(query.label());
        if let Some(failure) = &self.failure {
            return Err(LookupError::Failed(failure.clone()));
        }
        self.objects
            .iter()
            .find(|o| MemoryCluster::holds(o, query))
            .cloned()
            .ok_or(LookupError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_by_identity_and_records_calls() {
        let cluster = MemoryCluster::new(vec![
            json!({"apiVersion": "stash.appscode.com/v1beta1", "kind": "BackupBlueprint", "metadata": {"name": "b"}}),
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "demo"}}),
        ]);
        let query = |kind, namespace, name| Query {
            api_version: if kind == "Secret" {
                "v1"
            } else {
                "stash.appscode.com/v1beta1"
            },
            kind,
            namespace,
            name,
            field_masks: &[],
            max_answer_bytes: crate::lookups::ANY_SIZE,
        };
        assert!(cluster.get(&query("BackupBlueprint", None, "b")).is_ok());
        assert_eq!(
            cluster.get(&query("BackupBlueprint", None, "c")),
            Err(LookupError::NotFound)
        );
        assert!(cluster.get(&query("Secret", Some("demo"), "s")).is_ok());
        assert_eq!(
            cluster.get(&query("Secret", Some("other"), "s")),
            Err(LookupError::NotFound)
        );
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
