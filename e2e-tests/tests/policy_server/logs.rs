//! policy-server's log as an operator reads it: its events (a line that starts with a timestamp
//! and a level, and the lines that continue it, such as an error's causes), and the one kind of
//! ERROR line this policy makes policy-server write for an answer it expects — a
//! `get_resource` lookup whose object does not exist.
//!
//! policy-evaluator (kubewarden-controller 3460bb71, `crates/policy-evaluator/src/runtimes/
//! callback.rs`, `send_request_and_wait_for_response`) logs every host call that the callback
//! handler answers with an error as
//! `error!(policy_id, binding, operation, error = ?e, "callback evaluation failed")`, and the
//! kube client code answers a GET of an absent object with the error
//! `Cannot find {api_version}/{kind} named '{name}' inside of namespace '{namespace:?}'`. In the
//! text format (`--log-fmt text`, the default):
//!
//! ```text
//! 2026-12-02T12:37:45.764060Z ERROR policy_evaluator::runtimes::callback: callback evaluation failed policy_id="clusterwide-backup-blueprint" binding="kubewarden" operation="get_resource" error=Cannot find stash.appscode.com/v1alpha1/Repository named 'deploy-api' inside of namespace 'Some("demo")'
//! ```

use serde_json::Value;

/// The tracing target of policy-evaluator's host-call errors.
pub const CALLBACK_TARGET: &str = "policy_evaluator::runtimes::callback";
/// Its message.
pub const CALLBACK_FAILED: &str = "callback evaluation failed";
/// How the kube client code's error for an absent object starts.
const NOT_FOUND: &str = "Cannot find ";
/// The tracing target of the kube client's own line for an API error.
pub const KUBE_CLIENT_TARGET: &str = "kube_client::client::builder";

/// One event of the text log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `ERROR`, `WARN`, …
    pub level: String,
    /// The module path of the code that logged it.
    pub target: String,
    /// The message and its fields, and the lines that continue the event.
    pub body: String,
    /// The event as written (without colour codes).
    pub text: String,
}

impl Event {
    /// The error of a failed host call (`error=`, with the lines of its causes).
    pub fn callback_error(&self) -> Option<&str> {
        if self.level != "ERROR" || self.target != CALLBACK_TARGET {
            return None;
        }
        let fields = self.body.strip_prefix(CALLBACK_FAILED)?;
        fields.split_once(" error=").map(|(_, error)| error)
    }

    /// The filter the README gives operators: a `get_resource` lookup answered "not found".
    pub fn is_expected_not_found(&self) -> bool {
        self.callback_error().is_some_and(is_not_found_error) && self.body.contains(" operation=\"get_resource\" ")
    }
}

/// The kube client code's error for a GET of an object that does not exist,
/// `Cannot find <apiVersion>/<Kind> named '<name>' inside of namespace '<namespace>'` (the
/// README's pattern `^Cannot find \S+ named `) — not `Cannot find resource <apiVersion>/<Kind>`,
/// a kind the API server does not serve (a CRD that is not installed).
pub fn is_not_found_error(error: &str) -> bool {
    error
        .strip_prefix(NOT_FOUND)
        .and_then(|rest| rest.split_once(' '))
        .is_some_and(|(resource, rest)| !resource.is_empty() && rest.starts_with("named "))
}

/// The events of a text log (colour codes removed: this policy-server's `--log-no-color`
/// switches them on).
pub fn events(log: &str) -> Vec<Event> {
    let mut events: Vec<Event> = Vec::new();
    for line in strip_ansi(log).lines() {
        match event_start(line) {
            Some(event) => events.push(event),
            None => {
                if let Some(last) = events.last_mut() {
                    last.body.push('\n');
                    last.body.push_str(line);
                    last.text.push('\n');
                    last.text.push_str(line);
                }
            }
        }
    }
    for event in &mut events {
        event.body.truncate(event.body.trim_end().len());
        event.text.truncate(event.text.trim_end().len());
    }
    events
}

/// `<RFC 3339 timestamp> <LEVEL> <target>: <message and fields>`.
fn event_start(line: &str) -> Option<Event> {
    let (timestamp, rest) = line.split_once(' ')?;
    let is_timestamp = timestamp.len() > 20
        && timestamp.as_bytes()[4] == b'-'
        && timestamp.as_bytes()[10] == b'T'
        && timestamp.ends_with('Z')
        && timestamp[..4].bytes().all(|b| b.is_ascii_digit());
    if !is_timestamp {
        return None;
    }
    let rest = rest.trim_start();
    let (level, rest) = rest.split_once(' ')?;
    if !["TRACE", "DEBUG", "INFO", "WARN", "ERROR"].contains(&level) {
        return None;
    }
    let (target, body) = rest.split_once(": ").unwrap_or((rest, ""));
    Some(Event {
        level: level.to_string(),
        target: target.to_string(),
        body: body.to_string(),
        text: line.to_string(),
    })
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters… final byte (a letter).
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The same filter on a line of `--log-fmt json`:
/// `{"timestamp":…,"level":"ERROR","fields":{"message":"callback evaluation failed",
/// "policy_id":…,"binding":"kubewarden","operation":"get_resource","error":"Cannot find …"},
/// "target":"policy_evaluator::runtimes::callback"}`.
pub fn json_is_expected_not_found(event: &Value) -> bool {
    event["level"] == "ERROR"
        && event["target"] == CALLBACK_TARGET
        && event["fields"]["message"] == CALLBACK_FAILED
        && event["fields"]["operation"] == "get_resource"
        && event["fields"]["error"].as_str().is_some_and(is_not_found_error)
}

/// `Kind namespace/name` (or `Kind name`) of a `Cannot find …` error, for messages.
pub fn describe_not_found(error: &str) -> String {
    let parsed = (|| {
        let rest = error.strip_prefix(NOT_FOUND)?;
        let (resource, rest) = rest.split_once(" named '")?;
        let kind = resource.rsplit('/').next()?;
        let (name, rest) = rest.split_once("' inside of namespace '")?;
        let namespace = rest.strip_suffix('\'')?;
        Some(
            match namespace.strip_prefix("Some(\"").and_then(|n| n.strip_suffix("\")")) {
                Some(namespace) => format!("{kind} {namespace}/{name}"),
                None => format!("{kind} {name}"),
            },
        )
    })();
    parsed.unwrap_or_else(|| error.to_string())
}
