//! The host-capability requests a policy makes, in the shape of policy-evaluator's
//! `CallbackRequestType` (the Kubernetes variants): kwctl's session files store them as YAML,
//! replay compares them for equality and prints them with `Debug` in its errors.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One Kubernetes host-capability request, named and laid out like policy-evaluator's enum so
/// that the derived `Serialize` and `Debug` output match kwctl's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallbackRequest {
    KubernetesListResourceNamespace {
        api_version: String,
        kind: String,
        namespace: String,
        label_selector: Option<String>,
        field_selector: Option<String>,
        field_masks: Option<BTreeSet<String>>,
    },
    KubernetesListResourceAll {
        api_version: String,
        kind: String,
        label_selector: Option<String>,
        field_selector: Option<String>,
        field_masks: Option<BTreeSet<String>>,
    },
    KubernetesGetResource {
        api_version: String,
        kind: String,
        name: String,
        namespace: Option<String>,
        disable_cache: bool,
        field_masks: Option<BTreeSet<String>>,
    },
    KubernetesCanI {
        /// The `authorization.k8s.io/v1` SubjectAccessReview policy-evaluator builds.
        subject_access_review: Value,
        disable_cache: bool,
    },
}

/// The payload of `get_resource` (the SDK's `GetResourceRequest`).
#[derive(Deserialize)]
struct GetResourcePayload {
    api_version: String,
    kind: String,
    name: String,
    namespace: Option<String>,
    disable_cache: bool,
    #[serde(default)]
    field_masks: Option<BTreeSet<String>>,
}

/// The payload of `list_resources_by_namespace` (the SDK's `ListResourcesByNamespaceRequest`).
#[derive(Deserialize)]
struct ListByNamespacePayload {
    api_version: String,
    kind: String,
    namespace: String,
    label_selector: Option<String>,
    field_selector: Option<String>,
    #[serde(default)]
    field_masks: Option<BTreeSet<String>>,
}

/// The payload of `list_resources_all` (the SDK's `ListAllResourcesRequest`).
#[derive(Deserialize)]
struct ListAllPayload {
    api_version: String,
    kind: String,
    label_selector: Option<String>,
    field_selector: Option<String>,
    #[serde(default)]
    field_masks: Option<BTreeSet<String>>,
}

/// The payload of `can_i` (the SDK's `CanIRequest`).
#[derive(Deserialize)]
struct CanIPayload {
    subject_access_review: SdkSubjectAccessReview,
    disable_cache: bool,
}

#[derive(Deserialize)]
struct SdkSubjectAccessReview {
    groups: Option<Vec<String>>,
    resource_attributes: SdkResourceAttributes,
    user: String,
}

#[derive(Deserialize)]
struct SdkResourceAttributes {
    group: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
    resource: String,
    subresource: Option<String>,
    verb: String,
    version: Option<String>,
}

impl CallbackRequest {
    /// Parses the JSON payload of a `kubewarden/kubernetes/<operation>` host call. `None` when
    /// the operation is not one of the Kubernetes capabilities.
    pub fn from_payload(operation: &str, payload: &[u8]) -> Option<Result<Self, serde_json::Error>> {
        let parsed = match operation {
            "get_resource" => serde_json::from_slice::<GetResourcePayload>(payload).map(Self::from),
            "list_resources_by_namespace" => serde_json::from_slice::<ListByNamespacePayload>(payload).map(Self::from),
            "list_resources_all" => serde_json::from_slice::<ListAllPayload>(payload).map(Self::from),
            "can_i" => serde_json::from_slice::<CanIPayload>(payload).map(Self::from),
            _ => return None,
        };
        Some(parsed)
    }

    /// The apiVersion and kind of a read request; `None` for `can_i`, which policy-server does
    /// not gate with the context-aware allow-list.
    pub fn resource_type(&self) -> Option<(&str, &str)> {
        match self {
            Self::KubernetesListResourceNamespace { api_version, kind, .. }
            | Self::KubernetesListResourceAll { api_version, kind, .. }
            | Self::KubernetesGetResource { api_version, kind, .. } => Some((api_version, kind)),
            Self::KubernetesCanI { .. } => None,
        }
    }

    /// The request as kwctl writes it into a session file: serde_yaml with the variant as tag.
    pub fn to_session_yaml(&self) -> Result<String, serde_yaml_ng::Error> {
        serde_yaml_ng::to_string(self)
    }

    /// Parses the `request` string of a session file exchange.
    pub fn from_session_yaml(text: &str) -> Result<Self, serde_yaml_ng::Error> {
        serde_yaml_ng::from_str(text)
    }
}

impl From<GetResourcePayload> for CallbackRequest {
    fn from(p: GetResourcePayload) -> Self {
        Self::KubernetesGetResource {
            api_version: p.api_version,
            kind: p.kind,
            name: p.name,
            namespace: p.namespace,
            disable_cache: p.disable_cache,
            field_masks: p.field_masks,
        }
    }
}

