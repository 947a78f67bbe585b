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
    render_emission(&mut out, request, evaluation);
    out
}

/// One line for a preview of several objects: the decision, the object, the first problem
/// (or the mutation and first warning), and where the object comes from.
pub fn one_line(request: &AdmissionRequest, evaluation: &Evaluation, source: &str) -> String {
    let response = &evaluation.response;
    let target = format!("{} {}", request.kind.kind, target_name(request));
    if !response.allowed {
        let message = response
            .status
            .as_ref()
            .and_then(|s| s.message.as_deref())
            .unwrap_or("");
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
    for item in items {
        let yaml = serde_yaml_ng::to_string(&item).unwrap_or_else(|e| format!("# cannot render: {e}\n"));
        let _ = write!(out, "---\n{yaml}");
    }
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
            "REJECTED: CREATE Deployment demo/web\n\nmessage (code 400):\n  line 1\n  line 2\n\nwarnings:\n  - careful\n"
        );
    }

    #[test]
    fn an_emission_shows_the_objects_as_yaml() {
        let list = json!({"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "stash.appscode.com/v1alpha1", "kind": "Repository", "metadata": {"name": "deploy-web"}}]});
        let mutated = json!({"metadata": {"annotations": {RESOLVED_ANNOTATION: list.to_string()}}});
        let evaluation = Evaluation {
            response: AdmissionResponse {
                allowed: true,
                patch: Some("x".into()),
                ..Default::default()
            },
            mutated_object: Some(mutated),
        };
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
