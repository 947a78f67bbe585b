//! The AdmissionRequest handed to the policy: read from a file (a bare AdmissionRequest or an
//! AdmissionReview, like `kwctl run --request-path`) or built from an object manifest.
//! It is re-serialized the way policy-evaluator's `AdmissionRequest` struct does (unknown
//! fields dropped, unset optional fields omitted).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cluster::is_cluster_scoped_kind;

/// `admission/v1` GroupVersionKind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupVersionKind {
    pub group: String,
    pub version: String,
    pub kind: String,
}

/// `admission/v1` GroupVersionResource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupVersionResource {
    pub group: String,
    pub version: String,
    pub resource: String,
}

/// policy-evaluator's model of `admission/v1` AdmissionRequest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionRequest {
    pub uid: String,
    pub kind: GroupVersionKind,
    pub resource: GroupVersionResource,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_resource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_kind: Option<GroupVersionKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_resource: Option<GroupVersionResource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_sub_resource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub operation: String,
    pub user_info: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_object: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Value>,
}

/// The namespace `kubectl apply` uses for a namespaced object without one.
pub const DEFAULT_NAMESPACE: &str = "default";

/// The user policy-run requests are made as.
pub const USERNAME: &str = "policy-run";

impl AdmissionRequest {
    /// Reads a request document: an AdmissionReview (its `request`) or a bare AdmissionRequest.
    pub fn from_document(document: Value) -> Result<Self, String> {
        let request = match document {
            Value::Object(mut map) if map.get("request").is_some_and(Value::is_object) => {
                map.remove("request").unwrap_or_default()
            }
            other => other,
        };
        serde_json::from_value(request).map_err(|e| format!("not an AdmissionRequest or AdmissionReview: {e}"))
    }

    /// Builds the request the API server would send for `object`. `namespace` overrides the
    /// object's; a namespaced object without one goes to `default`, as with `kubectl apply`.
    pub fn for_object(
        mut object: Value,
        old_object: Option<Value>,
        operation: &str,
        namespace: Option<&str>,
    ) -> Result<Self, String> {
        let api_version = string_at(&object, "/apiVersion").ok_or("the object has no apiVersion")?;
        let kind = string_at(&object, "/kind").ok_or("the object has no kind")?;
        let name = string_at(&object, "/metadata/name").ok_or("the object has no metadata.name")?;
        let namespace = namespace
            .map(str::to_string)
            .or_else(|| string_at(&object, "/metadata/namespace"))
            .or_else(|| (!is_cluster_scoped_kind(&api_version, &kind)).then(|| DEFAULT_NAMESPACE.to_string()));
        if let (Some(ns), Some(metadata)) = (&namespace, object.get_mut("metadata").and_then(Value::as_object_mut)) {
            metadata.insert("namespace".into(), Value::String(ns.clone()));
        }
        let (group, version) = match api_version.split_once('/') {
            Some((group, version)) => (group.to_string(), version.to_string()),
            None => (String::new(), api_version.clone()),
        };
        Ok(Self {
            uid: format!("policy-run-{}", name),
            kind: GroupVersionKind {
                group: group.clone(),
                version: version.clone(),
                kind: kind.clone(),
            },
            resource: GroupVersionResource {
                group,
                version,
                resource: plural(&kind),
            },
            sub_resource: None,
            request_kind: None,
            request_resource: None,
            request_sub_resource: None,
            name: Some(name),
            namespace,
            operation: operation.to_string(),
            user_info: serde_json::json!({"username": USERNAME, "groups": ["system:authenticated"]}),
            object: Some(object),
            old_object,
            dry_run: Some(false),
            options: None,
        })
    }
}

/// The kind of a document that is an object manifest rather than a request: an AdmissionReview
/// says `kind: AdmissionReview`, and a bare AdmissionRequest's `kind` is a mapping.
pub fn manifest_kind(document: &Value) -> Option<&str> {
    let kind = document.get("kind")?.as_str()?;
    (kind != "AdmissionReview" && document.get("apiVersion").is_some_and(Value::is_string)).then_some(kind)
}

