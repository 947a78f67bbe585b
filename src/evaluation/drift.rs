//! Drift of a stored target: whether the objects recorded in its
//! `autobackup.kubewarden.io/resolved` annotation are what its blueprints resolve to now.

use serde_json::{Map, Value};

use crate::blueprint::emission::recorded_items;
use crate::blueprint::kubestash::objects::{INVOKER_NAME, INVOKER_NAMESPACE};
use crate::blueprint::objects::{BLUEPRINT_LABEL, Generated};
use crate::report::{Problem, list};
use crate::support::json_fields::at;
use crate::target::annotations::{OWNER, RESOLVED};

/// The problems of a stored target whose recorded objects differ from `generated`; none when
/// they are current. Only what the blueprints and the target's annotations determine counts:
/// the ownerReference (and the owner annotation that stands in for it before the target has a
/// uid) may differ.
pub fn stale(recorded: Option<&str>, generated: &[Generated]) -> Vec<Problem> {
    let Some(recorded) = recorded else {
        return vec![Problem::object(format!(
            "the resolved objects are missing: {RESOLVED} is not set; apply the object again to emit them"
        ))];
    };
    let recorded: Vec<Value> = recorded_items(recorded).into_iter().map(comparable).collect();
    let mut problems = Vec::new();
    for one in generated {
        let now: Vec<Value> = one.objects.iter().map(|o| comparable(o.value.clone())).collect();
        let mut paths = Vec::new();
        for object in &now {
            match recorded.iter().find(|r| same_object(r, object)) {
                Some(then) => differences(then, object, &kind_of(object), &mut paths),
                None => paths.push(format!("{} added", kind_of(object))),
            }
        }
        if !paths.is_empty() {
            problems.push(stale_problem(&one.blueprint, &paths));
        }
    }
    for gone in recorded.iter().filter(|r| {
        !generated
            .iter()
            .any(|g| blueprint_of(r).as_deref() == Some(g.blueprint.as_str()))
    }) {
        let paths = [format!("{} removed", kind_of(gone))];
        problems.push(stale_problem(blueprint_of(gone).as_deref().unwrap_or("?"), &paths));
    }
    problems
}

fn stale_problem(blueprint: &str, paths: &[String]) -> Problem {
    Problem::object(format!(
        "the resolved objects are stale: BackupBlueprint '{blueprint}' changed ({}); apply the object again to refresh them",
        list(paths)
    ))
}

/// `object` without what may differ between the CREATE that emitted it and the stored object.
fn comparable(mut object: Value) -> Value {
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("ownerReferences");
        if let Some(annotations) = metadata.get_mut("annotations").and_then(Value::as_object_mut) {
            annotations.remove(OWNER);
        }
    }
    object
}

fn kind_of(object: &Value) -> String {
    object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("object")
        .to_string()
}

/// The blueprint a recorded object was generated from, as the target names it: Stash's from
/// the policy's label, KubeStash's `<namespace>/<name>` from its invoker labels.
fn blueprint_of(object: &Value) -> Option<String> {
    let labels = at(object, &["metadata", "labels"])?;
    let label = |key: &str| labels.get(key).and_then(Value::as_str);
    match (label(BLUEPRINT_LABEL), label(INVOKER_NAMESPACE), label(INVOKER_NAME)) {
        (Some(stash), _, _) => Some(stash.to_string()),
        (None, Some(namespace), Some(name)) => Some(format!("{namespace}/{name}")),
        _ => None,
    }
}

fn same_object(a: &Value, b: &Value) -> bool {
    a.get("kind") == b.get("kind") && blueprint_of(a) == blueprint_of(b)
}

/// The keys of `a` and `b` in order, each once: a merge, both maps iterating in key order
/// (cheaper in policy.wasm than sorting, which instantiates a sort for `&String`).
fn key_union<'a>(a: &'a Map<String, Value>, b: &'a Map<String, Value>) -> Vec<&'a String> {
    let (mut a, mut b) = (a.keys().peekable(), b.keys().peekable());
    let mut keys = Vec::new();
    loop {
        let key = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if x < y => a.next(),
            (Some(x), Some(y)) if x > y => b.next(),
            (Some(_), Some(_)) => b.next().and(a.next()),
            (Some(_), None) => a.next(),
            (None, _) => b.next(),
        };
        match key {
            Some(key) => keys.push(key),
            None => return keys,
        }
    }
}

