//! Making text safe to show in a table: characters that do not show (control characters and
//! invisible formatting characters such as bidirectional overrides) are written as visible
//! escapes, so a stored value cannot reorder, hide or fake the text around it. Only the human
//! views escape; JSON output is the stored value exactly.

use std::borrow::Cow;

use crate::api::validate::is_invisible;

/// `text` with each invisible character escaped (`\n`, `\t`, `\r`, else `\u{202e}`).
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_invisible) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if is_invisible(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_characters_become_escapes() {
        assert!(matches!(visible("plain text, é"), Cow::Borrowed(_)));
        assert_eq!(
            visible("evil\u{202e}txt.exe"),
            "evil\\u{202e}txt.exe".to_owned()
        );
        assert_eq!(visible("a\u{200b}b\u{feff}"), "a\\u{200b}b\\u{feff}");
        assert_eq!(visible("two\nlines\tand\r"), "two\\nlines\\tand\\r");
        assert_eq!(visible("bell\u{7}"), "bell\\u{7}");
    }
}
