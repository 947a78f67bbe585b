//! Kubewarden's `kubernetes.get_resource` host capability.

use serde_json::Value;

use super::{Cluster, LookupError, Query};
use crate::support::json_text::{write_string, write_string_or_null, write_strings};

/// policy-server's text for a missing object starts with this.
const NOT_FOUND_PREFIX: &str = "Cannot find ";
/// What policy-server answers for a kind the API server does not serve (its CRD is not
/// installed): a lookup error, not an object that does not exist.
const UNKNOWN_KIND_PREFIX: &str = "Cannot find resource ";
const UNKNOWN_GROUP_PREFIX: &str = "error finding resource ";

pub struct HostCluster;

impl Cluster for HostCluster {
    fn get(&self, query: &Query) -> Result<Value, LookupError> {
        let payload = get_resource_request(query);
        let answer = kubewarden_policy_sdk::wapc_guest::host_call("kubewarden", "kubernetes", "get_resource", &payload)
            .map_err(|e| classify_host_error(&e.to_string()))?;
        if let Some(error) = too_long(answer.len(), query) {
            return Err(error);
        }
        serde_json::from_slice(&answer).map_err(|e| LookupError::Failed(format!("unreadable answer: {e}")))
    }
}

/// The payload of `kubernetes.get_resource`: the JSON of the SDK's `GetResourceRequest`, field
/// for field. (The SDK's type needs its `cluster-context` feature, hence k8s-openapi.)
/// The lookup error of an answer of `bytes` longer than the policy reads of its kind.
fn too_long(bytes: usize, query: &Query) -> Option<LookupError> {
    (bytes > query.max_answer_bytes).then(|| {
        LookupError::Failed(format!(
            "its answer is {bytes} bytes, more than the {} the policy reads of a {}",
            query.max_answer_bytes, query.kind
        ))
    })
}

