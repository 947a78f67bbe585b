//! The lookups of one evaluation: typed, with the field masks the policy needs, and each made
//! at most once (the host-call budget).

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::Value;

use super::{
    ANY_SIZE, BLUEPRINT_API_VERSION, BLUEPRINT_KIND, Cluster, LookupError, MAX_ANNOTATED_ANSWER,
    MAX_KUBESTASH_BLUEPRINT_ANSWER, MAX_STORAGE_ANSWER, Query,
};
use crate::blueprint::kubestash::{
    BACKUP_CONFIGURATION_KIND, BACKUP_STORAGE_KIND, CORE_API_VERSION as KUBESTASH_CORE_API_VERSION, REPOSITORY_KIND,
    RETENTION_POLICY_KIND, STORAGE_API_VERSION as KUBESTASH_STORAGE_API_VERSION,
};
use crate::support::json_fields::at;
use crate::support::string_map::StringMap;
use crate::target::annotations::TARGET;

type Key = (String, String, Option<String>, String);
/// What the cluster answered, shared, not copied: an answer is read, never changed.
pub type Answer = Result<Rc<Value>, LookupError>;

pub struct Lookups<'a> {
    cluster: &'a dyn Cluster,
    /// A list: the host-call budget keeps it short, and it costs less in policy.wasm than a map.
    answers: RefCell<Vec<(Key, Answer)>>,
}

