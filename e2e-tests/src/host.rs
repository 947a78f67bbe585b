//! The host side of the policy's waPC host calls, dispatched the way policy-evaluator's
//! `runtimes/callback.rs` does: binding `kubewarden`; `tracing/log` (logs) and
//! `kubernetes/get_resource` (answered by a [`KubernetesBackend`]) — the only capabilities the
//! policy uses; any other fails with a clear error.

use std::io::Write as _;

use serde_json::Value;

use crate::callback_request::{CallbackRequest, GET_RESOURCE};
use crate::metadata::{AllowList, access_denied_message, capability_denied_message};

/// Answers the Kubernetes capabilities: a cluster file, a replayed session, a recorder.
pub trait KubernetesBackend {
    /// The JSON payload returned to the policy, or the error message of the failed lookup
    /// (what policy-evaluator's callback handler reports, e.g. `Cannot find …`).
    fn answer(&mut self, request: &CallbackRequest) -> Result<Vec<u8>, String>;

    /// Called once the evaluation is over (a recorder writes its session, replay reports
    /// leftover exchanges).
    fn finish(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
}

/// A backend for policies that must not reach Kubernetes: every request fails.
pub struct NoKubernetes;

impl KubernetesBackend for NoKubernetes {
    fn answer(&mut self, _request: &CallbackRequest) -> Result<Vec<u8>, String> {
        Err("kube::Client was not initialized properly".to_string())
    }
}

/// What a lookup answers when policy-run was given neither `--cluster` nor `--replay`.
pub const NO_CLUSTER_GIVEN: &str =
    "policy-run has no cluster to look this up in: lookups need --cluster FILE or --replay SESSION";

/// policy-run's backend without `--cluster` or `--replay`: every lookup fails, saying how to
/// give policy-run a cluster (not policy-server's `kube::Client was not initialized properly`,
/// which [`NoKubernetes`] keeps for the tests that compare with policy-server).
pub struct NoClusterGiven;

impl KubernetesBackend for NoClusterGiven {
    fn answer(&mut self, _request: &CallbackRequest) -> Result<Vec<u8>, String> {
        Err(NO_CLUSTER_GIVEN.to_string())
    }
}

/// The lookups a [`Counting`] backend answered, shared with whoever counts them.
pub type AnsweredLookups = std::sync::Arc<std::sync::Mutex<Vec<CallbackRequest>>>;

/// A backend that records every request it answers (found or not) before handing it to the
/// backend it wraps: what the host-call budget counts.
pub struct Counting {
    inner: Box<dyn KubernetesBackend>,
    answered: AnsweredLookups,
}

impl Counting {
    /// Wraps `inner`; the returned list fills as the policy makes lookups.
    pub fn new(inner: Box<dyn KubernetesBackend>) -> (Self, AnsweredLookups) {
        let answered = AnsweredLookups::default();
        let counting = Self {
            inner,
            answered: answered.clone(),
        };
        (counting, answered)
    }
}

impl KubernetesBackend for Counting {
    fn answer(&mut self, request: &CallbackRequest) -> Result<Vec<u8>, String> {
        self.answered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(request.clone());
        self.inner.answer(request)
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        self.inner.finish()
    }
}

/// One log line the policy emitted through `kubewarden/tracing/log`.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyLog {
    pub level: String,
    pub message: String,
    /// The other fields of the event (file, line, key-values).
    pub fields: serde_json::Map<String, Value>,
}

impl std::fmt::Display for PolicyLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "policy {}: {}", self.level.to_uppercase(), self.message)?;
        for (key, value) in &self.fields {
            match value {
                Value::String(s) => write!(f, " {key}={s}")?,
                other => write!(f, " {key}={other}")?,
            }
        }
        Ok(())
    }
}

/// The state behind the policy's host calls.
pub struct Host {
    backend: Box<dyn KubernetesBackend>,
    allow_list: AllowList,
    logs: Vec<PolicyLog>,
    echo_logs: bool,
}

