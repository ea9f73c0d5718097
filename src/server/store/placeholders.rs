//! Anonymous placeholders for SQLite's big statements. SQLite finds a named placeholder
//! (`$n`) by a linear scan of the statement's names, once while it parses the statement and
//! again when sqlx binds each argument, so a statement with hundreds of them (the check-in
//! writer's multi-row upserts, bulk statements) costs quadratically; anonymous `?`
//! placeholders are numbered as they come and cost nothing. The store writes `$n` (PostgreSQL
//! needs it); a SQLite statement whose placeholders are `$1, $2, …` in order, each once, runs
//! with `?` in their place.

use std::borrow::Cow;

/// Below this many arguments the names cost too little to be worth a pass over the text.
const WORTH_IT: usize = 16;

/// `sql` as SQLite should run it with `args` arguments.
pub fn for_sqlite(sql: &str, args: usize) -> Cow<'_, str> {
    if args < WORTH_IT {
        return Cow::Borrowed(sql);
    }
    match anonymous(sql, args) {
        Some(text) => Cow::Owned(text),
        None => Cow::Borrowed(sql),
    }
}

/// `sql` with `$1…$args` replaced by `?`, when they appear exactly in that order, each once,
/// outside quotes and comments; else `None`.
fn anonymous(sql: &str, args: usize) -> Option<String> {
    let bytes = sql.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut seen = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        let skip_to = match byte {
            b'\'' | b'"' => closing_quote(bytes, i),
            b'-' if bytes.get(i + 1) == Some(&b'-') => line_end(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'*') => comment_end(bytes, i),
            b'$' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let digits = bytes[i + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                let number: usize = sql[i + 1..i + 1 + digits].parse().ok()?;
                if number != seen + 1 {
                    return None;
                }
                seen = number;
                out.push(b'?');
                i += 1 + digits;
                continue;
            }
            _ => i + 1,
        };
        out.extend_from_slice(&bytes[i..skip_to]);
        i = skip_to;
    }
    if seen != args {
        return None;
    }
    // Only ASCII placeholders were replaced by an ASCII byte: the text is still UTF-8.
    String::from_utf8(out).ok()
}

/// The index after the quote that closes the one at `start` (a doubled quote is part of the
/// text), or the end.
fn closing_quote(bytes: &[u8], start: usize) -> usize {
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

fn line_end(bytes: &[u8], start: usize) -> usize {
    bytes[start..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |at| start + at + 1)
}

fn comment_end(bytes: &[u8], start: usize) -> usize {
    bytes[start + 2..]
        .windows(2)
        .position(|w| w == b"*/")
        .map_or(bytes.len(), |at| start + 2 + at + 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn many(n: usize) -> String {
        let list: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
        format!("INSERT INTO t VALUES ({})", list.join(", "))
    }

    #[test]
    fn placeholders_in_order_become_anonymous() {
        let sql = many(20);
        let expected = format!("INSERT INTO t VALUES ({})", vec!["?"; 20].join(", "));
        assert_eq!(for_sqlite(&sql, 20), expected);
    }

    #[test]
    fn small_statements_are_left_alone() {
        let sql = many(3);
        assert!(matches!(for_sqlite(&sql, 3), Cow::Borrowed(_)));
    }

    #[test]
    fn a_repeated_or_reordered_placeholder_keeps_the_names() {
        let repeated = format!("{} WHERE a = $1", many(20));
        assert_eq!(for_sqlite(&repeated, 20), repeated);
        let reordered = many(20)
            .replacen("$1,", "$2,", 1)
            .replacen(" $2,", " $1,", 1);
        assert_eq!(for_sqlite(&reordered, 20), reordered);
    }

    #[test]
    fn a_count_that_differs_from_the_arguments_keeps_the_names() {
        let sql = many(20);
        assert_eq!(for_sqlite(&sql, 21), sql);
    }

    #[test]
    fn quotes_and_comments_are_not_placeholders() {
        let sql = format!(
            "{} -- $9 in a comment\n /* $7 */ ON CONFLICT DO UPDATE SET j = json_extract(x, '$1.a''$2') \"$3\"",
            many(20)
        );
        let text = for_sqlite(&sql, 20);
        assert!(text.contains("'$1.a''$2'"), "{text}");
        assert!(text.contains("\"$3\""), "{text}");
        assert!(text.contains("-- $9 in a comment"), "{text}");
        assert!(text.contains("/* $7 */"), "{text}");
        assert!(text.starts_with("INSERT INTO t VALUES (?, ?"), "{text}");
    }
}
