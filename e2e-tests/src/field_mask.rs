//! Field masks of the Kubernetes host capabilities, applied the way policy-evaluator does
//! (`callback_handler/kubernetes/field_mask.rs`): dot-separated paths build a tree, arrays are
//! transparent, a path that ends at an object keeps everything below it.
//!
//! policy-evaluator prunes the *data* of a `kube::core::DynamicObject`, i.e. everything except
//! `apiVersion`, `kind` and `metadata`, which are always returned.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// The keys of a Kubernetes object that live outside `DynamicObject::data`.
const ALWAYS_KEPT: [&str; 3] = ["apiVersion", "kind", "metadata"];

/// A node of the field-mask tree.
#[derive(Default, Debug)]
pub struct FieldMaskNode {
    children: BTreeMap<String, FieldMaskNode>,
    /// A path ends here: keep everything below unless other paths go deeper.
    is_terminal: bool,
}

impl FieldMaskNode {
    /// Builds the tree from dot-separated paths such as `metadata.name` or `spec.containers.image`.
    pub fn new(paths: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        let mut root = Self::default();
        for path in paths {
            root.insert(path.as_ref());
        }
        root
    }

    fn insert(&mut self, path: &str) {
        let mut current = self;
        for part in path.split('.') {
            current = current.children.entry(part.to_string()).or_default();
        }
        current.is_terminal = true;
    }
}

/// Removes, in place, every field of `value` that the mask does not name.
pub fn prune_in_place(value: &mut Value, node: &FieldMaskNode) {
    if node.is_terminal && node.children.is_empty() {
        return;
    }
    match value {
        Value::Object(map) => map.retain(|key, child| match node.children.get(key) {
            Some(child_node) => {
                prune_in_place(child, child_node);
                true
            }
            None => false,
        }),
        Value::Array(items) => items.iter_mut().for_each(|item| prune_in_place(item, node)),
        _ => {}
    }
}

/// Applies the masks of a request to a whole Kubernetes object as policy-server does:
/// `apiVersion`, `kind` and `metadata` are kept, the rest is pruned. No masks (or an empty
/// list) returns the object unchanged.
pub fn mask_object(object: &mut Value, masks: Option<&BTreeSet<String>>) {
    let Some(masks) = masks.filter(|m| !m.is_empty()) else {
        return;
    };
    let Value::Object(map) = object else {
        return;
    };
    let mut data = Value::Object(
        map.iter()
            .filter(|(key, _)| !ALWAYS_KEPT.contains(&key.as_str()))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect(),
    );
    prune_in_place(&mut data, &FieldMaskNode::new(masks));
    map.retain(|key, _| ALWAYS_KEPT.contains(&key.as_str()));
    if let Value::Object(data) = data {
        map.extend(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pruned(mut value: Value, mask: &[&str]) -> Value {
        prune_in_place(&mut value, &FieldMaskNode::new(mask));
        value
    }

    #[test]
    fn keeps_only_named_leaves() {
        assert_eq!(
            pruned(json!({"a": {"b": 1, "c": 2}, "d": 3}), &["a.b", "d"]),
            json!({"a": {"b": 1}, "d": 3})
        );
    }

    #[test]
    fn arrays_are_traversed() {
        let value = json!({"users": [{"name": "A", "age": 1, "m": {"id": 1}}, {"name": "B", "age": 2, "m": {"id": 2}}], "count": 2});
        assert_eq!(
            pruned(value, &["users.name", "users.m"]),
            json!({"users": [{"name": "A", "m": {"id": 1}}, {"name": "B", "m": {"id": 2}}]})
        );
    }

    #[test]
    fn a_path_to_an_object_keeps_all_below() {
        let value = json!({"user": {"name": "A", "meta": {"id": 1}}, "other": 1});
        assert_eq!(
            pruned(value, &["user"]),
            json!({"user": {"name": "A", "meta": {"id": 1}}})
        );
    }

    #[test]
    fn a_deeper_path_wins_over_a_terminal_one() {
        // policy-evaluator's quirk: "a" is terminal but has children, so only "a.b" survives.
        assert_eq!(
            pruned(json!({"a": {"b": 1, "c": 2}}), &["a", "a.b"]),
            json!({"a": {"b": 1}})
        );
    }

    #[test]
    fn masking_an_object_keeps_type_and_metadata_and_drops_secret_data() {
        let mut secret = json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s", "namespace": "demo", "labels": {"a": "b"}},
            "type": "Opaque", "data": {"password": "c2VjcmV0"}
        });
        mask_object(&mut secret, Some(&BTreeSet::from(["metadata.name".to_string()])));
        assert_eq!(
            secret,
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "demo", "labels": {"a": "b"}}})
        );
    }

    #[test]
    fn masking_keeps_the_named_data_fields() {
        let mut pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "i"}], "nodeName": "n"}, "status": {}});
        mask_object(&mut pod, Some(&BTreeSet::from(["spec.containers.image".to_string()])));
        assert_eq!(
            pod,
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"image": "i"}]}})
        );
    }

    #[test]
    fn no_masks_or_empty_masks_return_everything() {
        let original = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {}, "data": {"k": "v"}});
        let mut object = original.clone();
        mask_object(&mut object, None);
        assert_eq!(object, original);
        mask_object(&mut object, Some(&BTreeSet::new()));
        assert_eq!(object, original);
    }
}