impl Host {
    pub fn new(backend: Box<dyn KubernetesBackend>, allow_list: AllowList) -> Self {
        Self {
            backend,
            allow_list,
            logs: Vec::new(),
            echo_logs: false,
        }
    }

    /// Print each policy log line on stderr as it arrives.
    pub fn echo_logs(mut self, echo: bool) -> Self {
        self.echo_logs = echo;
        self
    }

    /// The log lines the policy emitted so far.
    pub fn logs(&self) -> &[PolicyLog] {
        &self.logs
    }

    /// Ends the evaluation: lets the backend write or check what it must.
    pub fn finish(&mut self) -> anyhow::Result<()> {
        self.backend.finish()
    }

    /// One host call, as `__host_call` hands it over. The error string is what the policy reads
    /// back through `__host_error`.
    pub fn call(&mut self, binding: &str, namespace: &str, operation: &str, payload: &[u8]) -> Result<Vec<u8>, String> {
        if binding != "kubewarden" {
            return Err(format!("unknown binding: {binding}"));
        }
        if (namespace, operation) == ("tracing", "log") {
            self.log(payload);
            return Ok(Vec::new());
        }
        let capability = format!("{namespace}/{operation}");
        if !self.allow_list.allows_capability(&capability) {
            return Err(capability_denied_message(&capability));
        }
        if (namespace, operation) != ("kubernetes", GET_RESOURCE) {
            return Err(format!(
                "policy-run does not provide the host capability {capability}: it answers kubernetes/get_resource only"
            ));
        }
        let request = CallbackRequest::from_payload(payload).map_err(|e| e.to_string())?;
        let (api_version, kind) = request.resource_type();
        if !self.allow_list.allows(api_version, kind) {
            return Err(access_denied_message(api_version, kind));
        }
        self.backend
            .answer(&request)
            .map_err(|message| format!("Callback evaluation failure: {message}"))
    }

    fn log(&mut self, payload: &[u8]) {
        let line = parse_log(payload);
        if self.echo_logs {
            // Never a panic when stderr is closed (`policy-run … 2>&1 | head`).
            let _ = writeln!(std::io::stderr(), "{line}");
        }
        self.logs.push(line);
    }
}

