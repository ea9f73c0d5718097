//! Copying a whole database to another one of either backend, table by table, for
//! `fleet server migrate`: which tables and columns there are (read from each database's own
//! catalog), the order their foreign keys allow, rows streamed in batches, and a digest of each
//! table's content to prove the copy equal to its source.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context as _, bail};
use chrono::{DateTime, SubsecRound as _, Utc};
use futures_util::TryStreamExt as _;
use sha2::{Digest as _, Sha256};

use super::conn::{Backend, Conn, Raw};
use super::sql::{Arg, query};

/// The bookkeeping table of the migrations: each database keeps its own.
const MIGRATIONS_TABLE: &str = "_sqlx_migrations";
/// Tables that summarize others (migrations 0013 and 0017), kept by triggers as their rows
/// are written: the copy leaves them to the target's triggers, which count the rows it copies
/// (copying them too would count every row twice).
const SUMMARY_TABLES: [&str; 5] = [
    "device_counts",
    "release_states",
    "release_success_times",
    "seen_hours",
    "version_counts",
];
/// Rows per INSERT at most.
const BATCH_ROWS: usize = 500;
/// Bound values per INSERT at most (SQLite allows 32766, PostgreSQL 65535).
const BATCH_VALUES: usize = 30_000;

/// How a column's values are read and written: the same value on both backends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    Integer,
    Boolean,
    /// `TIMESTAMPTZ` on PostgreSQL, RFC 3339 text on SQLite.
    Timestamp,
    Bytes,
}

#[derive(Clone, Debug)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
}

/// A table to copy, with its columns in the target's order.
#[derive(Clone, Debug)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
}

/// What a table holds, independent of row order and backend: its row count and an
/// order-free sum of per-row hashes over every value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Content {
    pub rows: u64,
    sum: u128,
}

