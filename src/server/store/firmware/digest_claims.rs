//! Who computes the background whole-file digest of an upload: one claim row per binary, held
//! by one replica (`owner`) while it renews `heartbeat_at`.

use chrono::{DateTime, Utc};

use super::super::{Conn, query};
use crate::api::BinaryId;

/// Takes or renews the digest claim of the upload under `prefix` for `owner`: it succeeds when
/// nobody holds it, `owner` already does, the holder's heartbeat is older than `stale_before`,
/// or the claim was for an earlier upload prefix. Whether `owner` holds it now.
pub async fn claim(
    conn: &mut Conn,
    id: &BinaryId,
    prefix: &str,
    owner: &str,
    now: DateTime<Utc>,
    stale_before: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = query(
        "INSERT INTO binary_digest_claims (binary_id, blob_prefix, owner, heartbeat_at) \
         SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM binaries WHERE id = $1) \
         ON CONFLICT (binary_id) DO UPDATE SET blob_prefix = excluded.blob_prefix, \
         owner = excluded.owner, heartbeat_at = excluded.heartbeat_at \
         WHERE binary_digest_claims.owner = excluded.owner \
         OR binary_digest_claims.heartbeat_at < $5 \
         OR binary_digest_claims.blob_prefix <> excluded.blob_prefix",
    )
    .bind(id.as_str())
    .bind(prefix)
    .bind(owner)
    .bind(now)
    .bind(stale_before)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends the claim (the upload is complete).
pub async fn release(conn: &mut Conn, id: &BinaryId) -> sqlx::Result<()> {
    query("DELETE FROM binary_digest_claims WHERE binary_id = $1")
        .bind(id.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}