/// Reads the JSON event the SDK's logger sends; a payload that is not one is kept verbatim.
fn parse_log(payload: &[u8]) -> PolicyLog {
    let mut fields = match serde_json::from_slice::<Value>(payload) {
        Ok(Value::Object(map)) => map,
        _ => {
            return PolicyLog {
                level: "info".into(),
                message: String::from_utf8_lossy(payload).into_owned(),
                fields: Default::default(),
            };
        }
    };
    let mut take = |key: &str| match fields.remove(key) {
        Some(Value::String(s)) => s,
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let level = take("level");
    let message = take("message");
    PolicyLog { level, message, fields }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::ContextAwareResource;

    struct Fixed(Result<Vec<u8>, String>);

    impl KubernetesBackend for Fixed {
        fn answer(&mut self, _request: &CallbackRequest) -> Result<Vec<u8>, String> {
            self.0.clone()
        }
    }

    fn host(answer: Result<Vec<u8>, String>) -> Host {
        let allow = AllowList::new(vec![ContextAwareResource {
            api_version: "v1".into(),
            kind: "Secret".into(),
        }]);
        Host::new(Box::new(Fixed(answer)), allow)
    }

    const SECRET: &[u8] = br#"{"api_version":"v1","kind":"Secret","name":"s","namespace":"demo","disable_cache":false,"field_masks":null}"#;

    #[test]
    fn only_get_resource_and_logs_are_provided() {
        let mut h = host(Ok(vec![]));
        assert_eq!(
            h.call("other", "kubernetes", "get_resource", SECRET).unwrap_err(),
            "unknown binding: other"
        );
        for (namespace, operation) in [
            ("kubernetes", "list_resources_all"),
            ("kubernetes", "can_i"),
            ("oci", "v1/verify"),
            ("net", "v1/dns_lookup_host"),
            ("tracing", "trace"),
        ] {
            assert_eq!(
                h.call("kubewarden", namespace, operation, b"{}").unwrap_err(),
                format!(
                    "policy-run does not provide the host capability {namespace}/{operation}: it answers \
                     kubernetes/get_resource only"
                )
            );
        }
    }

    #[test]
    fn allowed_requests_reach_the_backend() {
        assert_eq!(
            host(Ok(b"{}".to_vec()))
                .call("kubewarden", "kubernetes", "get_resource", SECRET)
                .unwrap(),
            b"{}"
        );
    }

    #[test]
    fn backend_errors_are_wrapped_as_callback_failures() {
        let err = host(Err(
            "Cannot find v1/Secret named 's' inside of namespace 'Some(\"demo\")'".into(),
        ))
        .call("kubewarden", "kubernetes", "get_resource", SECRET)
        .unwrap_err();
        assert_eq!(
            err,
            "Callback evaluation failure: Cannot find v1/Secret named 's' inside of namespace 'Some(\"demo\")'"
        );
    }

    #[test]
    fn resources_outside_the_allow_list_are_denied() {
        let payload = br#"{"api_version":"v1","kind":"ConfigMap","name":"c","namespace":"demo","disable_cache":false}"#;
        let err = host(Ok(vec![]))
            .call("kubewarden", "kubernetes", "get_resource", payload)
            .unwrap_err();
        assert_eq!(err, access_denied_message("v1", "ConfigMap"));
    }

    #[test]
    fn capabilities_outside_the_metadata_are_denied() {
        let allow = AllowList::new(vec![ContextAwareResource {
            api_version: "v1".into(),
            kind: "Secret".into(),
        }])
        .with_capabilities(vec!["kubernetes/get_resource".into()]);
        let mut h = Host::new(Box::new(Fixed(Ok(b"[]".to_vec()))), allow);
        let list = br#"{"api_version":"v1","kind":"Secret","label_selector":null,"field_selector":null}"#;
        assert_eq!(
            h.call("kubewarden", "kubernetes", "list_resources_all", list)
                .unwrap_err(),
            "Policy has not been granted access to the 'kubernetes/list_resources_all' host capability. The violation has been reported."
        );
        assert!(h.call("kubewarden", "kubernetes", "get_resource", SECRET).is_ok());
    }

    #[test]
    fn malformed_payloads_are_serde_errors() {
        let err = host(Ok(vec![]))
            .call("kubewarden", "kubernetes", "get_resource", b"{}")
            .unwrap_err();
        assert!(err.starts_with("missing field `api_version`"), "{err}");
    }

    #[test]
    fn counting_records_every_answered_lookup() {
        let (counting, answered) = Counting::new(Box::new(Fixed(Err("Cannot find".into()))));
        let allow = AllowList::new(vec![ContextAwareResource {
            api_version: "v1".into(),
            kind: "Secret".into(),
        }]);
        let mut h = Host::new(Box::new(counting), allow);
        assert!(h.call("kubewarden", "kubernetes", "get_resource", SECRET).is_err());
        assert!(h.call("kubewarden", "tracing", "log", b"{}").is_ok());
        let answered = answered.lock().unwrap();
        assert_eq!(answered.len(), 1);
        assert_eq!(answered[0].resource_type(), ("v1", "Secret"));
    }

    #[test]
    fn logs_are_collected() {
        let mut h = host(Ok(vec![]));
        let event = br#"{"level":"warning","message":"lookup failed","line":12,"name":"x"}"#;
        assert!(h.call("kubewarden", "tracing", "log", event).unwrap().is_empty());
        let log = &h.logs()[0];
        assert_eq!((log.level.as_str(), log.message.as_str()), ("warning", "lookup failed"));
        assert_eq!(log.to_string(), "policy WARNING: lookup failed line=12 name=x");
    }
}
