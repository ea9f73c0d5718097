//! Statements that run on either backend: the SQL text with `$n` placeholders (both engines
//! accept them) and its arguments, bound for whichever connection runs it.
//!
//! This stands in for `sqlx::query*` and `sqlx::QueryBuilder`, which are typed by one database;
//! the row types derive `sqlx::FromRow`, which works for both.

use std::borrow::Cow;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Postgres, Sqlite};

use super::conn::{Conn, Raw};
use super::placeholders;

/// One bound value. Only the types the store binds exist here.
#[derive(Clone, Debug)]
pub enum Arg<'q> {
    Str(Option<Cow<'q, str>>),
    I64(Option<i64>),
    Bool(Option<bool>),
    Time(Option<DateTime<Utc>>),
    Bytes(Option<Cow<'q, [u8]>>),
}

macro_rules! arg_from {
    ($ty:ty, |$v:ident| $arg:expr) => {
        impl<'q> From<$ty> for Arg<'q> {
            fn from($v: $ty) -> Self {
                $arg
            }
        }
    };
}
arg_from!(&'q str, |v| Arg::Str(Some(Cow::Borrowed(v))));
arg_from!(&'q String, |v| Arg::Str(Some(Cow::Borrowed(v.as_str()))));
arg_from!(String, |v| Arg::Str(Some(Cow::Owned(v))));
arg_from!(Option<&'q str>, |v| Arg::Str(v.map(Cow::Borrowed)));
arg_from!(Option<String>, |v| Arg::Str(v.map(Cow::Owned)));
arg_from!(i64, |v| Arg::I64(Some(v)));
arg_from!(Option<i64>, |v| Arg::I64(v));
arg_from!(bool, |v| Arg::Bool(Some(v)));
arg_from!(Option<bool>, |v| Arg::Bool(v));
arg_from!(DateTime<Utc>, |v| Arg::Time(Some(v)));
arg_from!(&'q DateTime<Utc>, |v| Arg::Time(Some(*v)));
arg_from!(Option<DateTime<Utc>>, |v| Arg::Time(v));
arg_from!(&'q [u8], |v| Arg::Bytes(Some(Cow::Borrowed(v))));
arg_from!(Vec<u8>, |v| Arg::Bytes(Some(Cow::Owned(v))));
arg_from!(Option<&'q [u8]>, |v| Arg::Bytes(v.map(Cow::Borrowed)));

/// A row type readable from both backends.
pub trait Row: Send + Unpin + for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> {}
impl<T> Row for T where T: Send + Unpin + for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow>
{}

/// What a statement that returns no rows did.
#[derive(Clone, Copy, Debug)]
pub struct Done {
    rows_affected: u64,
}

impl Done {
    pub fn rows_affected(&self) -> u64 {
        self.rows_affected
    }
}

/// A statement and its arguments. Build it whole with [`query`] and `.bind(…)`, or piece by
/// piece with [`Query::push`] and [`Query::push_bind`] (which writes the next `$n`).
#[derive(Clone, Debug)]
pub struct Query<'q> {
    sql: Cow<'q, str>,
    args: Vec<Arg<'q>>,
}

/// A statement whose placeholders `$1…` are bound in order with `.bind(…)`.
pub fn query<'q>(sql: impl Into<Cow<'q, str>>) -> Query<'q> {
    Query {
        sql: sql.into(),
        args: Vec::new(),
    }
}

macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for arg in $args {
            q = match arg {
                Arg::Str(Some(Cow::Borrowed(v))) => q.bind(v),
                Arg::Str(Some(Cow::Owned(v))) => q.bind(v),
                Arg::Str(None) => q.bind(None::<&str>),
                Arg::I64(v) => q.bind(v),
                Arg::Bool(v) => q.bind(v),
                Arg::Time(v) => q.bind(v),
                Arg::Bytes(Some(Cow::Borrowed(v))) => q.bind(v),
                Arg::Bytes(Some(Cow::Owned(v))) => q.bind(v),
                Arg::Bytes(None) => q.bind(None::<&[u8]>),
            };
        }
        q
    }};
}

/// Runs `$method` of a `sqlx::query_as` built from `$self` on whichever backend `$conn` is.
macro_rules! fetch {
    ($self:ident, $conn:ident, $method:ident) => {{
        let Query { sql, args } = $self;
        match $conn.raw() {
            Raw::Sqlite(c) => {
                let sql = placeholders::for_sqlite(&sql, args.len());
                bind_all!(sqlx::query_as::<Sqlite, _>(&sql), args)
                    .$method(c)
                    .await
            }
            Raw::Postgres(c) => {
                bind_all!(sqlx::query_as::<Postgres, _>(&sql), args)
                    .$method(c)
                    .await
            }
        }
    }};
}

impl<'q> Query<'q> {
    /// Binds the next `$n` of the statement text.
    pub fn bind(mut self, value: impl Into<Arg<'q>>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Appends SQL text.
    pub fn push(&mut self, sql: impl std::fmt::Display) -> &mut Self {
        let _ = write!(self.sql.to_mut(), "{sql}");
        self
    }

    /// Appends the placeholder of a new argument.
    pub fn push_bind(&mut self, value: impl Into<Arg<'q>>) -> &mut Self {
        self.args.push(value.into());
        let n = self.args.len();
        let _ = write!(self.sql.to_mut(), "${n}");
        self
    }

    /// Appends `value, value, …` as placeholders, separated by commas.
    pub fn push_list<A: Into<Arg<'q>>>(
        &mut self,
        values: impl IntoIterator<Item = A>,
    ) -> &mut Self {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push_bind(value);
        }
        self
    }

    pub async fn execute(self, conn: &mut Conn) -> sqlx::Result<Done> {
        let Query { sql, args } = self;
        let rows_affected = match conn.raw() {
            Raw::Sqlite(c) => {
                let sql = placeholders::for_sqlite(&sql, args.len());
                bind_all!(sqlx::query::<Sqlite>(&sql), args)
                    .execute(c)
                    .await?
                    .rows_affected()
            }
            Raw::Postgres(c) => bind_all!(sqlx::query::<Postgres>(&sql), args)
                .execute(c)
                .await?
                .rows_affected(),
        };
        Ok(Done { rows_affected })
    }

    pub async fn fetch_one<T: Row>(self, conn: &mut Conn) -> sqlx::Result<T> {
        fetch!(self, conn, fetch_one)
    }

    pub async fn fetch_optional<T: Row>(self, conn: &mut Conn) -> sqlx::Result<Option<T>> {
        fetch!(self, conn, fetch_optional)
    }

    pub async fn fetch_all<T: Row>(self, conn: &mut Conn) -> sqlx::Result<Vec<T>> {
        fetch!(self, conn, fetch_all)
    }

    /// PostgreSQL only (an error on SQLite): hands each row to `each` as it comes off the
    /// socket, for a hot path that reads columns by position and borrows their text instead of
    /// building a row type (a name lookup and an allocation per column).
    pub async fn for_each_postgres_row(
        self,
        conn: &mut Conn,
        mut each: impl FnMut(&PgRow) -> sqlx::Result<()>,
    ) -> sqlx::Result<()> {
        use futures_util::TryStreamExt as _;

        let Query { sql, args } = self;
        let Raw::Postgres(c) = conn.raw() else {
            return Err(sqlx::Error::Protocol(
                "a PostgreSQL-only statement was run on SQLite".into(),
            ));
        };
        let mut rows = bind_all!(sqlx::query::<Postgres>(&sql), args).fetch(c);
        while let Some(row) = rows.try_next().await? {
            each(&row)?;
        }
        Ok(())
    }
}
