//! Signing keys: an organization's Ed25519 public keys.

use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};

use super::super::{Conn, parse_id, query};
use super::Page;
use crate::api::{OrgId, SigningKey, SigningKeyId};
use crate::server::hex::hex;

const SELECT: &str = "SELECT id, name, public_key, created_at FROM signing_keys";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    name: String,
    public_key: String,
    created_at: DateTime<Utc>,
}

/// First 16 hex digits of the SHA-256 of the key's text form.
pub fn fingerprint(public_key_b64: &str) -> String {
    hex(&Sha256::digest(public_key_b64.as_bytes())[..8])
}

impl Row {
    fn into_api(self) -> sqlx::Result<SigningKey> {
        Ok(SigningKey {
            id: parse_id!(SigningKeyId, self.id)?,
            fingerprint: fingerprint(&self.public_key),
            name: self.name,
            public_key: self.public_key,
            created_at: self.created_at,
        })
    }
}

/// A key by ID or name.
pub async fn get(
    conn: &mut Conn,
    org_id: &OrgId,
    reference: &str,
) -> sqlx::Result<Option<SigningKey>> {
    let by = if SigningKeyId::parse(reference).is_some() {
        "id"
    } else {
        "name"
    };
    let sql = format!("{SELECT} WHERE org_id = $1 AND {by} = $2");
    let row: Option<Row> = query(&sql)
        .bind(org_id.as_str())
        .bind(reference)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(Row::into_api).transpose()
}

/// The key with this public key, if registered.
pub async fn by_public_key(
    conn: &mut Conn,
    org_id: &OrgId,
    public_key: &str,
) -> sqlx::Result<Option<SigningKey>> {
    let sql = format!("{SELECT} WHERE org_id = $1 AND public_key = $2");
    let row: Option<Row> = query(&sql)
        .bind(org_id.as_str())
        .bind(public_key)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(Row::into_api).transpose()
}

pub async fn list(
    conn: &mut Conn,
    org_id: &OrgId,
    page: &Page<'_>,
) -> sqlx::Result<Vec<SigningKey>> {
    let sql = format!("{SELECT} WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3");
    let rows: Vec<Row> = query(&sql)
        .bind(org_id.as_str())
        .bind(page.after.unwrap_or(""))
        .bind(i64::from(page.limit))
        .fetch_all(&mut *conn)
        .await?;
    rows.into_iter().map(Row::into_api).collect()
}

pub async fn insert(
    conn: &mut Conn,
    org_id: &OrgId,
    id: &SigningKeyId,
    name: &str,
    public_key: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    query(
        "INSERT INTO signing_keys (id, org_id, name, public_key, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id.as_str())
    .bind(org_id.as_str())
    .bind(name)
    .bind(public_key)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes the key and (by cascade) the signatures made with it; returns how many there were.
pub async fn delete(conn: &mut Conn, id: &SigningKeyId) -> sqlx::Result<u64> {
    let (signatures,): (i64,) = query("SELECT COUNT(*) FROM binary_signatures WHERE key_id = $1")
        .bind(id.as_str())
        .fetch_one(&mut *conn)
        .await?;
    query("DELETE FROM signing_keys WHERE id = $1")
        .bind(id.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(super::to_u64(signatures))
}
