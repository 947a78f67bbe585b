//! The admission request as policy-server sends it, `{"request": {...}, "settings": ...}`, read
//! in up to two passes. The first reads only what decides whether the object concerns the
//! policy (the operation, the object's type and metadata, the settings) and skips the rest of
//! the object without building it; only for an object the policy evaluates does the second
//! pass read the rest. A request the first pass cannot read is read whole, once, and the
//! evaluation says what is wrong with it. Both read JSON values through serde visitors, never
//! typed fields: serde's typed-error paths would add 40 KB to policy.wasm.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::target::annotations::RESOLVED;

pub const UNREADABLE_REQUEST: &str = "the admission request could not be read";

/// The first pass: all that decides whether the object concerns the policy.
pub struct Skeleton {
    pub operation: String,
    /// The object's `apiVersion`, `kind` and `metadata`, the rest left out.
    pub object_head: Value,
    pub settings: Value,
}

/// The second pass: the fields of the request the policy reads.
pub struct Request {
    pub operation: String,
    pub namespace: String,
    pub object: Value,
    /// The stored object of an UPDATE; after the first pass, only its resolved annotation.
    pub old_object: Option<Value>,
}

/// The first pass; `None` when the request is not as policy-server sends it (the second pass
/// then says why).
pub fn skeleton(payload: &[u8]) -> Option<Skeleton> {
    let mut deserializer = serde_json::Deserializer::from_slice(payload);
    let mut payload = deserializer.deserialize_any(PAYLOAD).ok()?;
    deserializer.end().ok()?;
    let Some(Value::Object(mut request)) = payload.remove("request") else {
        return None;
    };
    let Some(Value::String(operation)) = request.remove("operation") else {
        return None;
    };
    Some(Skeleton {
        operation,
        object_head: request.remove("object")?,
        settings: payload.remove("settings").unwrap_or_default(),
    })
}

/// The second pass alone: the whole request, and the settings.
pub fn read(payload: &[u8]) -> Result<(Request, Value), String> {
    let mut payload: Value = serde_json::from_slice(payload).map_err(|e| format!("{UNREADABLE_REQUEST}: {e}"))?;
    let settings = payload.get_mut("settings").map(Value::take).unwrap_or_default();
    Ok((request(payload)?, settings))
}

/// The second pass after a first one: all but the settings and the object's metadata, which
/// the first pass read; the metadata (`metadata`) is put back in its place.
pub fn read_rest(payload: &[u8], metadata: Option<Value>) -> Result<Request, String> {
    let mut deserializer = serde_json::Deserializer::from_slice(payload);
    let mut payload = deserializer
        .deserialize_any(REST)
        .and_then(|payload| deserializer.end().map(|()| payload))
        .map_err(|e| format!("{UNREADABLE_REQUEST}: {e}"))?;
    let object = payload.get_mut("request").and_then(|request| request.get_mut("object"));
    if let (Some(Value::Object(object)), Some(metadata)) = (object, metadata) {
        object.insert("metadata".to_owned(), metadata);
    }
    request(Value::Object(payload))
}

fn request(mut payload: Value) -> Result<Request, String> {
    let Some(Value::Object(request)) = payload.get_mut("request") else {
        return Err(format!("{UNREADABLE_REQUEST}: request: expected a map"));
    };
    let mut text = |name: &str| match request.remove(name) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(text)) => Ok(text),
        Some(_) => Err(format!("{UNREADABLE_REQUEST}: request.{name}: expected a string")),
    };
    let (operation, namespace) = (text("operation")?, text("namespace")?);
    Ok(Request {
        operation,
        namespace,
        object: request.remove("object").unwrap_or_default(),
        old_object: request
            .remove("oldObject")
            .filter(|old| !old.is_null() && *old != Value::Object(Map::new())),
    })
}

/// What a pass reads of a JSON map: the `keep` fields whole, the `inner` fields picked from in
/// turn, the others skipped without being built. Anything but a map is an error, or an empty
/// map when `lenient`.
#[derive(Clone, Copy)]
struct Pick {
    keep: Keep,
    inner: &'static [(&'static str, &'static Pick)],
    /// Anything but a map reads as an empty map (else it is an error).
    lenient: bool,
}

/// Nothing kept, nothing picked from, anything but a map an error: what the picks below
/// start from.
const NOTHING: Pick = Pick {
    keep: Keep::Only(&[]),
    inner: &[],
    lenient: false,
};

#[derive(Clone, Copy)]
enum Keep {
    Only(&'static [&'static str]),
    AllBut(&'static [&'static str]),
}

impl Keep {
    fn keeps(self, key: &str) -> bool {
        match self {
            Keep::Only(names) => names.contains(&key),
            Keep::AllBut(names) => !names.contains(&key),
        }
    }
}

const PAYLOAD: Pick = Pick {
    keep: Keep::Only(&["settings"]),
    inner: &[(
        "request",
        &Pick {
            keep: Keep::Only(&["operation"]),
            inner: &[(
                "object",
                &Pick {
                    keep: Keep::Only(&["apiVersion", "kind", "metadata"]),
                    ..NOTHING
                },
            )],
            ..NOTHING
        },
    )],
    ..NOTHING
};

/// The second pass after the first: the request's fields the policy reads, the object but its
/// metadata (which the first kept), and of the stored object only what the policy reads of it,
/// the resolved annotation (the objects emitted for it, which need no collision check).
const REST: Pick = Pick {
    inner: &[(
        "request",
        &Pick {
            keep: Keep::Only(&["operation", "namespace"]),
            inner: &[
                (
                    "object",
                    &Pick {
                        keep: Keep::AllBut(&["metadata"]),
                        ..NOTHING
                    },
                ),
                ("oldObject", &STORED_RESOLVED),
            ],
            ..NOTHING
        },
    )],
    ..NOTHING
};

