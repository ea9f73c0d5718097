//! One database connection of either backend — borrowed from a pool, or inside a transaction —
//! so store functions take `&mut Conn` and never know which database they speak to.

use std::ops::{Deref, DerefMut};

use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, Postgres, Sqlite, SqliteConnection};

/// The database engine behind a connection, for the few statements whose spelling differs
/// (see `store::dialect`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection of either backend. Dropping a transaction's `Conn` rolls it back.
pub struct Conn(Inner);

enum Inner {
    SqlitePooled(PoolConnection<Sqlite>),
    SqliteTx(sqlx::Transaction<'static, Sqlite>),
    PgPooled(PoolConnection<Postgres>),
    PgTx(sqlx::Transaction<'static, Postgres>),
}

/// The connection itself, for running one statement on it.
pub(crate) enum Raw<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

impl Conn {
    pub fn backend(&self) -> Backend {
        match &self.0 {
            Inner::SqlitePooled(_) | Inner::SqliteTx(_) => Backend::Sqlite,
            Inner::PgPooled(_) | Inner::PgTx(_) => Backend::Postgres,
        }
    }

    pub(crate) fn raw(&mut self) -> Raw<'_> {
        match &mut self.0 {
            Inner::SqlitePooled(conn) => Raw::Sqlite(conn),
            Inner::SqliteTx(tx) => Raw::Sqlite(tx),
            Inner::PgPooled(conn) => Raw::Postgres(conn),
            Inner::PgTx(tx) => Raw::Postgres(tx),
        }
    }
}

impl From<PoolConnection<Sqlite>> for Conn {
    fn from(conn: PoolConnection<Sqlite>) -> Self {
        Conn(Inner::SqlitePooled(conn))
    }
}

impl From<PoolConnection<Postgres>> for Conn {
    fn from(conn: PoolConnection<Postgres>) -> Self {
        Conn(Inner::PgPooled(conn))
    }
}

/// A transaction of either backend: `&mut tx` is a `&mut Conn`. Dropped without
/// [`Tx::commit`], it rolls back.
pub struct Tx(Conn, Option<WriterTurn>);

/// A PostgreSQL writer's turn among this replica's writers, held for its whole transaction.
pub(crate) type WriterTurn = tokio::sync::OwnedMutexGuard<()>;

impl Tx {
    /// The transaction, holding `turn` until it ends.
    pub(crate) fn holding(self, turn: WriterTurn) -> Tx {
        Tx(self.0, Some(turn))
    }

    pub async fn commit(self) -> sqlx::Result<()> {
        // The turn (field 1) is released only after the commit finished.
        let Tx(conn, _turn) = self;
        match conn.0 {
            Inner::SqliteTx(tx) => tx.commit().await,
            Inner::PgTx(tx) => tx.commit().await,
            // A pooled connection is never wrapped in a `Tx` (see the `From` impls).
            Inner::SqlitePooled(_) | Inner::PgPooled(_) => Ok(()),
        }
    }
}

impl From<sqlx::Transaction<'static, Sqlite>> for Tx {
    fn from(tx: sqlx::Transaction<'static, Sqlite>) -> Self {
        Tx(Conn(Inner::SqliteTx(tx)), None)
    }
}

impl From<sqlx::Transaction<'static, Postgres>> for Tx {
    fn from(tx: sqlx::Transaction<'static, Postgres>) -> Self {
        Tx(Conn(Inner::PgTx(tx)), None)
    }
}

impl Deref for Tx {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.0
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.0
    }
}
