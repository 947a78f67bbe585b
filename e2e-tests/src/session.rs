//! kwctl's host-capabilities session file (`kwctl run --record-host-capabilities-interactions`
//! writes it, `--replay-host-capabilities-interactions` reads it): a YAML list of exchanges.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// The host's answer in one exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Response {
    Success { payload: String },
    Error { message: String },
}

/// One request of the policy and the host's answer. `request` is the YAML of a
/// [`crate::callback_request::CallbackRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub struct Exchange {
    pub request: String,
    pub response: Response,
}

/// Reads a session file.
pub fn read(path: &Path) -> Result<Vec<Exchange>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read host capabilities session {}", path.display()))?;
    parse(&text).with_context(|| format!("malformed host capabilities session {}", path.display()))
}

/// Parses the text of a session file (an empty file is an empty session).
pub fn parse(text: &str) -> Result<Vec<Exchange>> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    Ok(serde_json::from_value(crate::inputs::parse_document(text)?)?)
}

/// Writes a session file.
pub fn write(path: &Path, exchanges: &[Exchange]) -> Result<()> {
    let text = serde_yaml_ng::to_string(exchanges)?;
    std::fs::write(path, text).with_context(|| format!("cannot write host capabilities session {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSION: &str = r#"- type: Exchange
  request: |
    !KubernetesGetResource
    api_version: v1
    kind: Secret
    name: gcs-secret
    namespace: demo
    disable_cache: false
    field_masks:
    - metadata.name
  response:
    type: Success
    payload: '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"gcs-secret"}}'
- type: Exchange
  request: |
    !KubernetesGetResource
    api_version: stash.appscode.com/v1beta1
    kind: BackupBlueprint
    name: missing
    namespace: null
    disable_cache: false
    field_masks: null
  response:
    type: Error
    message: Cannot find stash.appscode.com/v1beta1/BackupBlueprint named 'missing' inside of namespace 'None'
"#;

    #[test]
    fn parses_kwctl_sessions() {
        let exchanges = parse(SESSION).unwrap();
        assert_eq!(exchanges.len(), 2);
        assert!(matches!(&exchanges[0].response, Response::Success { payload } if payload.contains("gcs-secret")));
        assert!(matches!(&exchanges[1].response, Response::Error { message } if message.starts_with("Cannot find")));
    }

    #[test]
    fn writes_what_it_reads() {
        let exchanges = parse(SESSION).unwrap();
        let text = serde_yaml_ng::to_string(&exchanges).unwrap();
        assert_eq!(text, SESSION);
    }

    #[test]
    fn rejects_other_documents() {
        assert!(parse("- type: Exchange\n  request: x\n").is_err());
        assert!(parse("").unwrap().is_empty());
    }
}
