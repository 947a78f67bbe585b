//! The waPC entry points: decode, call the core, encode. Nothing else happens here.

use std::cell::RefCell;
use std::rc::Rc;

use kubewarden_policy_sdk::response::ValidationResponse;
use kubewarden_policy_sdk::settings::SettingsValidationResponse;
use kubewarden_policy_sdk::wapc_guest as guest;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::lookups::HostCluster;
use crate::policy::{Admission, Decision, evaluate};
use crate::settings::{self, Settings};

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    guest::register_function("validate", validate);
    guest::register_function("validate_settings", validate_settings);
    guest::register_function("protocol_version", kubewarden_policy_sdk::protocol_version_guest);
}

#[derive(Deserialize)]
struct Payload<'a> {
    #[serde(borrow)]
    request: Request<'a>,
    #[serde(borrow)]
    settings: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Request<'a> {
    #[serde(default)]
    operation: String,
    #[serde(default)]
    namespace: String,
    #[serde(borrow)]
    object: Option<&'a RawValue>,
    #[serde(borrow, rename = "oldObject")]
    old_object: Option<&'a RawValue>,
}

fn validate(payload: &[u8]) -> guest::CallResult {
    let response = match decode(payload) {
        Ok((payload, settings)) => {
            let admission = Admission {
                operation: &payload.request.operation,
                namespace: &payload.request.namespace,
                object: payload.request.object.map_or("null", RawValue::get),
                old_object: payload.request.old_object.map(RawValue::get),
            };
            let outcome = evaluate(&admission, &settings, &HostCluster);
            response(outcome.decision, outcome.warnings)
        }
        Err(message) => response(Decision::Reject(message), Vec::new()),
    };
    Ok(serde_json::to_vec(&response)?)
}

fn decode(payload: &[u8]) -> Result<(Payload<'_>, Rc<Settings>), String> {
    let payload: Payload =
        serde_json::from_slice(payload).map_err(|e| format!("the admission request could not be read: {e}"))?;
    let settings_json = payload.settings.map_or("null", RawValue::get);
    let settings = compiled_settings(settings_json)?;
    Ok((payload, settings))
}

thread_local! {
    /// The last settings seen, as JSON text and compiled. policy-server sends the same
    /// settings with every request of a policy; they are parsed and compiled once.
    static LAST_SETTINGS: RefCell<Option<(String, Rc<Settings>)>> = const { RefCell::new(None) };
}

fn compiled_settings(json: &str) -> Result<Rc<Settings>, String> {
    let cached = LAST_SETTINGS.with_borrow(|last| {
        last.as_ref()
            .filter(|(text, _)| text == json)
            .map(|(_, settings)| Rc::clone(settings))
    });
    if let Some(settings) = cached {
        return Ok(settings);
    }
    let settings = Rc::new(settings::parse(json.as_bytes())?);
    LAST_SETTINGS.set(Some((json.to_string(), Rc::clone(&settings))));
    Ok(settings)
}

fn response(decision: Decision, warnings: Vec<String>) -> ValidationResponse {
    let (accepted, message, mutated_object) = match decision {
        Decision::Accept => (true, None, None),
        Decision::Mutate(object) => (true, None, Some(object)),
        Decision::Reject(message) => (false, Some(message), None),
    };
    ValidationResponse {
        accepted,
        message,
        code: None,
        mutated_object,
        audit_annotations: None,
        warnings: (!warnings.is_empty()).then_some(warnings),
    }
}

fn validate_settings(payload: &[u8]) -> guest::CallResult {
    let response = match settings::parse(payload) {
        Ok(_) => SettingsValidationResponse {
            valid: true,
            message: None,
        },
        Err(message) => SettingsValidationResponse {
            valid: false,
            message: Some(message),
        },
    };
    Ok(serde_json::to_vec(&response)?)
}
