//! Field rules for names, identifiers, tags and descriptions. The service enforces them; the
//! client may check early to fail before a round trip. Each check returns a message for people.

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory as _};

use super::ids::has_id_shape;

pub const NAME_MAX: usize = 64;
pub const IDENTIFIER_MAX: usize = 128;
pub const DESCRIPTION_MAX: usize = 1024;
pub const TAG_KEY_MAX: usize = 64;
pub const TAG_VALUE_MAX: usize = 128;
pub const TAGS_MAX: usize = 50;
pub const TARGET_MAX: usize = 64;

/// Characters a name must not hold because they do not show: control characters (Unicode Cc)
/// and invisible formatting characters (Cf: bidirectional overrides and isolates, zero-width
/// spaces and joiners, the byte-order mark, …), which can make one name look like another.
pub fn is_invisible(c: char) -> bool {
    c.is_control() || c.general_category() == GeneralCategory::Format
}

/// `.` and `..` (any run of only dots) cannot be a URL path segment, even percent-encoded, nor a
/// file name.
fn only_dots(value: &str) -> bool {
    value.chars().all(|c| c == '.')
}

/// Product and cohort names: lowercase letters, digits, `-`, `_`, `.`; 1–64 characters.
pub fn name(kind: &str, prefix: &str, value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("{kind} name must not be empty"));
    }
    if value.chars().count() > NAME_MAX {
        return Err(format!(
            "{kind} name is {} characters long; the limit is {NAME_MAX}",
            value.chars().count()
        ));
    }
    if let Some(bad) = value
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "{kind} name `{value}` contains {bad:?}; use lowercase letters, digits, `-`, `_` and `.`"
        ));
    }
    if only_dots(value) {
        return Err(format!(
            "{kind} name `{value}` is only dots; include a letter or digit"
        ));
    }
    if has_id_shape(prefix, value) {
        return Err(format!(
            "{kind} name `{value}` has the shape of an ID; choose a name that does not start with `{prefix}_`"
        ));
    }
    Ok(())
}

pub fn product_name(value: &str) -> Result<(), String> {
    name("product", super::ProductId::PREFIX, value)
}

pub fn cohort_name(value: &str) -> Result<(), String> {
    name("cohort", super::CohortId::PREFIX, value)
}

/// Device identifiers (serial numbers): ASCII letters, digits, `-`, `_`, `.`, `:`; 1–128
/// characters; not only dots.
pub fn device_identifier(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("device identifier must not be empty".into());
    }
    if value.len() > IDENTIFIER_MAX {
        return Err(format!(
            "device identifier is {} characters long; the limit is {IDENTIFIER_MAX}",
            value.len()
        ));
    }
    if let Some(bad) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
    {
        return Err(format!(
            "device identifier `{value}` contains {bad:?}; use letters, digits, `-`, `_`, `.` and `:`"
        ));
    }
    if only_dots(value) {
        return Err(format!(
            "device identifier `{value}` is only dots; include a letter or digit"
        ));
    }
    if has_id_shape(super::DeviceId::PREFIX, value) {
        return Err(format!(
            "device identifier `{value}` has the shape of a device ID; it must not start with `dev_`"
        ));
    }
    Ok(())
}

pub fn description(value: &str) -> Result<(), String> {
    let len = value.chars().count();
    if len > DESCRIPTION_MAX {
        return Err(format!(
            "description is {len} characters long; the limit is {DESCRIPTION_MAX}"
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err("description must not contain control characters".into());
    }
    Ok(())
}

/// API key names: 1–64 characters of any kind that shows, no surrounding blanks.
pub fn api_key_name(name: &str) -> Result<(), String> {
    let chars = name.chars().count();
    if chars == 0 || chars > NAME_MAX {
        return Err(format!("must be 1–{NAME_MAX} characters"));
    }
    if let Some(bad) = name.chars().find(|c| is_invisible(*c)) {
        return Err(format!(
            "contains {bad:?}, which does not show; control and invisible formatting characters \
             (bidirectional overrides, zero-width spaces, …) are not allowed"
        ));
    }
    if name.trim() != name {
        return Err("must not start or end with spaces".into());
    }
    Ok(())
}

/// Hardware target triple, e.g. `aarch64-unknown-linux-gnu`: ASCII letters, digits, `-`, `_`,
/// `.`; not only dots (as for names: such a value is no usable path segment or file name).
pub fn target(value: &str) -> Result<(), String> {
    if value.is_empty() || value.len() > TARGET_MAX {
        return Err(format!("target must be 1–{TARGET_MAX} characters"));
    }
    if let Some(bad) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "target `{value}` contains {bad:?}; use letters, digits, `-`, `_` and `.`"
        ));
    }
    if only_dots(value) {
        return Err(format!(
            "target `{value}` is only dots; include a letter or digit"
        ));
    }
    Ok(())
}

fn tag_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')
}

fn tag_value_char(c: char) -> bool {
    tag_key_char(c) || matches!(c, ':' | '@' | '+' | '=')
}

