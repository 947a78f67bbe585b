//! Emission: the resolved objects written into the target's
//! `autobackup.kubewarden.io/resolved` annotation. Only that annotation ever changes.

use std::cell::OnceCell;

use serde_json::{Map, Value};

use crate::blueprint::objects::Generated;
use crate::support::json_fields::at;
use crate::support::json_text;
use crate::support::string_map::StringMap;
use crate::target::annotations::RESOLVED;

/// What one admission generates, with its resolved list written at most once: the collision
/// check compares it with the stored object's, and the mutation emits it.
#[derive(Default)]
pub struct GeneratedObjects {
    pub items: Vec<Generated>,
    list: OnceCell<String>,
}

impl GeneratedObjects {
    pub fn new(items: Vec<Generated>) -> Self {
        GeneratedObjects {
            items,
            list: OnceCell::new(),
        }
    }

    /// [`resolved_list`] of the items, written on first use.
    pub fn resolved_list(&self) -> &str {
        self.list.get_or_init(|| resolved_list(&self.items))
    }

    pub fn into_resolved_list(self) -> String {
        match self.list.into_inner() {
            Some(list) => list,
            None => resolved_list(&self.items),
        }
    }
}

/// The compact `v1 List` of every generated object: per blueprint, the Repository then the
/// BackupConfiguration. Written around the objects' own JSON rather than built as a value, which
/// would copy them; its fields in the order serde_json writes a map, by name.
pub fn resolved_list(generated: &[Generated]) -> String {
    let mut list = br#"{"apiVersion":"v1","items":["#.to_vec();
    let mut first = true;
    for object in generated.iter().flat_map(|g| &g.objects) {
        if !first {
            list.push(b',');
        }
        first = false;
        json_text::write(&mut list, &object.value);
    }
    list.extend_from_slice(br#"],"kind":"List"}"#);
    json_text::text(list)
}

/// The items of a recorded `resolved` annotation (what [`resolved_list`] wrote); none when it
/// is not such a list.
pub fn recorded_items(recorded: &str) -> Vec<Value> {
    match serde_json::from_slice::<Value>(recorded.as_bytes()) {
        Ok(Value::Object(mut list)) => match list.remove("items") {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Kubernetes' limit on the total size of an object's annotations, keys and values
/// (apimachinery's `TotalAnnotationSizeLimitB`).
pub const MAX_ANNOTATIONS_BYTES: usize = 256 * 1024;

/// The size Kubernetes counts for the annotations of `object`: every key and value.
pub fn annotations_size(object: &Value) -> usize {
    let annotations = at(object, &["metadata", "annotations"]).and_then(Value::as_object);
    let mut size = 0;
    for (key, value) in annotations.into_iter().flatten() {
        size += key.len() + value.as_str().map_or(0, str::len);
    }
    size
}

/// Adds `added` to the annotations of `object` (the backup annotations a default gives it).
/// Returns whether the object changed.
pub fn add_annotations(object: &mut Value, added: &StringMap) -> bool {
    if added.is_empty() {
        return false;
    }
    let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return false;
    };
    let annotations = metadata
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if !annotations.is_object() {
        *annotations = Value::Object(Map::new());
    }
    for (key, value) in added.iter() {
        annotations[key] = Value::String(value.to_string());
    }
    true
}

/// Sets (`Some`) or removes (`None`) the resolved annotation on `object`. Returns whether the
/// object changed, so that an object already carrying the same value yields no patch.
pub fn set_resolved(object: &mut Value, value: Option<String>) -> bool {
    let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return false;
    };
    let current = metadata
        .get("annotations")
        .and_then(|a| a.get(RESOLVED))
        .and_then(Value::as_str);
    if current == value.as_deref() {
        return false;
    }
    match value {
        Some(value) => {
            let annotations = metadata
                .entry("annotations")
                .or_insert_with(|| Value::Object(Map::new()));
            if !annotations.is_object() {
                *annotations = Value::Object(Map::new());
            }
            annotations[RESOLVED] = Value::String(value);
        }
        None => {
            if let Some(annotations) = metadata.get_mut("annotations").and_then(Value::as_object_mut) {
                annotations.remove(RESOLVED);
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn generated() -> Generated {
        let names = crate::target::naming::ObjectNames {
            repository_name: "r".into(),
            repository_namespace: "demo".into(),
            backup_configuration_name: "b".into(),
            backup_configuration_namespace: "demo".into(),
            truncated: Vec::new(),
        };
        let (repository, bc) = (json!({"kind": "Repository"}), json!({"kind": "BackupConfiguration"}));
        Generated::stash("bp", &names, "s".into(), repository, bc)
    }

    /// The collision check's list is the one emitted: the same text, not written again.
    #[test]
    fn the_list_is_written_once() {
        let objects = GeneratedObjects::new(vec![generated()]);
        let compared = objects.resolved_list().as_ptr();
        let emitted = objects.into_resolved_list();
        assert_eq!(emitted.as_ptr(), compared);
        assert_eq!(emitted, resolved_list(&[generated()]));
        assert_eq!(GeneratedObjects::new(vec![generated()]).into_resolved_list(), emitted);
    }

    #[test]
    fn list_is_compact_and_ordered() {
        assert_eq!(
            resolved_list(&[generated()]),
            r#"{"apiVersion":"v1","items":[{"kind":"Repository"},{"kind":"BackupConfiguration"}],"kind":"List"}"#
        );
        // The text serde_json writes for the same list as a value, whatever the number of blueprints.
        for count in 0..3 {
            let generated = vec![generated(); count];
            let items: Vec<Value> = generated
                .iter()
                .flat_map(|g| g.objects.iter().map(|o| o.value.clone()))
                .collect();
            let list = json!({"kind": "List", "apiVersion": "v1", "items": items});
            assert_eq!(resolved_list(&generated), json_text::of(&list));
        }
    }

    #[test]
    fn set_is_idempotent_and_touches_only_the_annotation() {
        let mut object = json!({"metadata": {"name": "web"}, "spec": {"replicas": 1}});
        assert!(set_resolved(&mut object, Some("x".into())));
        assert_eq!(
            object,
            json!({"metadata": {"name": "web", "annotations": {RESOLVED: "x"}}, "spec": {"replicas": 1}})
        );
        assert!(!set_resolved(&mut object, Some("x".into())));
        assert!(set_resolved(&mut object, Some("y".into())));
        assert!(set_resolved(&mut object, None));
        assert_eq!(
            object,
            json!({"metadata": {"name": "web", "annotations": {}}, "spec": {"replicas": 1}})
        );
        assert!(!set_resolved(&mut object, None));
    }
}
