//! Compact JSON text of a value, byte for byte what `serde_json::to_string` writes (the
//! resolved annotation is compared as text, so the two must never differ), written straight
//! into bytes. serde_json's serializer goes through its `Serializer` and `io::Write` layers for
//! every key and string fragment; in policy.wasm, built for size, that was a fifth of an
//! accepted evaluation (the objects are written twice: as the annotation's text, then inside
//! the mutated object). Bytes rather than a `String`: pushing a byte needs no UTF-8 encoding,
//! and slicing the bytes of a string no character-boundary check.

use serde_json::Value;

/// `value` as compact JSON text.
pub fn of(value: &Value) -> String {
    let mut out = Vec::new();
    write(&mut out, value);
    text(out)
}

/// Text this module wrote: valid UTF-8, since it copies whole strings and splits them only
/// at ASCII bytes.
pub fn text(written: Vec<u8>) -> String {
    String::from_utf8(written).unwrap_or_default()
}

/// Appends `value` as compact JSON text to `out`.
pub fn write(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        // serde_json's `Display` of a number is its serializer's text (itoa and ryu).
        Value::Number(number) => out.extend_from_slice(number.to_string().as_bytes()),
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write(out, item);
            }
            out.push(b']');
        }
        Value::Object(fields) => {
            out.push(b'{');
            for (index, (key, item)) in fields.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_string(out, key);
                out.push(b':');
                write(out, item);
            }
            out.push(b'}');
        }
    }
}

/// The bytes a JSON string escapes: `"`, `\\` and those below U+0020.
static ESCAPED: [bool; 256] = {
    let mut escaped = [false; 256];
    let mut byte = 0;
    while byte < 0x20 {
        escaped[byte] = true;
        byte += 1;
    }
    escaped[b'"' as usize] = true;
    escaped[b'\\' as usize] = true;
    escaped
};

/// Appends `text` as a JSON string, escaped as serde_json escapes: `"`, `\` and the control
/// characters below U+0020, the usual ones by their short escape.
pub fn write_string(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut plain_from = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        if !ESCAPED[usize::from(byte)] {
            continue;
        }
        out.extend_from_slice(&bytes[plain_from..index]);
        plain_from = index + 1;
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0C => out.extend_from_slice(b"\\f"),
            control => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(control >> 4)]);
                out.push(HEX[usize::from(control & 0xF)]);
            }
        }
    }
    out.extend_from_slice(&bytes[plain_from..]);
    out.push(b'"');
}

/// Appends `text` as a JSON string, or `null` when there is none.
pub fn write_string_or_null(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        Some(text) => write_string(out, text),
        None => out.extend_from_slice(b"null"),
    }
}

/// Appends `texts` as a JSON list of strings.
pub fn write_strings<T: AsRef<str>>(out: &mut Vec<u8>, texts: &[T]) {
    out.push(b'[');
    for (index, text) in texts.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_string(out, text.as_ref());
    }
    out.push(b']');
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
    fn optional_strings_and_lists_of_strings() {
        let written = |write: &dyn Fn(&mut Vec<u8>)| {
            let mut out = Vec::new();
            write(&mut out);
            text(out)
        };
        assert_eq!(written(&|out| write_string_or_null(out, None)), "null");
        assert_eq!(written(&|out| write_string_or_null(out, Some("a\"b"))), r#""a\"b""#);
        assert_eq!(written(&|out| write_strings::<&str>(out, &[])), "[]");
        assert_eq!(written(&|out| write_strings(out, &["a", "b\n"])), r#"["a","b\n"]"#);
    }

    #[test]
    fn json_in_json() {
        let inner = json!({"kind": "List", "items": [{"name": "a\"b", "path": "C:\\x\n"}]});
        same_as_serde_json(&json!({"annotation": of(&inner)}));
    }
}
