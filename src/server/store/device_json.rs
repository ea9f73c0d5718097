//! A PostgreSQL device list row written as the JSON text `api::Device` serializes to, read by
//! column position with its text borrowed from the row: the list's hot path, which through
//! `sqlx::FromRow` and serde spent most of its time looking columns up by name, allocating a
//! `String` per column and formatting timestamps through `core::fmt`.

use chrono::{DateTime, Datelike as _, Timelike as _, Utc};
use sqlx::Row as _;
use sqlx::postgres::PgRow;

use super::{corrupt_id, tags_from_text};
use crate::api::ids::has_id_shape;
use crate::api::{CohortId, DeviceId, ProductId};

/// Appends the device of `row` (`id, identifier, product_id, product, cohort_id, cohort,
/// description, tags, target, quarantined, needs_provisioning, created_at, updated_at,
/// revision`, in that order) to `out`, with the checks `Row::into_api` makes (ID shapes, the
/// tag list). Returns where the device's ID text sits in `out`.
pub(super) fn write(out: &mut Vec<u8>, row: &PgRow) -> sqlx::Result<std::ops::Range<usize>> {
    let id: &str = row.try_get(0)?;
    let product_id: &str = row.try_get(2)?;
    let cohort_id: Option<&str> = row.try_get(4)?;
    check_id(DeviceId::PREFIX, id)?;
    check_id(ProductId::PREFIX, product_id)?;
    if let Some(cohort_id) = cohort_id {
        check_id(CohortId::PREFIX, cohort_id)?;
    }
    // A checked ID has nothing to escape: its text follows the quote as it is.
    out.extend_from_slice(b"{\"id\":\"");
    let id_at = out.len()..out.len() + id.len();
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(b"\",\"identifier\":");
    write_str(out, row.try_get(1)?)?;
    out.extend_from_slice(b",\"product_id\":");
    write_str(out, product_id)?;
    out.extend_from_slice(b",\"product\":");
    write_str(out, row.try_get(3)?)?;
    out.extend_from_slice(b",\"cohort_id\":");
    write_opt_str(out, cohort_id)?;
    out.extend_from_slice(b",\"cohort\":");
    write_opt_str(out, row.try_get(5)?)?;
    out.extend_from_slice(b",\"description\":");
    write_str(out, row.try_get(6)?)?;
    out.extend_from_slice(b",\"tags\":");
    write_tags(out, row.try_get(7)?)?;
    out.extend_from_slice(b",\"target\":");
    write_opt_str(out, row.try_get(8)?)?;
    out.extend_from_slice(b",\"quarantined\":");
    write_bool(out, row.try_get(9)?);
    out.extend_from_slice(b",\"needs_provisioning\":");
    write_bool(out, row.try_get(10)?);
    out.extend_from_slice(b",\"created_at\":");
    write_time(out, row.try_get(11)?)?;
    out.extend_from_slice(b",\"updated_at\":");
    write_time(out, row.try_get(12)?)?;
    out.extend_from_slice(b",\"revision\":");
    let revision: i64 = row.try_get(13)?;
    serde_json::to_writer(&mut *out, &revision).map_err(json_error)?;
    out.push(b'}');
    Ok(id_at)
}

fn check_id(prefix: &str, id: &str) -> sqlx::Result<()> {
    if has_id_shape(prefix, id) {
        Ok(())
    } else {
        Err(corrupt_id(id))
    }
}

fn json_error(err: serde_json::Error) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(err))
}

/// A JSON string, escaped as serde writes it.
fn write_str(out: &mut Vec<u8>, text: &str) -> sqlx::Result<()> {
    serde_json::to_writer(&mut *out, text).map_err(json_error)
}

fn write_opt_str(out: &mut Vec<u8>, text: Option<&str>) -> sqlx::Result<()> {
    match text {
        Some(text) => write_str(out, text),
        None => {
            out.extend_from_slice(b"null");
            Ok(())
        }
    }
}

fn write_bool(out: &mut Vec<u8>, value: bool) {
    out.extend_from_slice(if value { b"true" } else { b"false" });
}

/// The stored tag list, read as `tags_from_text` reads it and written as serde writes a
/// `Vec<String>`: borrowed from the row unless a tag holds an escape.
fn write_tags(out: &mut Vec<u8>, text: &str) -> sqlx::Result<()> {
    match serde_json::from_str::<Vec<&str>>(text) {
        Ok(tags) => serde_json::to_writer(&mut *out, &tags).map_err(json_error),
        Err(_) => serde_json::to_writer(&mut *out, &tags_from_text(text)?).map_err(json_error),
    }
}

