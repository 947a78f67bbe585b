//! Quoting user text in messages: everything quoted from an object, a blueprint or the
//! settings is shortened and every list is capped, so that a message stays small whatever the
//! input.

const MAX_QUOTED_CHARS: usize = 80;
const MAX_LISTED_ITEMS: usize = 10;

/// `text`, cut to 80 characters with `…` when longer. When it holds a hidden character (see
/// [`is_hidden`]) the whole text is escaped, so that a quoted value cannot break the message's
/// lines or reorder or hide what a person reads; the 80 characters are then counted after
/// escaping (an escape is up to 8), so that a quote stays as short whatever the text.
pub fn shorten(text: &str) -> String {
    let head = match text.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    };
    if !head.chars().any(is_hidden) {
        let mut quoted = head.to_string();
        if head.len() < text.len() {
            quoted.push('…');
        }
        return quoted;
    }
    let mut quoted = String::new();
    let mut shown = 0;
    for c in text.chars() {
        let before = quoted.len();
        push_escaped(&mut quoted, c);
        shown += quoted[before..].chars().count();
        if shown > MAX_QUOTED_CHARS {
            quoted.truncate(before);
            quoted.push('…');
            break;
        }
    }
    quoted
}

/// A character a person cannot see in a message, or that changes the text around it: control
/// characters; the invisible formatting characters (soft hyphen, Arabic letter mark,
/// Mongolian vowel separator, zero-width spaces and joiners, left-to-right and right-to-left
/// marks, word joiners and invisible operators, the byte order mark, interlinear
/// annotations); the line and paragraph separators; bidirectional embeddings, overrides and
/// isolates.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{ad}'
                | '\u{61c}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
        )
}

/// `c` escaped as Rust's `escape_debug` writes it: `\0 \t \r \n \\ \' \"`, and `\u{…}` for a
/// hidden character. (Not `escape_debug` itself: its printability tables take 3 KB of
/// policy.wasm.)
pub fn push_escaped(out: &mut String, c: char) {
    let escape = match c {
        '\0' => '0',
        '\t' => 't',
        '\r' => 'r',
        '\n' => 'n',
        '\\' | '\'' | '"' => c,
        c if is_hidden(c) => {
            push_code_point(out, c);
            return;
        }
        c => {
            out.push(c);
            return;
        }
    };
    out.push('\\');
    out.push(escape);
}

/// `\u{…}`: the code point in lowercase hexadecimal, without leading zeros.
fn push_code_point(out: &mut String, c: char) {
    let code = u32::from(c);
    let digits = (u32::BITS - code.leading_zeros()).div_ceil(4).max(1);
    out.push_str("\\u{");
    for digit in (0..digits).rev() {
        out.extend(char::from_digit((code >> (digit * 4)) & 0xf, 16));
    }
    out.push('}');
}

/// `c` escaped for a message (see [`push_escaped`]).
pub fn escaped(c: char) -> String {
    let mut out = String::new();
    push_escaped(&mut out, c);
    out
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
        assert_eq!(shorten("a'b\\c\""), "a'b\\c\"", "nothing hidden: nothing escaped");
        assert_eq!(shorten("a'b\\c\"\0\r"), "a\\'b\\\\c\\\"\\0\\r");
        assert_eq!(shorten("pay\u{200f}\u{2028}\u{feff}"), "pay\\u{200f}\\u{2028}\\u{feff}");
        assert_eq!(shorten("\u{1b}[31mé"), "\\u{1b}[31mé");
        // Escaped, a quote still has at most 80 characters, each escape whole.
        let escapes = format!("1{}", "\u{17}".repeat(200));
        assert_eq!(shorten(&escapes), format!("1{}…", "\\u{17}".repeat(13)));
        assert_eq!(shorten(&"\t".repeat(40)), "\\t".repeat(40));
        assert_eq!(list(&["a", "b"]), "a, b");
        let items: Vec<String> = (0..12).map(|i| i.to_string()).collect();
        assert_eq!(list(&items), "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, … (12 in all)");
    }
}
