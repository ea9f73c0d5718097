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

/// `f(column)`: the values of a group joined with commas, NULL for no rows.
pub fn comma_list(backend: Backend, column: &str) -> String {
    match backend {
        Backend::Sqlite => format!("group_concat({column})"),
        Backend::Postgres => format!("string_agg({column}, ',')"),
    }
}
