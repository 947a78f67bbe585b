//! The lookups of one evaluation: typed, with the field masks the policy needs, and each made
//! at most once (the host-call budget).

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::Value;

use super::{BLUEPRINT_API_VERSION, BLUEPRINT_KIND, Cluster, LookupError, Query};
use crate::support::json_fields::at;
use crate::support::string_map::StringMap;
use crate::target::annotations::TARGET;

type Key = (String, String, Option<String>, String);
/// What the cluster answered, shared, not copied: an answer is read, never changed.
type Answer = Result<Rc<Value>, LookupError>;

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
            field_mask: None,
        })
    }

    /// Whether Secret `namespace/name` exists; its data is never read.
    pub fn secret_exists(&self, namespace: &str, name: &str) -> Result<(), LookupError> {
        self.get(Query {
            api_version: "v1",
            kind: "Secret",
            namespace: Some(namespace),
            name,
            field_mask: Some("metadata.name"),
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
            field_mask: Some("metadata.labels"),
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
            field_mask: Some("metadata.annotations"),
        })?;
        let target = at(&object, &["metadata", "annotations", TARGET]);
        Ok(target.and_then(Value::as_str).map(str::to_string))
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
