//! The policy's `ValidationResponse` turned into the AdmissionResponse `kwctl run` prints, as
//! policy-evaluator's `AdmissionResponse::from_policy_validation_response` does: the JSON Patch
//! is computed from `mutated_object` with `json_patch::diff` and base64-encoded.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the policy's `validate` returns: the SDK's own type.
pub use kubewarden_policy_sdk::response::ValidationResponse;

/// `status` of a rejected AdmissionResponse.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdmissionResponseStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
}

/// The `admission/v1` AdmissionResponse, serialized like kwctl's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionResponse {
    pub uid: String,
    pub allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<AdmissionResponseStatus>,
    pub audit_annotations: Option<BTreeMap<String, String>>,
    pub warnings: Option<Vec<String>>,
}

/// policy-evaluator's text when a policy mutates a DELETE request.
pub const MUTATION_ON_DELETE: &str = "Incoming object is null, which happens only with DELETE operations, but the policy is attempting a mutation. This is not allowed";

impl AdmissionResponse {
    /// A rejection with a message and a code.
    pub fn reject(uid: &str, message: String, code: u16) -> Self {
        Self {
            uid: uid.to_string(),
            allowed: false,
            status: Some(AdmissionResponseStatus {
                message: Some(message),
                code: Some(code),
            }),
            ..Default::default()
        }
    }

    /// policy-evaluator's answer when the policy could not be evaluated.
    pub fn internal_server_error(uid: &str, message: impl std::fmt::Display) -> Self {
        Self::reject(uid, format!("internal server error: {message}"), 500)
    }

    /// Builds the response to the request whose `object` is `request_object`.
    pub fn from_validation_response(uid: &str, request_object: Option<&Value>, response: &ValidationResponse) -> Self {
        let patch = match (&response.mutated_object, request_object) {
            (Some(_), None) => {
                return Self {
                    uid: uid.to_string(),
                    status: Some(AdmissionResponseStatus {
                        message: Some(MUTATION_ON_DELETE.into()),
                        code: None,
                    }),
                    ..Default::default()
                };
            }
            (Some(mutated), Some(original)) => encoded_patch(original, mutated),
            (None, _) => None,
        };
        let status = (response.message.is_some() || response.code.is_some()).then(|| AdmissionResponseStatus {
            message: response.message.clone(),
            code: response.code,
        });
        Self {
            uid: uid.to_string(),
            allowed: response.accepted,
            patch_type: patch.is_some().then(|| "JSONPatch".to_string()),
            patch,
            status,
            audit_annotations: response.audit_annotations.clone().map(|a| a.into_iter().collect()),
            warnings: response.warnings.clone(),
        }
    }

    /// The decoded JSON Patch, if any.
    /// The rejection message (`status.message`), empty when there is none.
    pub fn message(&self) -> &str {
        self.status.as_ref().and_then(|s| s.message.as_deref()).unwrap_or("")
    }

    pub fn decoded_patch(&self) -> Result<Option<json_patch::Patch>, String> {
        let Some(encoded) = &self.patch else { return Ok(None) };
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|e| format!("patch is not base64: {e}"))?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("patch is not a JSON Patch: {e}"))
    }

    /// Applies the response's patch to `object` (unchanged without a patch), as the API server
    /// would.
    pub fn apply_patch(&self, object: &Value) -> Result<Value, String> {
        let mut patched = object.clone();
        if let Some(patch) = self.decoded_patch()? {
            json_patch::patch(&mut patched, &patch).map_err(|e| format!("cannot apply the patch: {e}"))?;
        }
        Ok(patched)
    }
}

/// The base64 JSON Patch from `original` to `mutated`; `None` when they are equal.
pub fn encoded_patch(original: &Value, mutated: &Value) -> Option<String> {
    let diff = json_patch::diff(original, mutated);
    if diff.0.is_empty() {
        return None;
    }
    let text = serde_json::to_string(&diff).expect("a JSON Patch always serializes");
    Some(STANDARD.encode(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn validation(accepted: bool, mutated: Option<Value>) -> ValidationResponse {
        ValidationResponse {
            accepted,
            message: None,
            code: None,
            mutated_object: mutated,
            audit_annotations: None,
            warnings: None,
        }
    }

    #[test]
    fn an_accepted_response_without_mutation_has_no_patch() {
        let response = AdmissionResponse::from_validation_response("u", Some(&json!({})), &validation(true, None));
        assert_eq!(
            serde_json::to_string(&response).unwrap(),
            r#"{"uid":"u","allowed":true,"auditAnnotations":null,"warnings":null}"#
        );
    }

    #[test]
    fn a_mutation_becomes_a_base64_json_patch() {
        let original = json!({"metadata": {"name": "x"}});
        let mutated = json!({"metadata": {"name": "x", "annotations": {"a": "b"}}});
        let response =
            AdmissionResponse::from_validation_response("u", Some(&original), &validation(true, Some(mutated.clone())));
        assert_eq!(response.patch_type.as_deref(), Some("JSONPatch"));
        let patch = response.decoded_patch().unwrap().unwrap();
        assert_eq!(
            serde_json::to_value(&patch).unwrap(),
            json!([{"op": "add", "path": "/metadata/annotations", "value": {"a": "b"}}])
        );
        assert_eq!(response.apply_patch(&original).unwrap(), mutated);
    }

    #[test]
    fn a_mutated_object_equal_to_the_original_gives_no_patch() {
        let object = json!({"a": 1});
        let response =
            AdmissionResponse::from_validation_response("u", Some(&object), &validation(true, Some(object.clone())));
        assert_eq!((response.patch, response.patch_type), (None, None));
    }

    #[test]
    fn a_rejection_keeps_message_code_and_warnings() {
        let mut rejected = validation(false, None);
        rejected.message = Some("no".into());
        rejected.code = Some(400);
        rejected.warnings = Some(vec!["w".into()]);
        let response = AdmissionResponse::from_validation_response("u", Some(&json!({})), &rejected);
        assert_eq!(
            serde_json::to_string(&response).unwrap(),
            r#"{"uid":"u","allowed":false,"status":{"message":"no","code":400},"auditAnnotations":null,"warnings":["w"]}"#
        );
    }

    #[test]
    fn mutating_a_delete_is_rejected_like_policy_evaluator() {
        let response = AdmissionResponse::from_validation_response("u", None, &validation(true, Some(json!({}))));
        assert!(!response.allowed);
        assert_eq!(response.status.unwrap().message.as_deref(), Some(MUTATION_ON_DELETE));
    }

    #[test]
    fn internal_errors_are_500() {
        let response = AdmissionResponse::internal_server_error("u", "Guest call failure: boom");
        assert_eq!(
            response.status.unwrap(),
            AdmissionResponseStatus {
                message: Some("internal server error: Guest call failure: boom".into()),
                code: Some(500)
            }
        );
    }
}