impl Content {
    fn add(&mut self, row: &[Arg<'_>]) {
        let mut hasher = Sha256::new();
        for value in row {
            hash_value(&mut hasher, value);
        }
        let digest = hasher.finalize();
        let mut head = [0u8; 16];
        head.copy_from_slice(&digest[..16]);
        self.rows += 1;
        self.sum = self.sum.wrapping_add(u128::from_be_bytes(head));
    }
}

/// Feeds one value to `hasher` in a form that is the same whichever backend it came from.
fn hash_value(hasher: &mut Sha256, value: &Arg<'_>) {
    let (tag, bytes): (u8, Cow<'_, [u8]>) = match value {
        Arg::Str(Some(text)) => (1, Cow::Borrowed(text.as_bytes())),
        Arg::I64(Some(n)) => (2, Cow::Owned(n.to_be_bytes().to_vec())),
        Arg::Bool(Some(b)) => (3, Cow::Owned(vec![u8::from(*b)])),
        Arg::Time(Some(at)) => (4, Cow::Owned(at.timestamp_micros().to_be_bytes().to_vec())),
        Arg::Bytes(Some(bytes)) => (5, Cow::Borrowed(bytes.as_ref())),
        Arg::Str(None) | Arg::I64(None) | Arg::Bool(None) | Arg::Time(None) | Arg::Bytes(None) => {
            (0, Cow::Borrowed(&[][..]))
        }
    };
    hasher.update([tag]);
    hasher.update((bytes.len() as u64).to_be_bytes());
    hasher.update(&bytes);
}

#[derive(sqlx::FromRow)]
struct Name {
    name: String,
}

#[derive(sqlx::FromRow)]
struct ColumnRow {
    name: String,
    type_name: String,
}

#[derive(sqlx::FromRow)]
struct Edge {
    child: String,
    parent: String,
}

/// References PostgreSQL checks with a statement trigger rather than a foreign key (migration
/// 0021: one check per statement, not per row), so its catalog does not list them; the copy
/// must still put the parents first.
const CHECKED_BY_TRIGGER: &[(&str, &str)] = &[("devices", "products"), ("devices", "cohorts")];

#[derive(sqlx::FromRow)]
struct Count {
    n: i64,
}

/// The tables both databases hold, parents before children, with each column's kind. Fails
/// when the two schemas differ (then one side is another version of fleet).
pub async fn plan(source: &mut Conn, target: &mut Conn) -> anyhow::Result<Vec<Table>> {
    let source_tables = table_names(source).await?;
    let target_tables = table_names(target).await?;
    if source_tables != target_tables {
        let only = |a: &BTreeSet<String>, b: &BTreeSet<String>| {
            a.difference(b).cloned().collect::<Vec<_>>().join(", ")
        };
        bail!(
            "the two databases have different tables (only in the source: [{}]; only in the \
             target: [{}]); they were made by different versions of fleet",
            only(&source_tables, &target_tables),
            only(&target_tables, &source_tables)
        );
    }
    let mut tables = BTreeMap::new();
    for name in &target_tables {
        let source_columns = columns(source, name).await?;
        let target_columns = columns(target, name).await?;
        let source_names: BTreeSet<_> = source_columns.iter().map(|c| &c.name).collect();
        let target_names: BTreeSet<_> = target_columns.iter().map(|c| &c.name).collect();
        if source_names != target_names {
            bail!("table `{name}` has different columns in the two databases");
        }
        // A timestamp is text in SQLite: when either side is PostgreSQL, its column types
        // say which text is a time.
        let (typed_side, from_postgres) = if target.backend() == Backend::Postgres {
            (target_columns, true)
        } else {
            (source_columns, source.backend() == Backend::Postgres)
        };
        let columns = typed_side
            .into_iter()
            .map(|c| {
                let kind = if from_postgres {
                    kind_from_postgres(&c.type_name)
                } else {
                    kind_from_sqlite(&c.type_name)
                }
                .with_context(|| {
                    format!(
                        "column `{name}.{}` has type `{}`, which the copy does not know",
                        c.name, c.type_name
                    )
                })?;
                Ok(Column { name: c.name, kind })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        tables.insert(
            name.clone(),
            Table {
                name: name.clone(),
                columns,
            },
        );
    }
    let mut edges = foreign_keys(target).await?;
    edges.extend(CHECKED_BY_TRIGGER.iter().map(|(child, parent)| Edge {
        child: (*child).to_owned(),
        parent: (*parent).to_owned(),
    }));
    let order = dependency_order(&target_tables, &edges)?;
    Ok(order
        .into_iter()
        .filter(|name| !SUMMARY_TABLES.contains(&name.as_str()))
        .filter_map(|name| tables.remove(&name))
        .collect())
}

fn kind_from_postgres(type_name: &str) -> Option<Kind> {
    Some(match type_name {
        "text" | "character varying" => Kind::Text,
        "bigint" => Kind::Integer,
        "boolean" => Kind::Boolean,
        "timestamp with time zone" => Kind::Timestamp,
        "bytea" => Kind::Bytes,
        _ => return None,
    })
}

/// SQLite's declared types, as its type affinity rules read them.
fn kind_from_sqlite(type_name: &str) -> Option<Kind> {
    let upper = type_name.to_ascii_uppercase();
    Some(if upper.contains("INT") {
        Kind::Integer
    } else if upper.contains("BOOL") {
        Kind::Boolean
    } else if upper.contains("BLOB") {
        Kind::Bytes
    } else if upper.contains("TEXT") || upper.contains("CHAR") {
        Kind::Text
    } else {
        return None;
    })
}

async fn table_names(conn: &mut Conn) -> sqlx::Result<BTreeSet<String>> {
    let sql = match conn.backend() {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        }
        Backend::Postgres => {
            "SELECT table_name::text AS name FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        }
    };
    let names: Vec<Name> = query(sql).fetch_all(conn).await?;
    Ok(names
        .into_iter()
        .map(|n| n.name)
        .filter(|name| name != MIGRATIONS_TABLE)
        .collect())
}

async fn columns(conn: &mut Conn, table: &str) -> sqlx::Result<Vec<ColumnRow>> {
    let sql = match conn.backend() {
        Backend::Sqlite => "SELECT name, type AS type_name FROM pragma_table_info($1) ORDER BY cid",
        Backend::Postgres => {
            "SELECT column_name::text AS name, data_type::text AS type_name \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position"
        }
    };
    query(sql).bind(table).fetch_all(conn).await
}

async fn foreign_keys(conn: &mut Conn) -> sqlx::Result<Vec<Edge>> {
    match conn.backend() {
        Backend::Sqlite => {
            query(
                "SELECT t.name AS child, f.\"table\" AS parent \
                 FROM sqlite_master t, pragma_foreign_key_list(t.name) f \
                 WHERE t.type = 'table'",
            )
            .fetch_all(conn)
            .await
        }
        Backend::Postgres => {
            query(
                "SELECT c.relname::text AS child, p.relname::text AS parent \
                 FROM pg_constraint k \
                 JOIN pg_class c ON c.oid = k.conrelid \
                 JOIN pg_class p ON p.oid = k.confrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE k.contype = 'f' AND n.nspname = current_schema()",
            )
            .fetch_all(conn)
            .await
        }
    }
}

/// `tables` ordered so every table comes after the tables its foreign keys point at (and
/// alphabetically where the keys leave a choice, so every run copies in the same order).
fn dependency_order(tables: &BTreeSet<String>, edges: &[Edge]) -> anyhow::Result<Vec<String>> {
    let mut parents: BTreeMap<&str, BTreeSet<&str>> = tables
        .iter()
        .map(|t| (t.as_str(), BTreeSet::new()))
        .collect();
    for edge in edges {
        if edge.child != edge.parent && tables.contains(&edge.parent) {
            if let Some(set) = parents.get_mut(edge.child.as_str()) {
                set.insert(edge.parent.as_str());
            }
        }
    }
    let mut order: Vec<String> = Vec::with_capacity(tables.len());
    while !parents.is_empty() {
        let ready: Vec<&str> = parents
            .iter()
            .filter(|(_, p)| p.is_empty())
            .map(|(t, _)| *t)
            .collect();
        if ready.is_empty() {
            bail!(
                "the foreign keys between [{}] form a cycle; there is no order to copy them in",
                parents.keys().copied().collect::<Vec<_>>().join(", ")
            );
        }
        for table in ready {
            parents.remove(table);
            for set in parents.values_mut() {
                set.remove(table);
            }
            order.push(table.to_owned());
        }
    }
    Ok(order)
}

/// `"name"`: identifiers from the catalog, quoted so any name stays one identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub async fn row_count(conn: &mut Conn, table: &str) -> sqlx::Result<u64> {
    let count: Count = query(format!("SELECT COUNT(*) AS n FROM {}", quoted(table)))
        .fetch_one(conn)
        .await?;
    Ok(u64::try_from(count.n).unwrap_or(0))
}

/// Deletes every row of `tables` (given parents first), children first.
pub async fn clear(conn: &mut Conn, tables: &[Table]) -> sqlx::Result<()> {
    for table in tables.iter().rev() {
        query(format!("DELETE FROM {}", quoted(&table.name)))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Copies every row of `table` from `source` into `target`, a batch of rows per INSERT, and
/// returns the content it read.
pub async fn copy_table(
    source: &mut Conn,
    target: &mut Conn,
    table: &Table,
) -> anyhow::Result<Content> {
    let per_batch = (BATCH_VALUES / table.columns.len().max(1)).clamp(1, BATCH_ROWS);
    let mut content = Content::default();
    let mut batch: Vec<Vec<Arg<'static>>> = Vec::with_capacity(per_batch);
    let select = select_all(table);
    let failed_read = || format!("could not read table `{}` of the source", table.name);
    macro_rules! each_row {
        ($rows:expr, $decode:ident) => {{
            let mut rows = $rows;
            while let Some(row) = rows.try_next().await.with_context(failed_read)? {
                let values = $decode(&row, &table.columns).with_context(failed_read)?;
                content.add(&values);
                batch.push(values);
                if batch.len() == per_batch {
                    insert(target, table, std::mem::take(&mut batch)).await?;
                }
            }
        }};
    }
    match source.raw() {
        Raw::Sqlite(conn) => each_row!(sqlx::query(&select).fetch(conn), row_values),
        Raw::Postgres(conn) => each_row!(sqlx::query(&select).fetch(conn), row_values),
    }
    if !batch.is_empty() {
        insert(target, table, batch).await?;
    }
    Ok(content)
}

/// Reads the content of `table` back, as [`copy_table`] read its source.
pub async fn content(conn: &mut Conn, table: &Table) -> anyhow::Result<Content> {
    let mut content = Content::default();
    let select = select_all(table);
    let failed = || format!("could not read table `{}` back", table.name);
    match conn.raw() {
        Raw::Sqlite(conn) => {
            let mut rows = sqlx::query(&select).fetch(conn);
            while let Some(row) = rows.try_next().await.with_context(failed)? {
                content.add(&row_values(&row, &table.columns).with_context(failed)?);
            }
        }
        Raw::Postgres(conn) => {
            let mut rows = sqlx::query(&select).fetch(conn);
            while let Some(row) = rows.try_next().await.with_context(failed)? {
                content.add(&row_values(&row, &table.columns).with_context(failed)?);
            }
        }
    }
    Ok(content)
}

fn select_all(table: &Table) -> String {
    let columns: Vec<String> = table.columns.iter().map(|c| quoted(&c.name)).collect();
    format!("SELECT {} FROM {}", columns.join(", "), quoted(&table.name))
}

async fn insert(
    target: &mut Conn,
    table: &Table,
    rows: Vec<Vec<Arg<'static>>>,
) -> anyhow::Result<()> {
    let count = rows.len();
    let columns: Vec<String> = table.columns.iter().map(|c| quoted(&c.name)).collect();
    let mut statement = query(format!(
        "INSERT INTO {} ({}) VALUES ",
        quoted(&table.name),
        columns.join(", ")
    ));
    for (i, row) in rows.into_iter().enumerate() {
        statement.push(if i == 0 { "(" } else { ", (" });
        statement.push_list(row);
        statement.push(")");
    }
    statement
        .execute(target)
        .await
        .with_context(|| format!("could not write {count} rows into table `{}`", table.name))?;
    Ok(())
}

/// Times keep microseconds, what PostgreSQL stores and what the service writes; a data dir
/// from before that rule may hold nanoseconds, which are cut the same way.
fn exact_time(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

/// The values of one row of either backend, in `columns` order.
fn row_values<R: sqlx::Row>(row: &R, columns: &[Column]) -> sqlx::Result<Vec<Arg<'static>>>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<bool>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<DateTime<Utc>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<Vec<u8>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            Ok(match column.kind {
                Kind::Text => Arg::Str(row.try_get::<Option<String>, _>(i)?.map(Cow::Owned)),
                Kind::Integer => Arg::I64(row.try_get::<Option<i64>, _>(i)?),
                Kind::Boolean => Arg::Bool(row.try_get::<Option<bool>, _>(i)?),
                Kind::Timestamp => {
                    Arg::Time(row.try_get::<Option<DateTime<Utc>>, _>(i)?.map(exact_time))
                }
                Kind::Bytes => Arg::Bytes(row.try_get::<Option<Vec<u8>>, _>(i)?.map(Cow::Owned)),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(child: &str, parent: &str) -> Edge {
        Edge {
            child: child.to_owned(),
            parent: parent.to_owned(),
        }
    }

    #[test]
    fn parents_come_before_their_children() {
        let tables: BTreeSet<String> = ["devices", "cohorts", "products", "organizations"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        let edges = [
            edge("devices", "cohorts"),
            edge("devices", "products"),
            edge("cohorts", "products"),
            edge("products", "organizations"),
            edge("devices", "devices"),
        ];
        let order = dependency_order(&tables, &edges).expect("no cycle");
        assert_eq!(order, ["organizations", "products", "cohorts", "devices"]);
    }

    #[test]
    fn a_cycle_is_refused() {
        let tables: BTreeSet<String> = ["a", "b"].into_iter().map(str::to_owned).collect();
        let err = dependency_order(&tables, &[edge("a", "b"), edge("b", "a")])
            .expect_err("a cycle has no order");
        assert!(err.to_string().contains("cycle"), "{err}");
    }

    #[test]
    fn content_ignores_row_order_but_not_values() {
        let row = |id: &'static str, at: i64| {
            vec![
                Arg::Str(Some(Cow::Borrowed(id))),
                Arg::Time(DateTime::from_timestamp_micros(at)),
            ]
        };
        let mut one = Content::default();
        one.add(&row("a", 1));
        one.add(&row("b", 2));
        let mut other = Content::default();
        other.add(&row("b", 2));
        other.add(&row("a", 1));
        assert_eq!(one, other);
        let mut changed = Content::default();
        changed.add(&row("a", 1));
        changed.add(&row("b", 3));
        assert_ne!(
            one, changed,
            "a timestamp one microsecond off is a difference"
        );
        let mut null = Content::default();
        null.add(&[Arg::Str(None)]);
        let mut empty = Content::default();
        empty.add(&[Arg::Str(Some(Cow::Borrowed("")))]);
        assert_ne!(null, empty, "NULL is not the empty string");
    }
}
