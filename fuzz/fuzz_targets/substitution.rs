//! `substitute_str` and `substitute_tree` with arbitrary variables and input.
//!
//! Input: `NAME=value` lines (the variables) up to the first empty line, then the text to
//! substitute. The text is substituted as a string, as a one-string tree, inside a small tree
//! (as a value, a key and an array item) and, when it is JSON, as a tree of its own. Checks: no
//! panic; a substituted string is at most MAX_STRING_BYTES; text without `$` is left as it is; a
//! string substitutes alike alone and as a tree; every error names a path under the root.
#![no_main]

use backup_blueprint_policy::blueprint::substitution::{MAX_STRING_BYTES, Variables, substitute_str, substitute_tree};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (head, input) = text.split_once("\n\n").unwrap_or(("", &text));
    let vars: Variables = head
        .split('\n')
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();

    let as_str = substitute_str(input, &vars, "spec.x");
    match &as_str {
        Ok(output) => {
            assert!(output.len() <= MAX_STRING_BYTES, "{} bytes", output.len());
            if !input.contains('$') {
                assert_eq!(output, input);
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            for error in errors {
                assert!(error.path().starts_with("spec.x"), "{error:?}");
                let _ = error.to_string();
            }
        }
    }
    let as_tree = substitute_tree(&Value::String(input.to_string()), &vars, "spec.x");
    assert_eq!(as_str.is_ok(), as_tree.is_ok(), "{as_str:?} / {as_tree:?}");
    if let (Ok(s), Ok(t)) = (&as_str, &as_tree) {
        assert_eq!(&Value::String(s.clone()), t);
    }

    let tree = json!({"a": input, "b": [input, {"c": 1, input: null}], "d": true});
    check_tree(&tree, &vars);
    if let Ok(document) = serde_json::from_str::<Value>(input) {
        check_tree(&document, &vars);
    }
});

fn check_tree(tree: &Value, vars: &Variables) {
    match substitute_tree(tree, vars, "spec") {
        Ok(output) => same_shape(tree, &output),
        Err(errors) => {
            assert!(!errors.is_empty());
            for error in &errors {
                assert!(error.path().starts_with("spec"), "{error:?}");
                let _ = error.to_string();
            }
        }
    }
}

/// Substitution changes strings and keys, never the shape of the tree.
fn same_shape(before: &Value, after: &Value) {
    match (before, after) {
        (Value::String(_), Value::String(s)) => assert!(s.len() <= MAX_STRING_BYTES),
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len());
            a.iter().zip(b).for_each(|(x, y)| same_shape(x, y));
        }
        (Value::Object(a), Value::Object(b)) => assert!(b.len() <= a.len()),
        (a, b) => assert_eq!(a, b),
    }
}
