//! What is read of an object before deciding whether it is ours: its type first (an
//! object of another kind is never read further), then its metadata. Read from the parsed
//! object as Kubernetes' decoder reads it: `null` is an absent field, unknown fields are
//! ignored, and a field of the wrong type is a rejection that names it.

use serde_json::{Map, Value};

use crate::report::shorten;
use crate::support::json_fields::{child, expect_list, expect_map, expect_str, field, item, kind, wrong_type};
use crate::support::string_map::StringMap;

/// Why the object, or its metadata, could not be read.
pub const UNREADABLE_OBJECT: &str = "the object could not be read";
pub const UNREADABLE_METADATA: &str = "the object's metadata could not be read";

/// The type of an object.
pub struct Head<'a> {
    pub api_version: &'a str,
    pub kind: &'a str,
}

/// The metadata the policy reads.
#[derive(Default)]
pub struct Metadata {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub resource_version: String,
    pub annotations: StringMap,
    pub owners: Vec<Owner>,
    pub being_deleted: bool,
}

/// An owner reference's type.
pub struct Owner {
    pub api_version: String,
    pub kind: String,
}

/// The object's `apiVersion` and `kind` (empty when absent).
pub fn type_of(object: &Value) -> Result<Head<'_>, String> {
    let unreadable = |why: String| format!("{UNREADABLE_OBJECT}: {why}");
    let Value::Object(map) = object else {
        return Err(unreadable(format!("expected a map, got {}", kind(object))));
    };
    Ok(Head {
        api_version: text(map, "apiVersion", "").map_err(unreadable)?,
        kind: text(map, "kind", "").map_err(unreadable)?,
    })
}

/// The object's metadata (empty when absent).
pub fn metadata(object: &Value) -> Result<Metadata, String> {
    let Some(metadata) = object.get("metadata").filter(|m| !m.is_null()) else {
        return Ok(Metadata::default());
    };
    read_metadata(metadata).map_err(|why| format!("{UNREADABLE_METADATA}: {why}"))
}

fn read_metadata(metadata: &Value) -> Result<Metadata, String> {
    let map = expect_map(metadata, "metadata", "a map")?;
    Ok(Metadata {
        name: text(map, "name", "metadata")?.to_string(),
        namespace: text(map, "namespace", "metadata")?.to_string(),
        uid: text(map, "uid", "metadata")?.to_string(),
        resource_version: text(map, "resourceVersion", "metadata")?.to_string(),
        annotations: annotations(field(map, "annotations"))?,
        owners: owners(field(map, "ownerReferences"))?,
        being_deleted: field(map, "deletionTimestamp").is_some(),
    })
}

/// The string field `name` of `map` at `path`, empty when absent.
fn text<'a>(map: &'a Map<String, Value>, name: &str, path: &str) -> Result<&'a str, String> {
    field(map, name).map_or(Ok(""), |value| expect_str(value, &child(path, name)))
}

fn annotations(value: Option<&Value>) -> Result<StringMap, String> {
    let Some(value) = value else {
        return Ok(StringMap::new());
    };
    let path = "metadata.annotations";
    let map = expect_map(value, path, "a map of strings")?;
    StringMap::from_json(map.clone())
        .map_err(|(key, value)| wrong_type(&child(path, &shorten(&key)), "a string", &value))
}

fn owners(value: Option<&Value>) -> Result<Vec<Owner>, String> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let path = "metadata.ownerReferences";
    let list = expect_list(value, path, "a list of owner references")?;
    let mut owners = Vec::with_capacity(list.len());
    for (i, reference) in list.iter().enumerate() {
        let path = item(path, i);
        let map = expect_map(reference, &path, "an owner reference")?;
        owners.push(Owner {
            api_version: text(map, "apiVersion", &path)?.to_string(),
            kind: text(map, "kind", &path)?.to_string(),
        });
    }
    Ok(owners)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn absent_and_null_fields_are_empty() {
        let object = json!({"kind": "Deployment", "apiVersion": null, "metadata": {"name": null, "x": 1}});
        let head = type_of(&object).unwrap();
        assert_eq!((head.api_version, head.kind), ("", "Deployment"));
        let metadata = metadata(&object).unwrap();
        assert!(metadata.name.is_empty() && metadata.annotations.is_empty() && metadata.owners.is_empty());
        assert!(!metadata.being_deleted);
        assert!(super::metadata(&json!({"metadata": null})).is_ok());
    }

    #[test]
    fn fields_are_read() {
        let object = json!({"metadata": {"name": "web", "namespace": "demo", "uid": "u", "resourceVersion": "7",
            "annotations": {"a": "1"}, "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment"}],
            "deletionTimestamp": "2027-01-01T00:00:00Z"}});
        let m = metadata(&object).unwrap();
        assert_eq!(
            (m.name.as_str(), m.namespace.as_str(), m.uid.as_str()),
            ("web", "demo", "u")
        );
        assert_eq!(m.resource_version, "7");
        assert_eq!(m.annotations.get("a"), Some("1"));
        assert_eq!(
            (m.owners[0].api_version.as_str(), m.owners[0].kind.as_str()),
            ("apps/v1", "Deployment")
        );
        assert!(m.being_deleted);
    }

    #[test]
    fn wrong_types_are_named() {
        let object_error = |object: Value| type_of(&object).err().unwrap();
        let metadata_error = |metadata: Value| super::metadata(&json!({ "metadata": metadata })).err().unwrap();
        assert_eq!(
            object_error(json!(42)),
            "the object could not be read: expected a map, got a number"
        );
        assert_eq!(
            object_error(json!({"kind": ["Deployment"]})),
            "the object could not be read: kind: expected a string, got a list"
        );
        assert_eq!(
            metadata_error(json!("web")),
            "the object's metadata could not be read: metadata: expected a map, got a string"
        );
        assert_eq!(
            metadata_error(json!({"uid": 1})),
            "the object's metadata could not be read: metadata.uid: expected a string, got a number"
        );
        assert_eq!(
            metadata_error(json!({"annotations": ["a"]})),
            "the object's metadata could not be read: metadata.annotations: expected a map of strings, got a list"
        );
        assert_eq!(
            metadata_error(json!({"annotations": {"a": 1}})),
            "the object's metadata could not be read: metadata.annotations.a: expected a string, got a number"
        );
        assert_eq!(
            metadata_error(json!({"ownerReferences": [{"kind": 5}]})),
            "the object's metadata could not be read: metadata.ownerReferences[0].kind: expected a string, got a number"
        );
    }
}
