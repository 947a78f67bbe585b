//! The answer of `validate`: the JSON of the SDK's `ValidationResponse`, field for field,
//! written with [`json_text`] so that the mutated object is not serialized through serde's
//! layers (see `json_text`). The SDK's type stays the reference: the tests compare with it.

use crate::evaluation::policy::Decision;
use crate::support::json_text::{write, write_string_or_null, write_strings};

/// The JSON of `ValidationResponse` for `decision` and `warnings` (`null` when none).
pub fn json(decision: &Decision, warnings: &[String]) -> Vec<u8> {
    let (accepted, message, mutated_object) = match decision {
        Decision::Accept => (true, None, None),
        Decision::Mutate(object) => (true, None, Some(object)),
        Decision::Reject(message) => (false, Some(message), None),
    };
    let mut out = match accepted {
        true => br#"{"accepted":true,"message":"#.to_vec(),
        false => br#"{"accepted":false,"message":"#.to_vec(),
    };
    write_string_or_null(&mut out, message.map(String::as_str));
    out.extend_from_slice(br#","code":null,"mutated_object":"#);
    match mutated_object {
        Some(object) => write(&mut out, object),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(br#","audit_annotations":null,"warnings":"#);
    match warnings {
        [] => out.extend_from_slice(b"null"),
        warnings => write_strings(&mut out, warnings),
    }
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests {
    use kubewarden_policy_sdk::response::ValidationResponse;
    use serde_json::json;

    use super::*;

    /// What serde_json writes for the SDK's type.
    fn sdk(decision: &Decision, warnings: &[String]) -> String {
        let (accepted, message, mutated_object) = match decision.clone() {
            Decision::Accept => (true, None, None),
            Decision::Mutate(object) => (true, None, Some(object)),
            Decision::Reject(message) => (false, Some(message), None),
        };
        let response = ValidationResponse {
            accepted,
            message,
            code: None,
            mutated_object,
            audit_annotations: None,
            warnings: (!warnings.is_empty()).then(|| warnings.to_vec()),
        };
        serde_json::to_string(&response).unwrap()
    }

    #[test]
    fn the_sdk_types_json_for_every_decision() {
        let object = json!({"metadata": {"annotations": {"a": "{\"k\":\"v\\n\"}"}}, "spec": {"replicas": 2}});
        let warnings = ["one \"quoted\"".to_string(), "two\n".to_string()];
        for decision in [
            Decision::Accept,
            Decision::Mutate(object),
            Decision::Reject("Deployment 'demo/web' rejected:\n- \"x\"\t\u{1}".into()),
        ] {
            for warnings in [&[][..], &warnings[..1], &warnings[..]] {
                assert_eq!(json(&decision, warnings), sdk(&decision, warnings).into_bytes());
            }
        }
    }
}
