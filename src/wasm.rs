//! The waPC entry points: decode, call the core, encode. Nothing else happens here.

use std::cell::RefCell;
use std::rc::Rc;

use kubewarden_policy_sdk::response::ValidationResponse;
use kubewarden_policy_sdk::settings::SettingsValidationResponse;
use kubewarden_policy_sdk::wapc_guest as guest;
use serde_json::Value;

use crate::lookups::HostCluster;
use crate::policy::{Admission, Decision, evaluate};
use crate::settings::{self, Settings};

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    guest::register_function("validate", validate);
    guest::register_function("validate_settings", validate_settings);
    guest::register_function("protocol_version", kubewarden_policy_sdk::protocol_version_guest);
}

fn validate(payload: &[u8]) -> guest::CallResult {
    let response = match decode(payload) {
        Ok((request, settings)) => {
            let admission = Admission {
                operation: &request.operation,
                namespace: &request.namespace,
                object: request.object,
                old_object: request.old_object,
            };
            let outcome = evaluate(admission, &settings, &HostCluster);
            response(outcome.decision, outcome.warnings)
        }
        Err(message) => response(Decision::Reject(message), Vec::new()),
    };
    Ok(serde_json::to_vec(&response)?)
}

/// The fields of the admission request the policy reads.
struct Request {
    operation: String,
    namespace: String,
    object: Value,
    old_object: Option<Value>,
}

const UNREADABLE_REQUEST: &str = "the admission request could not be read";

fn decode(payload: &[u8]) -> Result<(Request, Rc<Settings>), String> {
    let mut payload: Value = serde_json::from_slice(payload).map_err(|e| format!("{UNREADABLE_REQUEST}: {e}"))?;
    let settings = compiled_settings(payload.get_mut("settings").map(Value::take).unwrap_or_default())?;
    let Some(Value::Object(request)) = payload.get_mut("request") else {
        return Err(format!("{UNREADABLE_REQUEST}: request: expected a map"));
    };
    let mut text = |name: &str| match request.remove(name) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(text)) => Ok(text),
        Some(_) => Err(format!("{UNREADABLE_REQUEST}: request.{name}: expected a string")),
    };
    let (operation, namespace) = (text("operation")?, text("namespace")?);
    let request = Request {
        operation,
        namespace,
        object: request.remove("object").unwrap_or_default(),
        old_object: request.remove("oldObject").filter(|old| !old.is_null()),
    };
    Ok((request, settings))
}

thread_local! {
    /// The last settings seen, as sent and compiled. policy-server sends the same settings with
    /// every request of a policy; they are compiled once.
    static LAST_SETTINGS: RefCell<Option<(Value, Rc<Settings>)>> = const { RefCell::new(None) };
}

fn compiled_settings(sent: Value) -> Result<Rc<Settings>, String> {
    let cached = LAST_SETTINGS.with_borrow(|last| {
        last.as_ref()
            .filter(|(last_sent, _)| *last_sent == sent)
            .map(|(_, settings)| Rc::clone(settings))
    });
    if let Some(settings) = cached {
        return Ok(settings);
    }
    let settings = Rc::new(settings::from_value(sent.clone())?);
    LAST_SETTINGS.set(Some((sent, Rc::clone(&settings))));
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