fn get_resource_request(query: &Query) -> Vec<u8> {
    let mut out = br#"{"api_version":"#.to_vec();
    write_string(&mut out, query.api_version);
    out.extend_from_slice(br#","kind":"#);
    write_string(&mut out, query.kind);
    out.extend_from_slice(br#","name":"#);
    write_string(&mut out, query.name);
    out.extend_from_slice(br#","namespace":"#);
    write_string_or_null(&mut out, query.namespace);
    out.extend_from_slice(br#","disable_cache":false,"field_masks":"#);
    match query.field_masks {
        [] => out.extend_from_slice(b"null"),
        masks => write_strings(&mut out, masks),
    }
    out.push(b'}');
    out
}

/// Turns a host error text into a lookup error. waPC prefixes it with `Host error: ` and
/// policy-server with `Callback evaluation failure: `; neither helps the reader.
pub fn classify_host_error(text: &str) -> LookupError {
    let text = text.strip_prefix("Host error: ").unwrap_or(text);
    let text = text.strip_prefix("Callback evaluation failure: ").unwrap_or(text);
    // A kind its group does not have: `Cannot find resource <group/version>/<Kind>`; a group
    // not served at all: `error finding resource <group/version> / <Kind>: … NotFound`.
    let unknown = match (
        text.strip_prefix(UNKNOWN_KIND_PREFIX),
        text.strip_prefix(UNKNOWN_GROUP_PREFIX),
    ) {
        (Some(rest), _) => rest.split_whitespace().next(),
        (_, Some(rest)) if gist(text).ends_with("NotFound") => rest.split(':').next(),
        _ => None,
    };
    if let Some(kind) = unknown {
        return LookupError::Failed(format!(
            "the API server does not serve {}: the operator's CRDs are not installed",
            kind.replace(" / ", "/")
        ));
    }
    match text.starts_with(NOT_FOUND_PREFIX) {
        true => LookupError::NotFound,
        false => LookupError::Failed(gist(text).to_string()),
    }
}

/// The first line of a host error without the Rust dump of the API's `Status` that kube's
/// errors append (`… (Status { status: Some(Failure), code: 503, … })`, then `Caused by: …`
/// lines): what a reader needs, in one line.
fn gist(text: &str) -> &str {
    let first_line = text.lines().next().unwrap_or_default();
    match first_line.find(" (Status {") {
        Some(dump) => &first_line[..dump],
        None => first_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lookups::ANY_SIZE;

    /// The JSON the SDK's `GetResourceRequest` serializes to, field for field (in another order:
    /// policy-server reads it by name).
    #[test]
    fn get_resource_request_json() {
        let mut query = Query {
            api_version: "v1",
            kind: "Secret",
            namespace: Some("demo"),
            name: "s",
            field_masks: &["metadata.name"],
            max_answer_bytes: ANY_SIZE,
        };
        let sdk_json = |text: &str| serde_json::from_str::<Value>(text).unwrap();
        let payload = |query: &Query| serde_json::from_slice::<Value>(&get_resource_request(query)).unwrap();
        assert_eq!(
            payload(&query),
            sdk_json(
                r#"{"api_version":"v1","kind":"Secret","name":"s","namespace":"demo","disable_cache":false,"field_masks":["metadata.name"]}"#
            )
        );
        (query.namespace, query.field_masks) = (None, &[]);
        assert_eq!(
            payload(&query),
            sdk_json(
                r#"{"api_version":"v1","kind":"Secret","name":"s","namespace":null,"disable_cache":false,"field_masks":null}"#
            )
        );
    }

    #[test]
    fn an_answer_longer_than_its_kind_is_read_is_a_lookup_error() {
        let query = Query {
            api_version: "storage.kubestash.com/v1alpha1",
            kind: "BackupStorage",
            namespace: Some("backup"),
            name: "s",
            field_masks: &["spec.usagePolicy"],
            max_answer_bytes: crate::lookups::MAX_STORAGE_ANSWER,
        };
        assert_eq!(too_long(65536, &query), None);
        assert_eq!(
            too_long(167112, &query),
            Some(LookupError::Failed(
                "its answer is 167112 bytes, more than the 65536 the policy reads of a BackupStorage".into()
            ))
        );
    }

    #[test]
    fn host_errors_are_classified() {
        assert_eq!(
            classify_host_error(
                "Host error: Cannot find stash.appscode.com/v1beta1/BackupBlueprint named 'x' inside of namespace 'None'"
            ),
            LookupError::NotFound
        );
        assert_eq!(
            classify_host_error(
                "Host error: Callback evaluation failure: Cannot find v1/Secret named 's' inside of namespace 'Some(\"demo\")'"
            ),
            LookupError::NotFound
        );
        assert_eq!(
            classify_host_error(
                "Host error: Callback evaluation failure: Cannot find resource core.kubestash.com/v1alpha1/BackupBlueprint"
            ),
            LookupError::Failed(
                "the API server does not serve core.kubestash.com/v1alpha1/BackupBlueprint: the operator's CRDs are not installed"
                    .into()
            )
        );
        assert_eq!(
            classify_host_error(
                "Host error: Callback evaluation failure: error finding resource stash.appscode.com/v1beta1 / \
                 BackupBlueprint: ApiError: the server could not find the requested resource: NotFound (Status { \
                 status: Some(Failure), code: 404 })\n\nCaused by:\n    NotFound"
            ),
            LookupError::Failed(
                "the API server does not serve stash.appscode.com/v1beta1/BackupBlueprint: the operator's CRDs are not installed"
                    .into()
            )
        );
        assert_eq!(
            classify_host_error(
                "error finding resource stash.appscode.com/v1beta1 / BackupBlueprint: ApiError: unavailable: ServiceUnavailable"
            ),
            LookupError::Failed(
                "error finding resource stash.appscode.com/v1beta1 / BackupBlueprint: ApiError: unavailable: ServiceUnavailable"
                    .into()
            )
        );
        assert_eq!(
            classify_host_error("Host error: Callback evaluation failure: ApiError: forbidden"),
            LookupError::Failed("ApiError: forbidden".into())
        );
        // policy-server 1.36's text for an API server answering 503.
        assert_eq!(
            classify_host_error(
                "Callback evaluation failure: ApiError: the server is currently unable to handle the request: \
                 ServiceUnavailable (Status { status: Some(Failure), code: 503, message: \"the server is currently \
                 unable to handle the request\", reason: \"ServiceUnavailable\", details: None })\n\nCaused by:\n    \
                 the server is currently unable to handle the request: ServiceUnavailable"
            ),
            LookupError::Failed(
                "ApiError: the server is currently unable to handle the request: ServiceUnavailable".into()
            )
        );
    }
}