impl<'a> Lookups<'a> {
    pub fn new(cluster: &'a dyn Cluster) -> Lookups<'a> {
        Lookups {
            cluster,
            answers: RefCell::new(Vec::new()),
        }
    }

    /// The BackupBlueprint `name` (cluster scope), whole.
    pub fn backup_blueprint(&self, name: &str) -> Result<Rc<Value>, LookupError> {
        self.get(Query {
            api_version: BLUEPRINT_API_VERSION,
            kind: BLUEPRINT_KIND,
            namespace: None,
            name,
            field_masks: &[],
            max_answer_bytes: ANY_SIZE,
        })
    }

    /// Whether Secret `namespace/name` exists; its data is never read.
    pub fn secret_exists(&self, namespace: &str, name: &str) -> Result<(), LookupError> {
        self.get(Query {
            api_version: "v1",
            kind: "Secret",
            namespace: Some(namespace),
            name,
            field_masks: &["metadata.name"],
            max_answer_bytes: ANY_SIZE,
        })
        .map(drop)
    }

    /// The labels of Namespace `name`.
    pub fn namespace_labels(&self, name: &str) -> Result<StringMap, LookupError> {
        let namespace = self.get(Query {
            api_version: "v1",
            kind: "Namespace",
            namespace: None,
            name,
            field_masks: &["metadata.labels"],
            max_answer_bytes: ANY_SIZE,
        })?;
        // Labels that are not strings are ignored.
        let labels = at(&namespace, &["metadata", "labels"]).and_then(Value::as_object);
        Ok(labels.map(StringMap::strings_of).unwrap_or_default())
    }

    /// The `autobackup.kubewarden.io/target` annotation of an existing object (`None` when it
    /// has none).
    pub fn recorded_target(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<String>, LookupError> {
        let object = self.get(Query {
            api_version,
            kind,
            namespace: Some(namespace),
            name,
            field_masks: &["metadata.annotations"],
            max_answer_bytes: ANY_SIZE,
        })?;
        let target = at(&object, &["metadata", "annotations", TARGET]);
        Ok(target.and_then(Value::as_str).map(str::to_string))
    }

    /// A KubeStash BackupBlueprint, namespaced.
    pub fn kubestash_blueprint(&self, namespace: &str, name: &str) -> Answer {
        self.namespaced(
            KUBESTASH_CORE_API_VERSION,
            BLUEPRINT_KIND,
            namespace,
            name,
            &[],
            MAX_KUBESTASH_BLUEPRINT_ANSWER,
        )
    }

    /// A KubeStash BackupStorage: its usage policy.
    pub fn backup_storage(&self, namespace: &str, name: &str) -> Answer {
        self.namespaced(
            KUBESTASH_STORAGE_API_VERSION,
            BACKUP_STORAGE_KIND,
            namespace,
            name,
            &["spec.usagePolicy"],
            MAX_STORAGE_ANSWER,
        )
    }

    /// A KubeStash RetentionPolicy: its usage policy and what it keeps.
    pub fn retention_policy(&self, namespace: &str, name: &str) -> Answer {
        self.namespaced(
            KUBESTASH_STORAGE_API_VERSION,
            RETENTION_POLICY_KIND,
            namespace,
            name,
            &["spec.usagePolicy", "spec.successfulSnapshots"],
            MAX_STORAGE_ANSWER,
        )
    }

    /// A KubeStash Repository: the target it backs up and its storage.
    pub fn kubestash_repository(&self, namespace: &str, name: &str) -> Answer {
        self.namespaced(
            KUBESTASH_STORAGE_API_VERSION,
            REPOSITORY_KIND,
            namespace,
            name,
            &["spec.appRef", "spec.storageRef"],
            MAX_STORAGE_ANSWER,
        )
    }

    /// A KubeStash BackupConfiguration: whose it is (the policy's annotation, its target).
    pub fn kubestash_backup_configuration(&self, namespace: &str, name: &str) -> Answer {
        self.namespaced(
            KUBESTASH_CORE_API_VERSION,
            BACKUP_CONFIGURATION_KIND,
            namespace,
            name,
            &["metadata.annotations", "spec.target"],
            MAX_ANNOTATED_ANSWER,
        )
    }

    /// A namespaced object.
    fn namespaced(
        &self,
        api_version: &'static str,
        kind: &'static str,
        namespace: &str,
        name: &str,
        field_masks: &'static [&'static str],
        max_answer_bytes: usize,
    ) -> Answer {
        self.get(Query {
            api_version,
            kind,
            namespace: Some(namespace),
            name,
            field_masks,
            max_answer_bytes,
        })
    }

    fn get(&self, query: Query) -> Answer {
        let key = (
            query.api_version.to_string(),
            query.kind.to_string(),
            query.namespace.map(str::to_string),
            query.name.to_string(),
        );
        if let Some((_, answer)) = self.answers.borrow().iter().find(|(asked, _)| *asked == key) {
            return answer.clone();
        }
        let answer = self.cluster.get(&query).map(Rc::new);
        self.answers.borrow_mut().push((key, answer.clone()));
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lookups::MemoryCluster;
    use serde_json::json;

    #[test]
    fn each_lookup_is_made_once() {
        let cluster = MemoryCluster::new(vec![
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo", "labels": {"team": "a", "n": 1}}}),
        ]);
        let lookups = Lookups::new(&cluster);
        for _ in 0..3 {
            assert_eq!(
                lookups.namespace_labels("demo"),
                Ok(StringMap::from([("team".to_string(), "a".to_string())]))
            );
            assert_eq!(lookups.secret_exists("demo", "s"), Err(LookupError::NotFound));
        }
        assert_eq!(*cluster.calls.borrow(), ["Namespace demo", "Secret demo/s"]);
    }

    #[test]
    fn recorded_target_reads_the_annotation() {
        let cluster = MemoryCluster::new(vec![json!({
            "apiVersion": "stash.appscode.com/v1alpha1", "kind": "Repository",
            "metadata": {"name": "r", "namespace": "demo", "annotations": {TARGET: "apps/v1/Deployment/demo/web"}}
        })]);
        let lookups = Lookups::new(&cluster);
        assert_eq!(
            lookups.recorded_target("stash.appscode.com/v1alpha1", "Repository", "demo", "r"),
            Ok(Some("apps/v1/Deployment/demo/web".to_string()))
        );
    }
}
