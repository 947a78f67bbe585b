//! `--cluster OBJECTS.yaml`: a multi-document YAML of cluster objects that answers
//! `get_resource` like policy-server's callback handler answers it from the API server (same
//! lookups, field masks, and error texts).

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::callback_request::CallbackRequest;
use crate::field_mask::mask_object;
use crate::host::KubernetesBackend;
use crate::inputs::{parse_documents, read_documents};

/// Kinds the API server serves cluster-scoped (the others are namespaced unless the cluster
/// file holds an object of that kind without a namespace). The one list of policy-run, the
/// requests it builds and the fake API server of the policy-server tests. Stash's
/// BackupBlueprint is cluster-scoped, KubeStash's (`core.kubestash.com`) is namespaced: see
/// [`is_cluster_scoped_kind`].
pub const CLUSTER_SCOPED_KINDS: [&str; 13] = [
    "Namespace",
    "Node",
    "PersistentVolume",
    "StorageClass",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PriorityClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "BackupBlueprint",
    "Function",
    "ClusterAdmissionPolicy",
];

/// Groups whose kinds of the same names as [`CLUSTER_SCOPED_KINDS`] are namespaced.
const NAMESPACED_GROUPS: [&str; 1] = ["core.kubestash.com"];

/// Whether `kind` of `api_version` is served cluster-scoped.
pub fn is_cluster_scoped_kind(api_version: &str, kind: &str) -> bool {
    let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
    CLUSTER_SCOPED_KINDS.contains(&kind) && !NAMESPACED_GROUPS.contains(&group)
}

/// The objects of a cluster file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cluster {
    objects: Vec<Value>,
}

impl Cluster {
    /// Reads a multi-document YAML (or JSON) file of objects; `kind: List` documents are
    /// expanded.
    pub fn from_file(path: &Path) -> Result<Self> {
        let documents = read_documents(path, "cluster file")?;
        Self::from_documents(documents).with_context(|| format!("malformed cluster file {}", path.display()))
    }

    /// Parses the text of a cluster file.
    pub fn from_yaml(text: &str) -> Result<Self> {
        Self::from_documents(parse_documents(text)?)
    }

    fn from_documents(documents: Vec<Value>) -> Result<Self> {
        let mut cluster = Self::default();
        for (index, document) in documents.into_iter().enumerate() {
            cluster
                .add_document(document)
                .with_context(|| format!("object {}", index + 1))?;
        }
        Ok(cluster)
    }

    /// Adds one document: an object, a `List` of objects, or nothing (an empty document).
    pub fn add_document(&mut self, document: Value) -> Result<()> {
        match document {
            Value::Null => Ok(()),
            Value::Object(ref map)
                if map
                    .get("kind")
                    .and_then(Value::as_str)
                    .is_some_and(|k| k.ends_with("List")) =>
            {
                let items = map.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
                items.into_iter().try_for_each(|item| self.add_object(item))
            }
            other => self.add_object(other),
        }
    }

    /// Adds one object; it needs `apiVersion`, `kind` and `metadata.name`.
    pub fn add_object(&mut self, object: Value) -> Result<()> {
        for (pointer, what) in [
            ("/apiVersion", "apiVersion"),
            ("/kind", "kind"),
            ("/metadata/name", "metadata.name"),
        ] {
            if object
                .pointer(pointer)
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                bail!("an object without {what}: {}", compact(&object));
            }
        }
        self.objects.push(object);
        Ok(())
    }

    /// The objects, in file order.
    pub fn objects(&self) -> &[Value] {
        &self.objects
    }

    fn of_type<'a>(&'a self, api_version: &'a str, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.objects
            .iter()
            .filter(move |o| o["apiVersion"] == api_version && o["kind"] == kind)
    }

    /// True when `kind` is served cluster-scoped: a known cluster-scoped kind, or a kind this
    /// file holds an object of without a namespace.
    pub fn is_cluster_scoped(&self, api_version: &str, kind: &str) -> bool {
        is_cluster_scoped_kind(api_version, kind) || self.of_type(api_version, kind).any(|o| namespace_of(o).is_none())
    }

    fn get_resource(
        &self,
        api_version: &str,
        kind: &str,
        name: &str,
        namespace: Option<&str>,
    ) -> Result<Value, String> {
        let cluster_scoped = self.is_cluster_scoped(api_version, kind);
        if !cluster_scoped && namespace.is_none() {
            return Err(format!(
                "Resource {api_version}/{kind} is namespaced, but no namespace was provided"
            ));
        }
        self.of_type(api_version, kind)
            .find(|o| o["metadata"]["name"] == name && (cluster_scoped || namespace_of(o) == namespace))
            .cloned()
            .ok_or_else(|| {
                format!("Cannot find {api_version}/{kind} named '{name}' inside of namespace '{namespace:?}'")
            })
    }
}

