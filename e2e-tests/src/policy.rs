//! The policy's three waPC functions called with the payloads policy-server sends, and their
//! answers read the way policy-evaluator reads them.

use anyhow::{Result, bail};
use serde_json::{Value, json};

use crate::engine::PolicyInstance;
use crate::request::AdmissionRequest;
use crate::response::{AdmissionResponse, ValidationResponse};

/// The answer of `validate_settings`: the SDK's own type.
pub use kubewarden_policy_sdk::settings::SettingsValidationResponse as SettingsValidation;

/// The outcome of one `validate` call.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// What `kwctl run` prints.
    pub response: AdmissionResponse,
    /// The object the policy returned as mutated, if any.
    pub mutated_object: Option<Value>,
}

impl Evaluation {
    /// The object the policy returned as mutated, if any.
    pub fn mutated_object(&self) -> Option<&Value> {
        self.mutated_object.as_ref()
    }
}

/// A policy ready to be called.
pub struct Policy {
    instance: PolicyInstance,
}

impl Policy {
    pub fn new(instance: PolicyInstance) -> Self {
        Self { instance }
    }

    /// The waPC instance (host state, output).
    pub fn instance(&self) -> &PolicyInstance {
        &self.instance
    }

    /// The waPC instance, mutably.
    pub fn instance_mut(&mut self) -> &mut PolicyInstance {
        &mut self.instance
    }

    /// `protocol_version`: the policy must speak `v1`.
    pub fn protocol_version(&mut self) -> Result<String> {
        let raw = self.instance.call("protocol_version", &[])?;
        let version: String = serde_json::from_slice(&raw).map_err(|e| {
            anyhow::anyhow!(
                "cannot read the policy's protocol version {:?}: {e}",
                String::from_utf8_lossy(&raw)
            )
        })?;
        if version != "v1" {
            bail!("unsupported waPC protocol version {version:?}: policy-server speaks \"v1\"");
        }
        Ok(version)
    }

    /// `validate_settings`, with policy-evaluator's answers when the call itself fails.
    pub fn validate_settings(&mut self, settings: &Value) -> SettingsValidation {
        match self.instance.call("validate_settings", settings.to_string().as_bytes()) {
            Ok(raw) => serde_json::from_slice(&raw).unwrap_or_else(|e| SettingsValidation {
                valid: false,
                message: Some(format!("error: {e:?}")),
            }),
            Err(err) => SettingsValidation {
                valid: false,
                message: Some(format!("Error invoking settings validation callback: {err:?}")),
            },
        }
    }

    /// `validate` with `{"request": …, "settings": …}`.
    pub fn validate(&mut self, request: &AdmissionRequest, settings: &Value) -> Evaluation {
        let uid = request.uid.as_str();
        let payload = json!({"request": request, "settings": settings}).to_string();
        let raw = match self.instance.call("validate", payload.as_bytes()) {
            Ok(raw) => raw,
            Err(e) => {
                return Evaluation {
                    response: AdmissionResponse::internal_server_error(uid, e),
                    mutated_object: None,
                };
            }
        };
        match serde_json::from_slice::<ValidationResponse>(&raw) {
            Ok(validation) => Evaluation {
                response: AdmissionResponse::from_validation_response(uid, request.object.as_ref(), &validation),
                mutated_object: validation.mutated_object,
            },
            Err(e) => Evaluation {
                response: AdmissionResponse::internal_server_error(
                    uid,
                    format!("cannot deserialize the policy's validation response: {e}"),
                ),
                mutated_object: None,
            },
        }
    }
}