/// A timestamp as chrono's `Serialize` writes it (RFC 3339, `Z`, and the fraction in 0, 3, 6
/// or 9 digits, the fewest that hold it), without `core::fmt`. Years outside 0–9999 and leap
/// seconds, which chrono writes differently, go through chrono itself.
fn write_time(out: &mut Vec<u8>, time: DateTime<Utc>) -> sqlx::Result<()> {
    let naive = time.naive_utc();
    let year = naive.year();
    let nano = naive.nanosecond();
    let Ok(year @ 0..=9999) = u32::try_from(year) else {
        return serde_json::to_writer(&mut *out, &time).map_err(json_error);
    };
    if nano >= 1_000_000_000 {
        return serde_json::to_writer(&mut *out, &time).map_err(json_error);
    }
    out.push(b'"');
    push_digits(out, year, 4);
    out.push(b'-');
    push_digits(out, naive.month(), 2);
    out.push(b'-');
    push_digits(out, naive.day(), 2);
    out.push(b'T');
    push_digits(out, naive.hour(), 2);
    out.push(b':');
    push_digits(out, naive.minute(), 2);
    out.push(b':');
    push_digits(out, naive.second(), 2);
    if nano != 0 {
        out.push(b'.');
        if nano % 1_000_000 == 0 {
            push_digits(out, nano / 1_000_000, 3);
        } else if nano % 1_000 == 0 {
            push_digits(out, nano / 1_000, 6);
        } else {
            push_digits(out, nano, 9);
        }
    }
    out.extend_from_slice(b"Z\"");
    Ok(())
}

/// `value` in exactly `width` decimal digits (zero-padded; `value` fits).
fn push_digits(out: &mut Vec<u8>, mut value: u32, width: usize) {
    let start = out.len();
    out.resize(start + width, b'0');
    for slot in out[start..].iter_mut().rev() {
        // A digit: `value % 10` is below 10.
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn times_are_written_as_chrono_serializes_them() {
        let mut times = vec![
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                .single()
                .expect("valid"),
            Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0)
                .single()
                .expect("valid"),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
                .single()
                .expect("valid"),
            Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0)
                .single()
                .expect("valid"),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0)
                .single()
                .expect("valid"),
            Utc.with_ymd_and_hms(-1, 6, 15, 12, 30, 45)
                .single()
                .expect("valid"),
        ];
        let base = Utc
            .with_ymd_and_hms(2026, 12, 2, 18, 21, 34)
            .single()
            .expect("valid");
        for nano in [
            1,
            9,
            10,
            999,
            1_000,
            1_001,
            120_000,
            123_456,
            999_999,
            1_000_000,
            5_000_000,
            100_000_000,
            123_000_000,
            123_456_000,
            123_456_789,
            999_999_999,
        ] {
            times.push(base + chrono::Duration::nanoseconds(nano));
        }
        // A leap second: chrono writes it as second 60.
        times.push(
            chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
                .expect("valid")
                .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
                .expect("valid")
                .and_utc(),
        );
        // A spread of ordinary times, a prime number of seconds and nanoseconds apart.
        let mut t = Utc
            .with_ymd_and_hms(1999, 3, 4, 5, 6, 7)
            .single()
            .expect("valid");
        for _ in 0..2000 {
            times.push(t);
            t += chrono::Duration::seconds(1_234_567) + chrono::Duration::nanoseconds(7_654_321);
        }
        for time in times {
            let mut out = Vec::new();
            write_time(&mut out, time).expect("written");
            assert_eq!(
                String::from_utf8(out).expect("UTF-8"),
                serde_json::to_string(&time).expect("serialized"),
                "{time:?}"
            );
        }
    }

    #[test]
    fn tags_are_written_as_a_decoded_list_would_be() {
        for text in [
            r#"[]"#,
            r#"["site:berlin"]"#,
            r#"[ "a:b" , "c:d" ]"#,
            r#"["line:consumer","site:berlin"]"#,
            r#"["esc\u0061ped:x","quote\"d:y"]"#,
        ] {
            let mut out = Vec::new();
            write_tags(&mut out, text).expect("written");
            let decoded = tags_from_text(text).expect("a tag list");
            assert_eq!(
                out,
                serde_json::to_vec(&decoded).expect("serialized"),
                "{text}"
            );
        }
        assert!(write_tags(&mut Vec::new(), "not a list").is_err());
    }
}
