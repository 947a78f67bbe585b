//! Quoting user text in messages: everything quoted from an object, a blueprint or the
//! settings is shortened and every list is capped, so that a message stays small whatever the
//! input.

const MAX_QUOTED_CHARS: usize = 80;
const MAX_LISTED_ITEMS: usize = 10;

/// `text`, cut to 80 characters with `…` when longer; control characters and bidirectional
/// overrides and isolates are escaped so that a quoted value cannot break the message's lines
/// or reorder what a person reads.
pub fn shorten(text: &str) -> String {
    let (head, cut) = match text.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((end, _)) => (&text[..end], true),
        None => (text, false),
    };
    let mut quoted: String = match head.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        true => head.escape_debug().collect(),
        false => head.to_string(),
    };
    if cut {
        quoted.push('…');
    }
    quoted
}

/// U+202A–U+202E (embeddings, overrides) and U+2066–U+2069 (isolates).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `a, b, c`, with at most 10 items and `… (N in all)` after them.
pub fn list<S: AsRef<str>>(items: &[S]) -> String {
    let shown: Vec<String> = items
        .iter()
        .take(MAX_LISTED_ITEMS)
        .map(|i| shorten(i.as_ref()))
        .collect();
    match items.len() > MAX_LISTED_ITEMS {
        true => format!("{}, … ({} in all)", shown.join(", "), items.len()),
        false => shown.join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_text_and_lists_are_bounded() {
        assert_eq!(shorten("short"), "short");
        assert_eq!(shorten(&"é".repeat(100)), format!("{}…", "é".repeat(80)));
        assert_eq!(shorten("a\tb\nc"), "a\\tb\\nc");
        assert_eq!(shorten("gcs\u{202e}yliad\u{2066}"), "gcs\\u{202e}yliad\\u{2066}");
        assert_eq!(list(&["a", "b"]), "a, b");
        let items: Vec<String> = (0..12).map(|i| i.to_string()).collect();
        assert_eq!(list(&items), "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, … (12 in all)");
    }
}
