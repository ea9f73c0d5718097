//! Whole numbers in request bodies, from any JSON number form.
//!
//! JSON Schema's `integer` is any number with a zero fractional part, so `40.0` and `1e2` are
//! integers by the OpenAPI document; serde's integer types refuse them. Fields the document
//! declares as integers deserialize through here so the service takes what the document allows.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

/// A required whole-number field (`#[serde(deserialize_with = "whole::required")]`).
pub fn required<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64>,
{
    convert::<D, T>(serde_json::Number::deserialize(deserializer)?)
}

/// An optional whole-number field; `null` is absent (`#[serde(default, deserialize_with =
/// "whole::optional")]`).
pub fn optional<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64>,
{
    Option::<serde_json::Number>::deserialize(deserializer)?
        .map(convert::<D, T>)
        .transpose()
}

fn convert<'de, D, T>(number: serde_json::Number) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64>,
{
    // 2^64 exactly: floats below it fit a u64 (`as` would saturate larger ones silently).
    let float_limit = u64::MAX as f64;
    let whole = number.as_u64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && (0.0..float_limit).contains(f))
            .map(|f| f as u64)
    });
    whole
        .and_then(|w| T::try_from(w).ok())
        .ok_or_else(|| D::Error::custom(format!("`{number}` is not a whole number in range")))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Body {
        #[serde(deserialize_with = "super::required")]
        size: u64,
        #[serde(default, deserialize_with = "super::optional")]
        percent: Option<u8>,
    }

    fn parse(json: &str) -> Option<(u64, Option<u8>)> {
        serde_json::from_str::<Body>(json)
            .ok()
            .map(|b| (b.size, b.percent))
    }

    #[test]
    fn whole_numbers_of_any_form_are_taken() {
        assert_eq!(parse(r#"{"size": 7}"#), Some((7, None)));
        assert_eq!(
            parse(r#"{"size": 7.0, "percent": 40.0}"#),
            Some((7, Some(40)))
        );
        assert_eq!(
            parse(r#"{"size": 1e2, "percent": 1e2}"#),
            Some((100, Some(100)))
        );
        assert_eq!(parse(r#"{"size": -0.0, "percent": null}"#), Some((0, None)));
        assert_eq!(
            parse(r#"{"size": 6892937248.0}"#),
            Some((6_892_937_248, None))
        );
    }

    #[test]
    fn fractions_negatives_overflow_and_strings_are_refused() {
        assert_eq!(parse(r#"{"size": 7.5}"#), None);
        assert_eq!(parse(r#"{"size": -1}"#), None);
        assert_eq!(parse(r#"{"size": 1e30}"#), None);
        assert_eq!(parse(r#"{"size": 1, "percent": 256}"#), None);
        assert_eq!(parse(r#"{"size": 1, "percent": 40.5}"#), None);
        assert_eq!(parse(r#"{"size": "7"}"#), None);
    }
}