impl KubernetesBackend for Cluster {
    fn answer(&mut self, request: &CallbackRequest) -> Result<Vec<u8>, String> {
        let CallbackRequest::KubernetesGetResource {
            api_version,
            kind,
            name,
            namespace,
            field_masks,
            ..
        } = request;
        let mut object = self.get_resource(api_version, kind, name, namespace.as_deref())?;
        mask_object(&mut object, field_masks.as_ref());
        serde_json::to_vec(&object).map_err(|e| format!("error serializing payload: {e:?}"))
    }
}

fn namespace_of(object: &Value) -> Option<&str> {
    object["metadata"]["namespace"].as_str().filter(|ns| !ns.is_empty())
}

fn compact(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 120 {
        format!("{}…", &text[..text.floor_char_boundary(120)])
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    const CLUSTER: &str = r#"
apiVersion: stash.appscode.com/v1beta1
kind: BackupBlueprint
metadata:
  name: gcs-blueprint
spec:
  backend:
    storageSecretName: gcs-secret
---
apiVersion: v1
kind: Secret
metadata:
  name: gcs-secret
  namespace: demo
  labels: {team: a}
data:
  GOOGLE_PROJECT_ID: cHJvamVjdA==
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata: {name: demo, labels: {team: a}}
- apiVersion: v1
  kind: Secret
  metadata: {name: other, namespace: prod}
---
"#;

    fn cluster() -> Cluster {
        Cluster::from_yaml(CLUSTER).unwrap()
    }

    fn get(
        name: &str,
        kind: &str,
        api_version: &str,
        namespace: Option<&str>,
        masks: Option<&[&str]>,
    ) -> Result<Value, String> {
        let request = CallbackRequest::KubernetesGetResource {
            api_version: api_version.into(),
            kind: kind.into(),
            name: name.into(),
            namespace: namespace.map(Into::into),
            disable_cache: false,
            field_masks: masks.map(|m| m.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>()),
        };
        cluster()
            .answer(&request)
            .map(|bytes| serde_json::from_slice(&bytes).unwrap())
    }

    #[test]
    fn reads_documents_and_lists() {
        assert_eq!(cluster().objects().len(), 4);
    }

    #[test]
    fn gets_a_cluster_scoped_object_by_name() {
        let blueprint = get(
            "gcs-blueprint",
            "BackupBlueprint",
            "stash.appscode.com/v1beta1",
            None,
            None,
        )
        .unwrap();
        assert_eq!(blueprint["spec"]["backend"]["storageSecretName"], "gcs-secret");
    }

    #[test]
    fn gets_a_namespaced_object_with_a_field_mask() {
        let secret = get("gcs-secret", "Secret", "v1", Some("demo"), Some(&["metadata.name"])).unwrap();
        assert_eq!(secret.get("data"), None);
        assert_eq!(secret["metadata"]["name"], "gcs-secret");
    }

    #[test]
    fn a_missing_object_is_policy_servers_cannot_find() {
        assert_eq!(
            get("gcs-secret", "Secret", "v1", Some("prod"), None).unwrap_err(),
            "Cannot find v1/Secret named 'gcs-secret' inside of namespace 'Some(\"prod\")'"
        );
        assert_eq!(
            get("nope", "BackupBlueprint", "stash.appscode.com/v1beta1", None, None).unwrap_err(),
            "Cannot find stash.appscode.com/v1beta1/BackupBlueprint named 'nope' inside of namespace 'None'"
        );
    }

    #[test]
    fn a_namespaced_kind_needs_a_namespace() {
        assert_eq!(
            get("gcs-secret", "Secret", "v1", None, None).unwrap_err(),
            "Resource v1/Secret is namespaced, but no namespace was provided"
        );
    }

    #[test]
    fn objects_need_kind_and_name() {
        let err = Cluster::from_yaml("apiVersion: v1\nkind: Secret\nmetadata: {}\n").unwrap_err();
        assert!(
            format!("{err:#}").contains("an object without metadata.name"),
            "{err:#}"
        );
        assert!(Cluster::from_yaml("key: [unclosed").is_err());
    }
}
