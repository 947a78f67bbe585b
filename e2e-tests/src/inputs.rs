//! The one YAML reader of policy-run: single documents (objects, requests, settings, metadata,
//! sessions) and multi-document files (clusters, manifests), YAML or JSON. JSON is read as JSON
//! (what kwctl does): YAML is not a superset of JSON for every text (a `\u0000` escape, a
//! string with a control character), so a text is read as YAML only when it is not JSON.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::Value;

/// Reads a file holding exactly one YAML (or JSON) document.
pub fn read_document(path: &Path, what: &str) -> Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {what} {}", path.display()))?;
    parse_document(&text).with_context(|| format!("malformed {what} {}", path.display()))
}

/// Parses the documents of a multi-document YAML (or JSON) text; empty documents are left out.
/// A text of one or more JSON values is read as JSON.
pub fn parse_documents(text: &str) -> Result<Vec<Value>> {
    let Documents { documents, error } = parse_documents_until_error(text);
    match error {
        Some(error) => Err(error.error.context(format!("document {}", error.document))),
        None => Ok(documents.into_iter().map(|(_, document)| document).collect()),
    }
}

/// The documents of a text up to its first malformed one.
pub struct Documents {
    /// The documents read, each with its number in the text (1-based, empty ones counted).
    pub documents: Vec<(usize, Value)>,
    /// The malformed document that stopped the reading (a YAML parser cannot resume after it).
    pub error: Option<DocumentError>,
}

/// A malformed document of a text: its number (1-based), and the parser's error.
pub struct DocumentError {
    pub document: usize,
    pub error: anyhow::Error,
}

/// Parses the documents of a multi-document YAML (or JSON) text, keeping those before the first
/// malformed one; empty documents are left out.
pub fn parse_documents_until_error(text: &str) -> Documents {
    if let Some(documents) = parse_json_documents(text) {
        return Documents { documents, error: None };
    }
    let mut documents = Vec::new();
    for (index, document) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        match Value::deserialize(document) {
            Ok(Value::Null) => {}
            Ok(value) => documents.push((index + 1, value)),
            Err(error) => {
                let error = Some(DocumentError {
                    document: index + 1,
                    error: error.into(),
                });
                return Documents { documents, error };
            }
        }
    }
    Documents { documents, error: None }
}

/// The values of a text made of JSON values only (a JSON document, or several one after the
/// other, like `kubectl get -o json` output concatenated), numbered; `None` when it is not JSON.
fn parse_json_documents(text: &str) -> Option<Vec<(usize, Value)>> {
    let documents: Vec<Value> = serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .ok()?;
    Some(
        (1..)
            .zip(documents)
            .filter(|(_, document)| !document.is_null())
            .collect(),
    )
}

/// The path that stands for standard input (`--object -`).
pub const STDIN: &str = "-";

/// True when `path` is `-`, standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == STDIN
}

/// Reads a text file, or standard input for `-`.
pub fn read_text(path: &Path, what: &str) -> Result<String> {
    if is_stdin(path) {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut text)
            .with_context(|| format!("cannot read {what} from standard input"))?;
        return Ok(text);
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {what} {}", path.display()))
}

/// Reads the documents of a multi-document YAML (or JSON) file.
pub fn read_documents(path: &Path, what: &str) -> Result<Vec<Value>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {what} {}", path.display()))?;
    parse_documents(&text).with_context(|| format!("malformed {what} {}", path.display()))
}

/// Parses exactly one YAML (or JSON) document.
pub fn parse_document(text: &str) -> Result<Value> {
    let mut documents = parse_documents(text)?;
    match documents.len() {
        1 => Ok(documents.remove(0)),
        0 => bail!("the file is empty"),
        n => bail!("expected one document, found {n}"),
    }
}

/// Settings must be a mapping; an empty file or `null` means no settings (`{}`).
pub fn settings_value(value: Value) -> Result<Value> {
    match value {
        Value::Null => Ok(Value::Object(Default::default())),
        Value::Object(_) => Ok(value),
        other => bail!("settings must be a mapping, got {other}"),
    }
}

/// Reads a settings file (YAML or JSON); an empty file means no settings.
pub fn read_settings(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read settings {}", path.display()))?;
    if text.trim().is_empty() {
        return settings_value(Value::Null);
    }
    parse_document(&text)
        .and_then(settings_value)
        .with_context(|| format!("malformed settings {}", path.display()))
}

/// Parses `--settings-json`.
pub fn parse_settings_json(text: &str) -> Result<Value> {
    let value = serde_json::from_str(text).context("malformed --settings-json")?;
    settings_value(value).context("malformed --settings-json")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_document_only() {
        assert_eq!(parse_document("---\na: 1\n").unwrap(), json!({"a": 1}));
        assert_eq!(parse_document("{\"a\": 1}").unwrap(), json!({"a": 1}));
        assert_eq!(
            parse_document("a: 1\n---\nb: 2\n").unwrap_err().to_string(),
            "expected one document, found 2"
        );
        assert_eq!(parse_document("").unwrap_err().to_string(), "the file is empty");
        assert!(parse_document("a: [").is_err());
    }

    #[test]
    fn json_is_read_as_json() {
        // YAML refuses a NUL character, which JSON writes `\u0000` (issue 9).
        let text = r#"{"metadata": {"annotations": {"a": "x\u0000y", "b": "\u202e\ud83d\ude00"}}}"#;
        assert!(serde_yaml_ng::from_str::<Value>(text).is_err());
        assert_eq!(
            parse_document(text).unwrap(),
            json!({"metadata": {"annotations": {"a": "x\u{0}y", "b": "\u{202e}\u{1f600}"}}})
        );
        assert_eq!(
            parse_documents("{\"a\": 1}\n{\"b\": 2}\n").unwrap(),
            [json!({"a": 1}), json!({"b": 2})]
        );
        // YAML that is not JSON, flow style included, is still YAML.
        assert_eq!(parse_document("{a: 1}").unwrap(), json!({"a": 1}));
        assert_eq!(parse_document("a: \"\\0\"\n").unwrap(), json!({"a": "\u{0}"}));
    }

    #[test]
    fn documents_before_a_malformed_one_are_kept() {
        let Documents { documents, error } =
            parse_documents_until_error("a: 1\n---\n---\nb: 2\n---\nc: [\n---\nd: 4\n");
        assert_eq!(documents, [(1, json!({"a": 1})), (3, json!({"b": 2}))]);
        let error = error.unwrap();
        assert_eq!(error.document, 4);
        assert!(
            error.error.to_string().starts_with("did not find expected"),
            "{}",
            error.error
        );
        assert!(
            parse_documents("a: 1\n---\nc: [\n")
                .unwrap_err()
                .to_string()
                .starts_with("document 2")
        );
        let json = parse_documents_until_error("{\"a\": 1} null {\"b\": 2}");
        assert_eq!(json.documents, [(1, json!({"a": 1})), (3, json!({"b": 2}))]);
    }

    #[test]
    fn settings_are_a_mapping() {
        assert_eq!(
            parse_settings_json("{\"onLookupError\":\"accept\"}").unwrap(),
            json!({"onLookupError": "accept"})
        );
        assert_eq!(parse_settings_json("null").unwrap(), json!({}));
        assert!(parse_settings_json("[1]").is_err());
        assert!(parse_settings_json("{").is_err());
    }
}
