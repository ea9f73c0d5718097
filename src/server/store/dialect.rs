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