/// One `key:value` tag. The character set never needs JSON escaping, which the service's tag
/// filter relies on.
pub fn tag(value: &str) -> Result<(), String> {
    let Some((key, val)) = value.split_once(':') else {
        return Err(format!("tag `{value}` must have the form `key:value`"));
    };
    if key.is_empty() || key.len() > TAG_KEY_MAX || !key.chars().all(tag_key_char) {
        return Err(format!(
            "tag `{value}`: the key must be 1–{TAG_KEY_MAX} letters, digits, `-`, `_`, `.` or `/`"
        ));
    }
    if val.is_empty() || val.len() > TAG_VALUE_MAX || !val.chars().all(tag_value_char) {
        return Err(format!(
            "tag `{value}`: the value must be 1–{TAG_VALUE_MAX} letters, digits or `-_./:@+=`"
        ));
    }
    Ok(())
}

/// [`tag`] as a JSON-Schema pattern, for the OpenAPI document.
pub const TAG_PATTERN: &str = "^[A-Za-z0-9._/-]{1,64}:[A-Za-z0-9._/:@+=-]{1,128}$";

/// The OpenAPI schema of one tag (the wire type is a plain string).
#[cfg(feature = "server")]
pub struct Tag;

#[cfg(feature = "server")]
impl utoipa::PartialSchema for Tag {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(format!(
                "`key:value`: a key of 1–{TAG_KEY_MAX} letters, digits, `-`, `_`, `.` or `/`, \
                 then a value of 1–{TAG_VALUE_MAX} letters, digits or `-_./:@+=`"
            )))
            .pattern(Some(TAG_PATTERN))
            .into()
    }
}

#[cfg(feature = "server")]
impl utoipa::ToSchema for Tag {}

pub fn tags(values: &[String]) -> Result<(), String> {
    if values.len() > TAGS_MAX {
        return Err(format!(
            "{} tags given; the limit is {TAGS_MAX}",
            values.len()
        ));
    }
    values.iter().try_for_each(|t| tag(t))
}

/// Tags in their stored form: sorted, without duplicates.
pub fn normalize_tags(mut values: Vec<String>) -> Vec<String> {
    values.sort();
    values.dedup();
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_names() {
        assert!(product_name("indoor-sensor").is_ok());
        assert!(product_name("gw_v2.1").is_ok());
        assert!(product_name("").is_err());
        assert!(product_name(&"a".repeat(65)).is_err());
        assert!(product_name(&"a".repeat(64)).is_ok());
        assert!(product_name("Indoor").is_err());
        assert!(product_name("has space").is_err());
        assert!(product_name(".").is_err());
        assert!(product_name("..").is_err());
        assert!(product_name("v1.0").is_ok());
        assert!(product_name(&format!("prd_{}", "0".repeat(32))).is_err());
    }

    #[test]
    fn tags_need_key_and_value() {
        assert!(tag("site:berlin").is_ok());
        assert!(tag("url:a/b:c").is_ok());
        assert!(tag("site").is_err());
        assert!(tag(":berlin").is_err());
        assert!(tag("site:").is_err());
        assert!(tag("site:ber\"lin").is_err());
        assert!(tag("si%te:x").is_err());
        let longest = format!("{}:{}", "k".repeat(TAG_KEY_MAX), "v".repeat(TAG_VALUE_MAX));
        assert!(tag(&longest).is_ok());
        assert!(TAG_PATTERN.contains(&format!("{{1,{TAG_KEY_MAX}}}:")));
        assert!(TAG_PATTERN.ends_with(&format!("{{1,{TAG_VALUE_MAX}}}$")));
    }

    #[test]
    fn identifiers() {
        assert!(device_identifier("sn-0042").is_ok());
        assert!(device_identifier("SN:00:42").is_ok());
        assert!(device_identifier("sn 42").is_err());
        assert!(device_identifier(&format!("dev_{}", "a".repeat(32))).is_err());
        assert!(device_identifier(".").is_err());
        assert!(device_identifier("..").is_err());
        assert!(device_identifier("...").is_err());
        assert!(device_identifier(".hidden").is_ok());
    }

    #[test]
    fn targets_are_not_only_dots() {
        assert!(target("aarch64-unknown-linux-gnu").is_ok());
        assert!(target("v1.0").is_ok());
        assert!(target(".").is_err());
        assert!(target("..").is_err());
    }

    #[test]
    fn invisible_characters() {
        for c in [
            '\u{202a}',
            '\u{202e}',
            '\u{2066}',
            '\u{2069}',
            '\u{200b}',
            '\u{200f}',
            '\u{feff}',
            '\u{2060}',
            '\u{2064}',
            '\u{ad}',
            '\u{e0001}',
            '\0',
            '\n',
            '\u{7f}',
            '\u{9f}',
        ] {
            assert!(is_invisible(c), "{c:?}");
        }
        for c in ['a', ' ', 'é', '\u{a0}', '\u{2028}', '\u{1f600}'] {
            assert!(!is_invisible(c), "{c:?}");
        }
    }
}
