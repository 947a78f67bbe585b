//! `--pretty`: the evaluation for a person — the decision, the message, the warnings and the
//! Repository/BackupConfiguration objects the policy emitted, as YAML.

use std::fmt::Write as _;

use serde_json::Value;

use crate::annotations::RESOLVED as RESOLVED_ANNOTATION;
use crate::policy::Evaluation;
use crate::request::AdmissionRequest;

/// Renders an evaluation for the terminal.
pub fn render(request: &AdmissionRequest, evaluation: &Evaluation) -> String {
    let mut out = String::new();
    let response = &evaluation.response;
    let decision = match (response.allowed, response.patch.is_some()) {
        (false, _) => "REJECTED",
        (true, true) => "ACCEPTED (mutated)",
        (true, false) => "ACCEPTED",
    };
    let _ = writeln!(
        out,
        "{decision}: {} {} {}",
        request.operation,
        request.kind.kind,
        target_name(request)
    );
    let given = annotations(request.object.as_ref());
    match given {
        Some(given) if !given.is_empty() => {
            let _ = writeln!(out, "\nannotations:");
            for (key, value) in given {
                let _ = writeln!(out, "  {}", annotation_line(key, value));
            }
        }
        _ => {
            let _ = writeln!(out, "\nannotations: none");
        }
    }
    if let Some(status) = &response.status {
        let code = status.code.map(|c| format!(" (code {c})")).unwrap_or_default();
        let _ = writeln!(
            out,
            "\nmessage{code}:\n{}",
            indent(status.message.as_deref().unwrap_or(""))
        );
    }
    if let Some(warnings) = response.warnings.as_ref().filter(|w| !w.is_empty()) {
        let _ = writeln!(out, "\nwarnings:");
        for warning in warnings {
            let _ = writeln!(out, "  - {warning}");
        }
    }
    if response.allowed {
        render_annotation_changes(&mut out, given, annotations(evaluation.mutated_object()));
    }
    render_emission(&mut out, request, evaluation);
    out
}

type Annotations = serde_json::Map<String, Value>;

fn annotations(object: Option<&Value>) -> Option<&Annotations> {
    object?.pointer("/metadata/annotations")?.as_object()
}

/// The annotations the policy added, changed and removed (the mutated object's against the
/// given one's), but the resolved annotation, whose objects are shown as the emitted objects.
fn render_annotation_changes(out: &mut String, given: Option<&Annotations>, mutated: Option<&Annotations>) {
    let (Some(mutated), empty) = (mutated, Annotations::new()) else {
        return;
    };
    let given = given.unwrap_or(&empty);
    let ours = |key: &&String| key.as_str() != RESOLVED_ANNOTATION;
    let added: Vec<_> = mutated
        .iter()
        .filter(|(key, _)| ours(key) && !given.contains_key(*key))
        .collect();
    let changed: Vec<_> = mutated
        .iter()
        .filter(|(key, value)| ours(key) && given.get(*key).is_some_and(|old| old != *value))
        .collect();
    let removed: Vec<_> = given
        .iter()
        .filter(|(key, _)| ours(key) && !mutated.contains_key(*key))
        .collect();
    if !added.is_empty() {
        let _ = writeln!(out, "\nannotations added by the policy:");
        for (key, value) in added {
            let _ = writeln!(out, "  {}", annotation_line(key, value));
        }
    }
    if !changed.is_empty() {
        let _ = writeln!(out, "\nannotations changed by the policy:");
        for (key, value) in changed {
            let old = annotation_value(key, &given[key]);
            let _ = writeln!(out, "  {} (was: {old})", annotation_line(key, value));
        }
    }
    if !removed.is_empty() {
        let _ = writeln!(out, "\nannotations removed by the policy:");
        for (key, value) in removed {
            let _ = writeln!(out, "  {}", annotation_line(key, value));
        }
    }
}

/// The longest annotation value shown in full; a longer one is cut, with its length.
const LONGEST_SHOWN: usize = 200;

/// `key: value`, quoted and escaped when the text holds anything but plain printable
/// characters (a newline, a control or bidirectional character); the resolved annotation's
/// JSON and very long values are summarized.
fn annotation_line(key: &str, value: &Value) -> String {
    format!("{}: {}", plain(key), annotation_value(key, value))
}