/// `oldObject.metadata.annotations`, the resolved annotation only; `null` on a CREATE. A
/// stored object that is not one (not a map, its metadata or annotations not maps) records
/// nothing.
const STORED_RESOLVED: Pick = Pick {
    inner: &[(
        "metadata",
        &Pick {
            inner: &[(
                "annotations",
                &Pick {
                    keep: Keep::Only(&[RESOLVED]),
                    ..LENIENT
                },
            )],
            ..LENIENT
        },
    )],
    ..LENIENT
};

const LENIENT: Pick = Pick {
    lenient: true,
    ..NOTHING
};

macro_rules! not_a_map {
    ($($method:ident($($arg:ty)?)),*) => {
        $(fn $method<E: de::Error>(self $(, _: $arg)?) -> Result<Self::Value, E> {
            self.not_a_map()
        })*
    };
}

impl<'de> Visitor<'de> for Pick {
    type Value = Map<String, Value>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut picked = Map::new();
        while let Some(Key(key)) = map.next_key()? {
            let inner = self.inner.iter().find(|(name, _)| *name == key);
            let value = match inner {
                Some((_, inner)) => Value::Object(map.next_value_seed(**inner)?),
                None if self.keep.keeps(&key) => map.next_value()?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            picked.insert(key, value);
        }
        Ok(picked)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        if self.lenient {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
        }
        self.not_a_map()
    }

    not_a_map!(
        visit_unit(),
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_f64(f64),
        visit_str(&str)
    );
}

impl Pick {
    fn not_a_map<E: de::Error>(self) -> Result<Map<String, Value>, E> {
        match self.lenient {
            true => Ok(Map::new()),
            false => Err(E::custom("expected a map")),
        }
    }
}

impl<'de> DeserializeSeed<'de> for Pick {
    type Value = Map<String, Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// A map key (serde_json reads keys as strings only).
struct Key(String);

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        Ok(Key(key.to_owned()))
    }
}

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_any(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn payload(request: Value) -> Vec<u8> {
        json!({"request": request, "settings": {"collisionCheck": "warn"}})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn the_skeleton_holds_only_the_head() {
        let object = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 3}, "status": {}});
        let bytes =
            payload(json!({"uid": "u", "operation": "CREATE", "userInfo": {"groups": ["a"]}, "object": object}));
        let skeleton = skeleton(&bytes).unwrap();
        assert_eq!(skeleton.operation, "CREATE");
        assert_eq!(
            skeleton.object_head,
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}})
        );
        assert_eq!(skeleton.settings, json!({"collisionCheck": "warn"}));
        let (request, settings) = read(&bytes).unwrap();
        assert_eq!((request.operation.as_str(), &request.object), ("CREATE", &object));
        assert_eq!(settings, json!({"collisionCheck": "warn"}));
        // The rest, with the metadata of the first pass put back, is the whole request.
        let rest = read_rest(&bytes, Some(json!({"name": "web"}))).unwrap();
        assert_eq!((rest.operation.as_str(), rest.object), ("CREATE", object));
    }

    #[test]
    fn of_the_stored_object_the_second_pass_reads_the_resolved_annotation() {
        let annotations = json!({RESOLVED: "[]", "other": "x"});
        let stored = json!({"metadata": {"name": "web", "annotations": annotations}, "spec": {"replicas": 3}});
        let update = payload(json!({"operation": "UPDATE", "object": {"metadata": {}}, "oldObject": stored}));
        let rest = read_rest(&update, None).unwrap();
        assert_eq!(
            rest.old_object,
            Some(json!({"metadata": {"annotations": {RESOLVED: "[]"}}}))
        );
        for old in [json!(null), json!({"spec": {}})] {
            let create = payload(json!({"operation": "CREATE", "object": {}, "oldObject": old}));
            assert_eq!(read_rest(&create, None).unwrap().old_object, None);
        }
        // A stored object that is not one records nothing, and the request is still read.
        for odd in [
            json!([1, [2]]),
            json!("x"),
            json!({"metadata": 5}),
            json!({"metadata": {"annotations": []}}),
        ] {
            let update = payload(json!({"operation": "UPDATE", "object": {}, "oldObject": odd}));
            let old = read_rest(&update, None).unwrap().old_object.unwrap_or_default();
            assert!(old["metadata"]["annotations"][RESOLVED].is_null(), "{old}");
        }
    }

    /// What the first pass cannot read is left to the second, which says why.
    #[test]
    fn unusual_requests_are_left_to_the_second_pass() {
        for request in [
            json!([1]),
            json!({"operation": 5, "object": {}}),
            json!({"object": [1, [2]]}),
            json!({}),
        ] {
            assert!(skeleton(&payload(request.clone())).is_none(), "{request}");
        }
        assert!(skeleton(b"{\"request\": {\"operation\": \"CREATE\", \"object\": {}}} x").is_none());
        assert_eq!(
            read(&payload(json!({"operation": 5}))).err().unwrap(),
            "the admission request could not be read: request.operation: expected a string"
        );
        assert_eq!(
            read(&payload(json!([1]))).err().unwrap(),
            "the admission request could not be read: request: expected a map"
        );
        assert!(
            read(b"{")
                .err()
                .unwrap()
                .starts_with("the admission request could not be read: EOF")
        );
    }
}
