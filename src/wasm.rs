//! The waPC entry points: decode, call the core, encode. Nothing else happens here.

use std::cell::RefCell;
use std::rc::Rc;

use kubewarden_policy_sdk::settings::SettingsValidationResponse;
use kubewarden_policy_sdk::wapc_guest as guest;
use serde_json::Value;

use crate::admission::request;
use crate::admission::validation_response;
use crate::evaluation::policy::{self, Admission, Decision, Outcome, Screened, evaluate, evaluate_screened};
use crate::lookups::HostCluster;
use crate::settings::{self, Settings};
use crate::support::allocator;
use crate::support::civil_date::SystemClock;

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    guest::register_function("validate", validate);
    guest::register_function("validate_settings", validate_settings);
    guest::register_function("protocol_version", kubewarden_policy_sdk::protocol_version_guest);
}

fn validate(payload: &[u8]) -> guest::CallResult {
    Ok(allocator::in_request_arena(|| {
        let (decision, warnings) = match decide(payload) {
            Ok(outcome) => (outcome.decision, outcome.warnings),
            Err(message) => (Decision::Reject(message), Vec::new()),
        };
        validation_response::json(&decision, &warnings)
    }))
}

/// An object is judged from the first, partial read of the request; only one the policy
/// evaluates is read whole (its metadata and the settings, already read, are not read again).
fn decide(payload: &[u8]) -> Result<Outcome, String> {
    let Some(skeleton) = request::skeleton(payload) else {
        let (request, settings) = request::read(payload)?;
        let settings = compiled_settings(settings)?;
        return Ok(evaluate_request(request, None, &settings));
    };
    let settings = compiled_settings(skeleton.settings)?;
    let mut head = skeleton.object_head;
    let screened = match policy::screen(&skeleton.operation, &head, &settings) {
        Screened::Accept => return Ok(Outcome::accept()),
        Screened::Answered(outcome) => return Ok(outcome),
        screened => screened,
    };
    let request = request::read_rest(payload, head.get_mut("metadata").map(Value::take))?;
    Ok(evaluate_request(request, Some(screened), &settings))
}

/// Evaluates the request read whole, `screened` when the first pass judged it already.
fn evaluate_request(request: request::Request, screened: Option<Screened>, settings: &Settings) -> Outcome {
    let request::Request {
        operation,
        namespace,
        object,
        old_object,
    } = request;
    let admission = Admission {
        operation: &operation,
        namespace: &namespace,
        object,
        old_object,
    };
    match screened {
        Some(screened) => evaluate_screened(screened, admission, settings, &HostCluster, &SystemClock),
        None => evaluate(admission, settings, &HostCluster),
    }
}

thread_local! {
    /// The last settings seen, as sent and compiled, kept for a host that sends many requests
    /// to one instance (`kwctl run` and `kwctl bench`, or any user of policy-evaluator that
    /// keeps its `PolicyEvaluator`): there they are compiled once. policy-server rehydrates a
    /// fresh instance for every request (`EvaluationEnvironment::validate_policy` →
    /// `PolicyEvaluatorPre::rehydrate`) and sends the settings inside every `validate` payload,
    /// so under policy-server this starts empty and the settings are compiled with each request.
    /// Allocated outside the request arena (`allocator::persistent`); e2e-tests/tests/one_instance.rs
    /// checks that a reused instance answers as fresh ones do.
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
    // Kept for the next requests: copied out of this request's arena.
    allocator::persistent(|| {
        let sent = sent.clone();
        let settings = Rc::new(settings::from_value(sent.clone())?);
        LAST_SETTINGS.set(Some((sent, Rc::clone(&settings))));
        Ok(settings)
    })
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