/// Appends to `paths` where `then` and `now` differ (`BackupConfiguration spec.schedule`).
fn differences(then: &Value, now: &Value, path: &str, paths: &mut Vec<String>) {
    match (then, now) {
        (Value::Object(a), Value::Object(b)) => {
            for key in key_union(a, b) {
                let child = match path.contains(' ') {
                    true => format!("{path}.{key}"),
                    false => format!("{path} {key}"),
                };
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => differences(x, y, &child, paths),
                    _ => paths.push(child),
                }
            }
        }
        _ if then != now => paths.push(path.to_string()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::naming::ObjectNames;
    use serde_json::json;

    #[test]
    fn key_union_merges_in_order() {
        let a = json!({"a": 1, "c": 2, "e": 3});
        let b = json!({"b": 1, "c": 2, "d": 3, "f": 4});
        let (a, b) = (a.as_object().unwrap(), b.as_object().unwrap());
        assert_eq!(key_union(a, b), ["a", "b", "c", "d", "e", "f"]);
        assert_eq!(key_union(b, a), ["a", "b", "c", "d", "e", "f"]);
        assert_eq!(key_union(a, &Map::new()), ["a", "c", "e"]);
        assert!(key_union(&Map::new(), &Map::new()).is_empty());
    }

    fn generated(schedule: &str, owner: Value) -> Generated {
        let labels = json!({BLUEPRINT_LABEL: "gcs"});
        let names = ObjectNames {
            repository_name: "r".into(),
            repository_namespace: "demo".into(),
            backup_configuration_name: "b".into(),
            backup_configuration_namespace: "demo".into(),
            truncated: Vec::new(),
        };
        let repository = json!({"kind": "Repository", "metadata": {"labels": labels}, "spec": {"backend": {"gcs": {"prefix": "p"}}}});
        let bc = json!({"kind": "BackupConfiguration", "metadata": {"labels": labels, "annotations": owner},
                        "spec": {"schedule": schedule}});
        Generated::stash("gcs", &names, "s".into(), repository, bc)
    }

    fn recorded(g: &Generated) -> String {
        crate::blueprint::emission::resolved_list(std::slice::from_ref(g))
    }

    #[test]
    fn current_objects_are_not_stale_whatever_their_owner() {
        let at_create = generated("@daily", json!({OWNER: "Deployment/web"}));
        let stored = generated("@daily", json!({}));
        assert!(stale(Some(&recorded(&at_create)), &[stored]).is_empty());
    }

    #[test]
    fn a_changed_blueprint_names_the_fields() {
        let then = generated("@daily", json!({}));
        let mut now = generated("@hourly", json!({}));
        now.objects[0].value["spec"]["backend"]["gcs"]["prefix"] = json!("q");
        assert_eq!(
            crate::report::render(&stale(Some(&recorded(&then)), &[now])),
            [
                "the resolved objects are stale: BackupBlueprint 'gcs' changed (Repository spec.backend.gcs.prefix, \
              BackupConfiguration spec.schedule); apply the object again to refresh them"
            ]
        );
    }

    #[test]
    fn missing_or_unreadable_records() {
        let now = generated("@daily", json!({}));
        assert_eq!(
            crate::report::render(&stale(None, std::slice::from_ref(&now))),
            [
                "the resolved objects are missing: autobackup.kubewarden.io/resolved is not set; apply the object again to emit them"
            ]
        );
        assert_eq!(
            crate::report::render(&stale(Some("{"), &[now])),
            [
                "the resolved objects are stale: BackupBlueprint 'gcs' changed (Repository added, BackupConfiguration added); \
              apply the object again to refresh them"
            ]
        );
    }
}
