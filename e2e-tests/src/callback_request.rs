//! The host-capability request the policy makes, in the shape of policy-evaluator's
//! `CallbackRequestType`: kwctl's session files store it as YAML, replay compares it for
//! equality and prints it with `Debug` in its errors. The policy only ever calls
//! `kubernetes/get_resource` (never a list), so that is the one request policy-run
//! answers; its payload is the SDK's own `GetResourceRequest`.

use std::collections::BTreeSet;

use kubewarden_policy_sdk::host_capabilities::kubernetes::GetResourceRequest;
use serde::{Deserialize, Serialize};

/// The capability policy-run answers (`kubewarden/kubernetes/get_resource`).
pub const GET_RESOURCE: &str = "get_resource";

/// One Kubernetes host-capability request, named and laid out like policy-evaluator's enum so
/// that the derived `Serialize` and `Debug` output match kwctl's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallbackRequest {
    KubernetesGetResource {
        api_version: String,
        kind: String,
        name: String,
        namespace: Option<String>,
        disable_cache: bool,
        field_masks: Option<BTreeSet<String>>,
    },
}

impl CallbackRequest {
    /// Parses the JSON payload of a `kubewarden/kubernetes/get_resource` host call.
    pub fn from_payload(payload: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice::<GetResourceRequest>(payload).map(Self::from)
    }

    /// The apiVersion and kind of the request.
    pub fn resource_type(&self) -> (&str, &str) {
        let Self::KubernetesGetResource { api_version, kind, .. } = self;
        (api_version, kind)
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

impl From<GetResourceRequest> for CallbackRequest {
    fn from(r: GetResourceRequest) -> Self {
        Self::KubernetesGetResource {
            api_version: r.api_version,
            kind: r.kind,
            name: r.name,
            namespace: r.namespace,
            disable_cache: r.disable_cache,
            field_masks: r.field_masks,
        }
    }
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
        let parsed = CallbackRequest::from_payload(payload).unwrap();
        assert_eq!(parsed, secret_request());
    }

    #[test]
    fn a_payload_without_field_masks_means_none() {
        let payload = br#"{"api_version":"stash.appscode.com/v1beta1","kind":"BackupBlueprint","name":"b","namespace":null,"disable_cache":false}"#;
        let parsed = CallbackRequest::from_payload(payload).unwrap();
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
}
