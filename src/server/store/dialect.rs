//! The SQL that SQLite and PostgreSQL spell differently, one named function per difference, so
//! a statement's text says what it means and the backend decides how it is written.

use super::Backend;

/// `f(haystack, needle)`: the 1-based position of `needle` in `haystack`, 0 when absent.
pub fn position(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "instr",
        Backend::Postgres => "strpos",
    }
}

/// The aggregate joining `expr` over a group with commas (NULL for no rows on both engines).
pub fn comma_list(backend: Backend, expr: &str) -> String {
    match backend {
        Backend::Sqlite => format!("group_concat({expr}, ',')"),
        Backend::Postgres => format!("string_agg({expr}, ',')"),
    }
}

/// `expr` of every row joined with commas in `order`, as one text value (NULL for no rows).
pub fn comma_list_ordered(backend: Backend, expr: &str, order: &str) -> String {
    match backend {
        Backend::Sqlite => format!("group_concat({expr}, ',' ORDER BY {order})"),
        Backend::Postgres => format!("string_agg({expr}, ',' ORDER BY {order})"),
    }
}

/// The statement that gives the planner statistics of a just-filled temporary table, where the
/// engine needs one: PostgreSQL never analyzes temporary tables by itself and otherwise plans
/// 100,000 selected devices as a few hundred (a nested loop instead of a hash join). SQLite
/// plans these statements well without.
pub fn analyze_temp(backend: Backend, name: &str) -> Option<String> {
    match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(format!("ANALYZE {}", temp_table(backend, name))),
    }
}

/// A temporary table as statements name it. SQLite keeps temporary tables in the `temp`
/// schema; PostgreSQL in the connection's own `pg_temp`. Naming the schema means a table of
/// the database with the same name can never be written by mistake.
pub fn temp_table(backend: Backend, name: &str) -> String {
    match backend {
        Backend::Sqlite => format!("temp.{name}"),
        Backend::Postgres => format!("pg_temp.{name}"),
    }
}

/// The column type of a temporary table's integer key. In SQLite only `INTEGER PRIMARY KEY`
/// makes the column the rowid (no second index); PostgreSQL needs `BIGINT` for the column to
/// read back as `i64`.
pub fn integer_key(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "INTEGER PRIMARY KEY",
        Backend::Postgres => "BIGINT PRIMARY KEY",
    }
}

/// A FROM item: the elements of the JSON array of strings bound at `param`, as rows
/// `alias.value` (the string) and `alias.key` (a number increasing with the position). A list
/// of any length enters a statement as one bound parameter.
pub fn json_strings(backend: Backend, param: &str, alias: &str) -> String {
    match backend {
        Backend::Sqlite => format!("json_each({param}) {alias}"),
        Backend::Postgres => {
            format!("jsonb_array_elements_text({param}::jsonb) WITH ORDINALITY {alias}(value, key)")
        }
    }
}

/// A FROM item: the elements of the JSON array of objects bound at `param`, as rows
/// `alias.value` (the object; read its fields with [`json_field`]) and `alias.key` (a number
/// increasing with the position).
pub fn json_objects(backend: Backend, param: &str, alias: &str) -> String {
    match backend {
        Backend::Sqlite => format!("json_each({param}) {alias}"),
        Backend::Postgres => {
            format!("jsonb_array_elements({param}::jsonb) WITH ORDINALITY {alias}(value, key)")
        }
    }
}

/// Field `field` of the JSON object `object` (from [`json_objects`]) as SQL text, or a number
/// on SQLite; NULL when the field is missing or JSON `null`. Cast numbers for PostgreSQL.
pub fn json_field(backend: Backend, object: &str, field: &str) -> String {
    match backend {
        Backend::Sqlite => format!("json_extract({object}, '$.{field}')"),
        Backend::Postgres => format!("({object} ->> '{field}')"),
    }
}

/// The integer `expr` as 8 lowercase hex digits, zero-padded: the row-number tail of IDs made
/// in SQL (see `bulk::id_base`).
pub fn hex8(backend: Backend, expr: &str) -> String {
    match backend {
        Backend::Sqlite => format!("printf('%08x', {expr})"),
        Backend::Postgres => format!("lpad(to_hex({expr}), 8, '0')"),
    }
}