fn string_at(value: &Value, pointer: &str) -> Option<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The plural resource name of a kind, as Kubernetes and CRDs conventionally derive it.
pub fn plural(kind: &str) -> String {
    let lower = kind.to_lowercase();
    let consonant_y =
        lower.ends_with('y') && !lower.ends_with("ay") && !lower.ends_with("ey") && !lower.ends_with("oy");
    if consonant_y {
        format!("{}ies", &lower[..lower.len() - 1])
    } else if ["s", "x", "ch", "sh"].iter().any(|end| lower.ends_with(end)) {
        format!("{lower}es")
    } else {
        format!("{lower}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {}})
    }

    #[test]
    fn builds_a_create_request_in_the_default_namespace() {
        let request = AdmissionRequest::for_object(deployment(), None, "CREATE", None).unwrap();
        assert_eq!(
            request.kind,
            GroupVersionKind {
                group: "apps".into(),
                version: "v1".into(),
                kind: "Deployment".into()
            }
        );
        assert_eq!(request.resource.resource, "deployments");
        assert_eq!(request.namespace.as_deref(), Some("default"));
        assert_eq!(request.object.as_ref().unwrap()["metadata"]["namespace"], "default");
        assert_eq!(request.operation, "CREATE");
    }

    #[test]
    fn the_core_group_is_empty_and_cluster_kinds_have_no_namespace() {
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}});
        let request = AdmissionRequest::for_object(ns, None, "CREATE", None).unwrap();
        assert_eq!((request.kind.group.as_str(), request.namespace), ("", None));
    }

    #[test]
    fn reads_reviews_and_bare_requests() {
        let bare =
            serde_json::to_value(AdmissionRequest::for_object(deployment(), None, "UPDATE", Some("demo")).unwrap())
                .unwrap();
        let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": bare.clone()});
        let from_review = AdmissionRequest::from_document(review).unwrap();
        assert_eq!(from_review, AdmissionRequest::from_document(bare).unwrap());
        assert_eq!(from_review.namespace.as_deref(), Some("demo"));
        assert!(
            AdmissionRequest::from_document(json!({"hello": 1}))
                .unwrap_err()
                .starts_with("not an AdmissionRequest")
        );
    }

    #[test]
    fn a_manifest_is_not_a_request() {
        assert_eq!(manifest_kind(&deployment()), Some("Deployment"));
        let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {}});
        assert_eq!(manifest_kind(&review), None);
        let bare =
            serde_json::to_value(AdmissionRequest::for_object(deployment(), None, "CREATE", None).unwrap()).unwrap();
        assert_eq!(manifest_kind(&bare), None);
    }

    #[test]
    fn serialization_omits_unset_fields() {
        let request = AdmissionRequest::for_object(deployment(), None, "CREATE", None).unwrap();
        let value = serde_json::to_value(request).unwrap();
        assert!(value.get("oldObject").is_none() && value.get("subResource").is_none());
        assert_eq!(value["userInfo"]["username"], USERNAME);
    }

    #[test]
    fn plurals() {
        for (kind, expected) in [
            ("Deployment", "deployments"),
            ("PersistentVolumeClaim", "persistentvolumeclaims"),
            ("Postgres", "postgreses"),
            ("Redis", "redises"),
            ("Elasticsearch", "elasticsearches"),
            ("Policy", "policies"),
            ("Gateway", "gateways"),
        ] {
            assert_eq!(plural(kind), expected);
        }
    }

    #[test]
    fn objects_need_kind_and_name() {
        assert_eq!(
            AdmissionRequest::for_object(json!({"kind": "X"}), None, "CREATE", None).unwrap_err(),
            "the object has no apiVersion"
        );
        assert_eq!(
            AdmissionRequest::for_object(
                json!({"apiVersion": "v1", "kind": "X", "metadata": {}}),
                None,
                "CREATE",
                None
            )
            .unwrap_err(),
            "the object has no metadata.name"
        );
    }
}