fn annotation_value(key: &str, value: &Value) -> String {
    match value.as_str() {
        Some(text) if key == RESOLVED_ANNOTATION => format!("({} bytes of JSON: the generated objects)", text.len()),
        Some(text) if text.chars().count() > LONGEST_SHOWN => {
            let shown: String = text.chars().take(LONGEST_SHOWN).collect();
            format!("{}… ({} bytes)", plain(&shown), text.len())
        }
        Some(text) => plain(text),
        None => value.to_string(),
    }
}

/// The text as is when it is plain (not empty, no surrounding space, no control or invisible
/// formatting character), else quoted with Rust's escapes.
fn plain(text: &str) -> String {
    let invisible = |c: char| {
        c.is_control()
            || matches!(c, '\u{ad}' | '\u{61c}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
                | '\u{2060}'..='\u{2069}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}')
    };
    if !text.is_empty() && text.trim() == text && !text.chars().any(invisible) {
        text.to_string()
    } else {
        format!("\"{}\"", text.escape_debug())
    }
}

/// One line for a preview of several objects: the decision, the object, the first problem
/// (or the mutation and first warning), and where the object comes from.
pub fn one_line(request: &AdmissionRequest, evaluation: &Evaluation, source: &str) -> String {
    let response = &evaluation.response;
    let target = format!("{} {}", request.kind.kind, target_name(request));
    if !response.allowed {
        let message = response.message();
        return format!("REJECTED  {target}: {}  [{source}]", first_problem(message));
    }
    let mutated = if response.patch.is_some() { " (mutated)" } else { "" };
    let warning = match response.warnings.as_deref() {
        Some([only]) => format!(": warning: {only}"),
        Some([first, rest @ ..]) => format!(": warning: {first} (and {} more)", rest.len()),
        _ => String::new(),
    };
    format!("ACCEPTED  {target}{mutated}{warning}  [{source}]")
}

/// The first `- ` line of a rejection message (and how many follow), else its first line.
fn first_problem(message: &str) -> String {
    let problems: Vec<&str> = message.lines().filter_map(|l| l.strip_prefix("- ")).collect();
    match problems.as_slice() {
        [] => message.lines().next().unwrap_or("").to_string(),
        [only] => only.to_string(),
        [first, rest @ ..] => format!("{first} (and {} more)", rest.len()),
    }
}

