//! Words that follow a count, so messages read "1 device … it" and "3 devices … them": the
//! one place the CLI's messages get their plurals from.

/// `count` and the noun for it: `count_of(1, "device", "devices")` is "1 device".
pub fn count_of(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// "1 device", "3 devices".
pub fn devices(count: u64) -> String {
    count_of(count, "device", "devices")
}

/// The pronoun for `count` things: "it" or "them".
pub fn it_or_them(count: u64) -> &'static str {
    if count == 1 { "it" } else { "them" }
}

/// "it" or "they", as a subject.
pub fn it_or_they(count: u64) -> &'static str {
    if count == 1 { "it" } else { "they" }
}

/// "was" or "were".
pub fn was_or_were(count: u64) -> &'static str {
    if count == 1 { "was" } else { "were" }
}

/// "is" or "are".
pub fn is_or_are(count: u64) -> &'static str {
    if count == 1 { "is" } else { "are" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(devices(1), "1 device");
        assert_eq!(devices(0), "0 devices");
        assert_eq!(devices(3), "3 devices");
        assert_eq!(count_of(1, "binary", "binaries"), "1 binary");
        assert_eq!(count_of(2, "binary", "binaries"), "2 binaries");
        assert_eq!((it_or_them(1), it_or_them(2)), ("it", "them"));
        assert_eq!((it_or_they(1), it_or_they(2)), ("it", "they"));
        assert_eq!((was_or_were(1), was_or_were(2)), ("was", "were"));
        assert_eq!((is_or_are(1), is_or_are(2)), ("is", "are"));
    }
}