impl From<ListByNamespacePayload> for CallbackRequest {
    fn from(p: ListByNamespacePayload) -> Self {
        Self::KubernetesListResourceNamespace {
            api_version: p.api_version,
            kind: p.kind,
            namespace: p.namespace,
            label_selector: p.label_selector,
            field_selector: p.field_selector,
            field_masks: p.field_masks,
        }
    }
}

impl From<ListAllPayload> for CallbackRequest {
    fn from(p: ListAllPayload) -> Self {
        Self::KubernetesListResourceAll {
            api_version: p.api_version,
            kind: p.kind,
            label_selector: p.label_selector,
            field_selector: p.field_selector,
            field_masks: p.field_masks,
        }
    }
}

impl From<CanIPayload> for CallbackRequest {
    fn from(p: CanIPayload) -> Self {
        Self::KubernetesCanI {
            subject_access_review: subject_access_review(p.subject_access_review),
            disable_cache: p.disable_cache,
        }
    }
}

/// The `SubjectAccessReview` object policy-evaluator derives from the SDK request (unset
/// optional fields are omitted, as k8s-openapi serializes them).
fn subject_access_review(sar: SdkSubjectAccessReview) -> Value {
    let attrs = sar.resource_attributes;
    let mut resource_attributes = serde_json::Map::new();
    let optional = [
        ("group", attrs.group),
        ("name", attrs.name),
        ("namespace", attrs.namespace),
        ("subresource", attrs.subresource),
        ("version", attrs.version),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            resource_attributes.insert(key.into(), Value::String(value));
        }
    }
    resource_attributes.insert("resource".into(), Value::String(attrs.resource));
    resource_attributes.insert("verb".into(), Value::String(attrs.verb));

    let mut spec = serde_json::Map::new();
    if let Some(groups) = sar.groups {
        spec.insert("groups".into(), serde_json::json!(groups));
    }
    spec.insert("resourceAttributes".into(), Value::Object(resource_attributes));
    spec.insert("user".into(), Value::String(sar.user));
    serde_json::json!({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "metadata": {},
        "spec": spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret_request() -> CallbackRequest {
        CallbackRequest::KubernetesGetResource {
            api_version: "v1".into(),
            kind: "Secret".into(),
            name: "gcs-secret".into(),
            namespace: Some("demo".into()),
            disable_cache: false,
            field_masks: Some(BTreeSet::from(["metadata.name".to_string()])),
        }
    }

    #[test]
    fn parses_the_sdk_get_resource_payload() {
        let payload = br#"{"api_version":"v1","kind":"Secret","name":"gcs-secret","namespace":"demo","disable_cache":false,"field_masks":["metadata.name"]}"#;
        let parsed = CallbackRequest::from_payload("get_resource", payload).unwrap().unwrap();
        assert_eq!(parsed, secret_request());
    }

    #[test]
    fn a_payload_without_field_masks_means_none() {
        let payload = br#"{"api_version":"stash.appscode.com/v1beta1","kind":"BackupBlueprint","name":"b","namespace":null,"disable_cache":false}"#;
        let parsed = CallbackRequest::from_payload("get_resource", payload).unwrap().unwrap();
        assert!(matches!(
            parsed,
            CallbackRequest::KubernetesGetResource {
                field_masks: None,
                namespace: None,
                ..
            }
        ));
    }

    #[test]
    fn unknown_operations_are_not_parsed() {
        assert!(CallbackRequest::from_payload("delete_resource", b"{}").is_none());
    }

    #[test]
    fn session_yaml_is_kwctl_tagged_yaml() {
        let yaml = secret_request().to_session_yaml().unwrap();
        assert_eq!(
            yaml,
            "!KubernetesGetResource\napi_version: v1\nkind: Secret\nname: gcs-secret\nnamespace: demo\ndisable_cache: false\nfield_masks:\n- metadata.name\n"
        );
        assert_eq!(CallbackRequest::from_session_yaml(&yaml).unwrap(), secret_request());
    }

    #[test]
    fn debug_output_matches_policy_evaluator() {
        assert_eq!(
            format!("{:?}", secret_request()),
            r#"KubernetesGetResource { api_version: "v1", kind: "Secret", name: "gcs-secret", namespace: Some("demo"), disable_cache: false, field_masks: Some({"metadata.name"}) }"#
        );
    }

    #[test]
    fn can_i_builds_the_subject_access_review() {
        let payload = br#"{"subject_access_review":{"groups":null,"resource_attributes":{"group":null,"name":null,"namespace":"demo","resource":"secrets","subresource":null,"verb":"get","version":null},"user":"alice"},"disable_cache":false}"#;
        let parsed = CallbackRequest::from_payload("can_i", payload).unwrap().unwrap();
        let CallbackRequest::KubernetesCanI {
            subject_access_review, ..
        } = parsed
        else {
            panic!("not a can_i request");
        };
        assert_eq!(
            subject_access_review,
            serde_json::json!({"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","metadata":{},
                "spec":{"resourceAttributes":{"namespace":"demo","resource":"secrets","verb":"get"},"user":"alice"}})
        );
    }
}
