//! Compact JSON text of a value, byte for byte what `serde_json::to_string` writes (the
//! resolved annotation is compared as text, so the two must never differ), written straight
//! into a `String`. serde_json's serializer goes through its `Serializer` and `io::Write`
//! layers for every key and string fragment; in policy.wasm, built for size, that was a fifth
//! of an accepted evaluation (the objects are written twice: as the annotation's text, then
//! inside the mutated object).

use std::fmt::Write;

use serde_json::Value;

/// `value` as compact JSON text.
pub fn of(value: &Value) -> String {
    let mut out = String::new();
    write(&mut out, value);
    out
}

/// Appends `value` as compact JSON text to `out`.
pub fn write(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        // serde_json's `Display` of a number is its serializer's text (itoa and ryu).
        Value::Number(number) => _ = write!(out, "{number}"),
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write(out, item);
            }
            out.push(']');
        }
        Value::Object(fields) => {
            out.push('{');
            for (index, (key, item)) in fields.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write(out, item);
            }
            out.push('}');
        }
    }
}

/// Appends `text` as a JSON string, escaped as serde_json escapes: `"`, `\` and the control
/// characters below U+0020, the usual ones by their short escape.
pub fn write_string(out: &mut String, text: &str) {
    out.push('"');
    let mut plain_from = 0;
    for (index, byte) in text.bytes().enumerate() {
        if byte >= 0x20 && byte != b'"' && byte != b'\\' {
            continue;
        }
        // An ASCII byte: `index` is a character boundary.
        out.push_str(&text[plain_from..index]);
        plain_from = index + 1;
        match byte {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0C => out.push_str("\\f"),
            control => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(control >> 4)]));
                out.push(char::from(HEX[usize::from(control & 0xF)]));
            }
        }
    }
    out.push_str(&text[plain_from..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn same_as_serde_json(value: &Value) {
        assert_eq!(of(value), serde_json::to_string(value).unwrap(), "{value:?}");
    }

    #[test]
    fn every_kind_of_value() {
        same_as_serde_json(&json!(null));
        same_as_serde_json(&json!({
            "b": [true, false, null], "a": {}, "e": [], "n": [0, -1, 18446744073709551615u64,
            -9223372036854775808i64, 1.5, -0.0, 1e300, 2.5e-8, 100.0], "s": "x", "": "",
        }));
    }

    #[test]
    fn every_escape() {
        let controls: String = (0u8..0x20).map(char::from).collect();
        for text in [
            controls.as_str(),
            r#"say "hi" \ back\slash"#,
            "\u{7f} é ✓ \u{202e} 😀 \u{2028}",
            "\"\"",
            "\\",
            "end\n",
        ] {
            same_as_serde_json(&json!(text));
            same_as_serde_json(&json!({ text: [text] }));
        }
    }

    #[test]
    fn json_in_json() {
        let inner = json!({"kind": "List", "items": [{"name": "a\"b", "path": "C:\\x\n"}]});
        same_as_serde_json(&json!({"annotation": of(&inner)}));
    }
}
