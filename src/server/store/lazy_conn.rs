//! A read connection taken from the pool on first use, so a request that caches answer whole
//! (a check-in of a device whose context, release binaries and configuration are cached) takes
//! no connection at all; or a connection the caller already holds.

use super::{Conn, Pool};

pub struct LazyConn<'a>(Source<'a>);

enum Source<'a> {
    Pool(&'a Pool, Option<Conn>),
    Held(&'a mut Conn),
}

impl<'a> LazyConn<'a> {
    /// Takes a read connection from `pool` when first asked for one.
    pub fn new(pool: &'a Pool) -> Self {
        LazyConn(Source::Pool(pool, None))
    }

    /// Lends `conn` (a pooled connection or a transaction the caller holds).
    pub fn held(conn: &'a mut Conn) -> Self {
        LazyConn(Source::Held(conn))
    }

    /// The connection, taken from the pool now if this is the first use.
    pub async fn get(&mut self) -> sqlx::Result<&mut Conn> {
        match &mut self.0 {
            Source::Held(conn) => Ok(conn),
            Source::Pool(pool, slot) => {
                if slot.is_none() {
                    *slot = Some(pool.acquire().await?);
                }
                // Set just above; the error cannot happen.
                slot.as_mut().ok_or(sqlx::Error::PoolClosed)
            }
        }
    }
}