/// How one value of a [`json_object`] is written.
#[derive(Clone, Copy, Debug)]
pub enum Json<'a> {
    /// A text expression: a JSON string, or `null` when NULL.
    Text(&'a str),
    /// An integer expression.
    Int(&'a str),
    /// A boolean expression: `true` or `false`.
    Bool(&'a str),
    /// A text expression that already holds JSON (written by the service, compact).
    Raw(&'a str),
    /// A timestamp, as a JSON string in the form serde gives `DateTime<Utc>`.
    Time(&'a str),
}

/// A JSON object built in SQL, as text: `fields` in order, written the way `serde_json` writes
/// the matching Rust struct (compact, keys in order, timestamps as chrono serializes them), so
/// a row built here reads the same as one serialized by the service.
///
/// SQLite has `json_object`. PostgreSQL's `json_build_object` puts spaces around `:` and `,`,
/// and `jsonb` reorders keys, so there the object is concatenated from `to_json` values.
pub fn json_object(backend: Backend, fields: &[(&str, Json<'_>)]) -> String {
    match backend {
        Backend::Sqlite => {
            let pairs: Vec<String> = fields
                .iter()
                .map(|(key, value)| {
                    let value = match *value {
                        Json::Text(e) | Json::Int(e) => e.to_owned(),
                        Json::Bool(e) => {
                            format!("json(CASE WHEN {e} THEN 'true' ELSE 'false' END)")
                        }
                        Json::Raw(e) => format!("json({e})"),
                        // sqlx stores the offset as `+00:00`, serde writes `Z`.
                        Json::Time(e) => format!("replace({e}, '+00:00', 'Z')"),
                    };
                    format!("'{key}', {value}")
                })
                .collect();
            format!("json_object({})", pairs.join(", "))
        }
        Backend::Postgres => {
            let mut text = String::from("'{'");
            for (i, (key, value)) in fields.iter().enumerate() {
                let comma = if i == 0 { "" } else { "," };
                let value = match *value {
                    // The cast types a literal (`'import'`), which to_json cannot take untyped.
                    Json::Text(e) => format!("COALESCE(to_json(({e})::text)::text, 'null')"),
                    Json::Int(e) => format!("COALESCE(({e})::text, 'null')"),
                    Json::Bool(e) => format!("CASE WHEN {e} THEN 'true' ELSE 'false' END"),
                    Json::Raw(e) => format!("COALESCE({e}, 'null')"),
                    Json::Time(e) => format!("COALESCE('\"' || {} || '\"', 'null')", rfc3339(e)),
                };
                text.push_str(&format!(" || '{comma}\"{key}\":' || {value}"));
            }
            text.push_str(" || '}'");
            text
        }
    }
}

/// PostgreSQL: the timestamptz `expr` as chrono's RFC 3339 form in UTC — `Z`, and the
/// fraction only as long as it needs to be in steps of three digits (none, milli, micro).
fn rfc3339(expr: &str) -> String {
    let utc = format!("({expr} AT TIME ZONE 'UTC')");
    format!(
        "to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE \
         WHEN to_char({utc}, 'US') = '000000' THEN '' \
         WHEN to_char({utc}, 'US') LIKE '%000' THEN '.' || to_char({utc}, 'MS') \
         ELSE '.' || to_char({utc}, 'US') END || 'Z'"
    )
}

/// The join that makes the planner look up the right table once per row of the left one.
/// SQLite keeps a `CROSS JOIN`'s order (its documented way to fix the loop order) and accepts
/// `ON` with it; PostgreSQL refuses `ON` after `CROSS JOIN` and plans the order itself.
pub fn join_in_order(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "CROSS JOIN",
        Backend::Postgres => "JOIN",
    }
}

/// The aggregate of JSON texts `item` (each already valid JSON, e.g. a [`json_object`]) into
/// one JSON array text, in `order`; `[]` for no rows. The texts are joined, not parsed again:
/// SQLite's `json_group_array(json(item))` re-parsed every object a subquery handed up (the
/// JSON subtype does not cross it): about a tenth of the service's CPU in a profile of a
/// 100,000-device listing.
/// `json_agg` on PostgreSQL adds spaces and is NULL for no rows.
pub fn json_array_agg(backend: Backend, item: &str, order: &str) -> String {
    let joined = match backend {
        Backend::Sqlite => format!("group_concat({item}, ',' ORDER BY {order})"),
        Backend::Postgres => format!("string_agg({item}, ',' ORDER BY {order})"),
    };
    format!("COALESCE('[' || {joined} || ']', '[]')")
}

/// Whole milliseconds from timestamp `earlier` to timestamp `later` as an integer, at least 0.
pub fn millis_between(backend: Backend, later: &str, earlier: &str) -> String {
    match backend {
        // julianday reads the RFC 3339 text sqlx stores, offset included.
        Backend::Sqlite => format!(
            "max(0, CAST(round((julianday({later}) - julianday({earlier})) * 86400000) AS INTEGER))"
        ),
        Backend::Postgres => {
            format!("GREATEST(0, round(EXTRACT(EPOCH FROM ({later} - {earlier})) * 1000))::BIGINT")
        }
    }
}

/// The text `expr` ordered by its bytes (code points), as Rust orders strings: SQLite's
/// default; PostgreSQL orders by the database's locale unless told `C`.
pub fn bytewise(backend: Backend, expr: &str) -> String {
    match backend {
        Backend::Sqlite => expr.to_owned(),
        Backend::Postgres => format!("{expr} COLLATE \"C\""),
    }
}