fn target_name(request: &AdmissionRequest) -> String {
    let name = request.name.clone().unwrap_or_default();
    match &request.namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name,
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("  {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The objects the policy generated for an accepted object: the items of the resolved
/// annotation of the object as admitted (the mutated one, else the one given); none for a
/// rejected object.
pub fn generated_objects(request: &AdmissionRequest, evaluation: &Evaluation) -> Result<Vec<Value>, String> {
    if !evaluation.response.allowed {
        return Ok(Vec::new());
    }
    let admitted = evaluation.mutated_object().or(request.object.as_ref());
    let Some(annotation) = resolved_annotation(admitted) else {
        return Ok(Vec::new());
    };
    let list: Value = serde_json::from_str(annotation)
        .map_err(|e| format!("the annotation {RESOLVED_ANNOTATION} is not JSON: {e}"))?;
    match list.get("items").and_then(Value::as_array) {
        Some(items) => Ok(items.clone()),
        None => Err(format!("the annotation {RESOLVED_ANNOTATION} is not a List")),
    }
}

/// Objects as a YAML stream, each one after `---`.
pub fn yaml_stream(objects: &[Value]) -> String {
    let mut out = String::new();
    for object in objects {
        let yaml = serde_yaml_ng::to_string(object).unwrap_or_else(|e| format!("# cannot render: {e}\n"));
        let _ = write!(out, "---\n{yaml}");
    }
    out
}

fn resolved_annotation(object: Option<&Value>) -> Option<&str> {
    object?
        .pointer("/metadata/annotations")?
        .get(RESOLVED_ANNOTATION)?
        .as_str()
}

fn render_emission(out: &mut String, request: &AdmissionRequest, evaluation: &Evaluation) {
    if !evaluation.response.allowed {
        return;
    }
    let before = resolved_annotation(request.object.as_ref());
    let after = match evaluation.mutated_object() {
        Some(mutated) => resolved_annotation(Some(mutated)),
        None => before,
    };
    match (before, after) {
        (Some(_), None) => {
            let _ = writeln!(
                out,
                "\nremoves the annotation {RESOLVED_ANNOTATION} (no backup is configured any more)"
            );
        }
        (_, Some(text)) => render_objects(out, text, before == after && evaluation.mutated_object().is_some()),
        (None, None) => {
            let _ = writeln!(out, "\nno backup objects emitted");
        }
    }
}

fn render_objects(out: &mut String, annotation: &str, unchanged: bool) {
    let note = if unchanged { " (unchanged)" } else { "" };
    let _ = writeln!(out, "\nemitted objects ({RESOLVED_ANNOTATION}){note}:");
    let list: Value = match serde_json::from_str(annotation) {
        Ok(list) => list,
        Err(e) => {
            let _ = writeln!(out, "  (the annotation is not JSON: {e})\n  {annotation}");
            return;
        }
    };
    let items = list.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
    out.push_str(&yaml_stream(&items));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::{AdmissionResponse, AdmissionResponseStatus};
    use serde_json::json;

    fn request() -> AdmissionRequest {
        let object =
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "demo"}});
        AdmissionRequest::for_object(object, None, "CREATE", None).unwrap()
    }

    /// An acceptance that mutated the object into `mutated`.
    fn mutated_to(mutated: serde_json::Value) -> Evaluation {
        Evaluation {
            response: AdmissionResponse {
                allowed: true,
                patch: Some("x".into()),
                ..Default::default()
            },
            mutated_object: Some(mutated),
        }
    }

    #[test]
    fn a_rejection_shows_message_and_warnings() {
        let evaluation = Evaluation {
            response: AdmissionResponse {
                uid: "u".into(),
                allowed: false,
                status: Some(AdmissionResponseStatus {
                    message: Some("line 1\nline 2".into()),
                    code: Some(400),
                }),
                warnings: Some(vec!["careful".into()]),
                ..Default::default()
            },
            mutated_object: None,
        };
        assert_eq!(
            render(&request(), &evaluation),
            "REJECTED: CREATE Deployment demo/web\n\nannotations: none\n\nmessage (code 400):\n  line 1\n  line 2\n\nwarnings:\n  - careful\n"
        );
    }

    #[test]
    fn shows_the_annotations_given_and_those_the_policy_added() {
        let object = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {
        "name": "db", "namespace": "prod", "annotations": {
            "a": "kept", "b": "old", "c": "dropped", "odd": "x\u{202e}y\n", RESOLVED_ANNOTATION: "{}",
        }}});
        let request = AdmissionRequest::for_object(object, None, "CREATE", None).unwrap();
        let list = json!({"apiVersion": "v1", "kind": "List", "items": []}).to_string();
        let mutated = json!({"metadata": {"annotations": {
            "a": "kept", "b": "new", "d": "added", "odd": "x\u{202e}y\n", RESOLVED_ANNOTATION: list,
        }}});
        let evaluation = mutated_to(mutated);
        let text = render(&request, &evaluation);
        assert!(
            text.starts_with(
                "ACCEPTED (mutated): CREATE StatefulSet prod/db\n\nannotations:\n  a: kept\n  \
                 autobackup.kubewarden.io/resolved: (2 bytes of JSON: the generated objects)\n  b: old\n  \
                 c: dropped\n  odd: \"x\\u{202e}y\\n\"\n\n\
                 annotations added by the policy:\n  d: added\n\n\
                 annotations changed by the policy:\n  b: new (was: old)\n\n\
                 annotations removed by the policy:\n  c: dropped\n\n\
                 emitted objects (autobackup.kubewarden.io/resolved):\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn an_emission_shows_the_objects_as_yaml() {
        let list = json!({"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "stash.appscode.com/v1alpha1", "kind": "Repository", "metadata": {"name": "deploy-web"}}]});
        let mutated = json!({"metadata": {"annotations": {RESOLVED_ANNOTATION: list.to_string()}}});
        let evaluation = mutated_to(mutated);
        let text = render(&request(), &evaluation);
        assert!(
            text.starts_with("ACCEPTED (mutated): CREATE Deployment demo/web\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "---\napiVersion: stash.appscode.com/v1alpha1\nkind: Repository\nmetadata:\n  name: deploy-web\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn nothing_emitted_says_so() {
        let evaluation = Evaluation {
            response: AdmissionResponse {
                allowed: true,
                ..Default::default()
            },
            mutated_object: None,
        };
        assert!(render(&request(), &evaluation).ends_with("no backup objects emitted\n"));
    }
}
