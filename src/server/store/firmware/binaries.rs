//! Binaries, their received parts and their signatures.

use chrono::{DateTime, Utc};

use super::super::{Conn, parse_id, query};
use super::{to_i64, to_u64};
use crate::api::{
    ArtifactId, Binary, BinaryId, BinarySignature, BinaryState, OrgId, ProductId, ReceivedPart,
    SigningKeyId, VersionId,
};

const SELECT: &str = "SELECT b.id, b.product_id, p.name AS product, b.artifact_id, \
     a.name AS artifact, b.version_id, v.version, b.target, b.size, b.sha256, b.part_size, \
     b.state, b.blob_prefix, b.blob_layout, b.multipart_upload_id, b.created_at, b.ready_at \
     FROM binaries b JOIN products p ON p.id = b.product_id \
     JOIN artifacts a ON a.id = b.artifact_id JOIN artifact_versions v ON v.id = b.version_id";

/// A binary as stored: the API object plus where its parts live.
#[derive(Debug, Clone)]
pub struct Stored {
    pub binary: Binary,
    pub blob_prefix: String,
    pub layout: BlobLayout,
    /// The store's multipart upload ([`BlobLayout::Multipart`]), once the first part created it.
    pub multipart_upload_id: Option<String>,
}

/// How a binary's content lies in the blob store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobLayout {
    /// One object per part under the upload's prefix, read in order.
    Parts,
    /// One object, `<prefix>/content`, assembled by the store's multipart API on completion.
    Multipart,
}

impl BlobLayout {
    fn as_str(self) -> &'static str {
        match self {
            BlobLayout::Parts => "parts",
            BlobLayout::Multipart => "multipart",
        }
    }

    pub(in crate::server::store) fn parse(text: &str) -> sqlx::Result<Self> {
        match text {
            "parts" => Ok(BlobLayout::Parts),
            "multipart" => Ok(BlobLayout::Multipart),
            other => Err(sqlx::Error::Decode(
                format!("stored blob layout `{other}` is unknown").into(),
            )),
        }
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    product_id: String,
    product: String,
    artifact_id: String,
    artifact: String,
    version_id: String,
    version: String,
    target: String,
    size: i64,
    sha256: String,
    part_size: i64,
    state: String,
    blob_prefix: String,
    blob_layout: String,
    multipart_upload_id: Option<String>,
    created_at: DateTime<Utc>,
    ready_at: Option<DateTime<Utc>>,
}

/// Parts needed for `size` bytes in parts of `part_size`: zero for an empty file.
pub fn part_count(size: u64, part_size: u64) -> u64 {
    if part_size == 0 {
        0
    } else {
        size.div_ceil(part_size)
    }
}

impl Row {
    fn into_stored(self) -> sqlx::Result<Stored> {
        let state = match self.state.as_str() {
            "ready" => BinaryState::Ready,
            "uploading" => BinaryState::Uploading,
            other => {
                return Err(sqlx::Error::Decode(
                    format!("stored binary state `{other}` is unknown").into(),
                ));
            }
        };
        let (size, part_size) = (to_u64(self.size), to_u64(self.part_size));
        Ok(Stored {
            binary: Binary {
                id: parse_id!(BinaryId, self.id)?,
                product_id: parse_id!(ProductId, self.product_id)?,
                product: self.product,
                artifact_id: parse_id!(ArtifactId, self.artifact_id)?,
                artifact: self.artifact,
                version_id: parse_id!(VersionId, self.version_id)?,
                version: self.version,
                target: self.target,
                size,
                sha256: self.sha256,
                state,
                part_size,
                part_count: part_count(size, part_size),
                signatures: Vec::new(),
                created_at: self.created_at,
                ready_at: self.ready_at,
            },
            blob_prefix: self.blob_prefix,
            layout: BlobLayout::parse(&self.blob_layout)?,
            multipart_upload_id: self.multipart_upload_id,
        })
    }
}

async fn with_signatures(conn: &mut Conn, mut stored: Stored) -> sqlx::Result<Stored> {
    stored.binary.signatures = signatures(conn, &stored.binary.id).await?;
    Ok(stored)
}

pub async fn get(conn: &mut Conn, org_id: &OrgId, id: &BinaryId) -> sqlx::Result<Option<Stored>> {
    let sql = format!("{SELECT} WHERE b.org_id = $1 AND b.id = $2");
    let row: Option<Row> = query(&sql)
        .bind(org_id.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => Ok(Some(with_signatures(conn, row.into_stored()?).await?)),
        None => Ok(None),
    }
}

pub async fn get_for_target(
    conn: &mut Conn,
    version_id: &VersionId,
    target: &str,
) -> sqlx::Result<Option<Stored>> {
    let sql = format!("{SELECT} WHERE b.version_id = $1 AND b.target = $2");
    let row: Option<Row> = query(&sql)
        .bind(version_id.as_str())
        .bind(target)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => Ok(Some(with_signatures(conn, row.into_stored()?).await?)),
        None => Ok(None),
    }
}

pub struct ListFilter<'a> {
    pub product_id: Option<&'a ProductId>,
    pub artifact_id: Option<&'a ArtifactId>,
    pub version: Option<&'a str>,
    pub target: Option<&'a str>,
    pub state: Option<BinaryState>,
    pub after: Option<&'a str>,
    pub limit: u32,
}

pub async fn list_within(
    conn: &mut Conn,
    org_id: &OrgId,
    filter: &ListFilter<'_>,
    within: Option<&[ProductId]>,
) -> sqlx::Result<Vec<Binary>> {
    let mut qb = query(SELECT);
    qb.push(" WHERE b.org_id = ")
        .push_bind(org_id.as_str().to_owned());
    super::super::api_keys::push_scope(&mut qb, "b.product_id", within);
    if let Some(product) = filter.product_id {
        qb.push(" AND b.product_id = ")
            .push_bind(product.as_str().to_owned());
    }
    if let Some(artifact) = filter.artifact_id {
        qb.push(" AND b.artifact_id = ")
            .push_bind(artifact.as_str().to_owned());
    }
    if let Some(version) = filter.version {
        qb.push(" AND v.version = ").push_bind(version.to_owned());
    }
    if let Some(target) = filter.target {
        qb.push(" AND b.target = ").push_bind(target.to_owned());
    }
    if let Some(state) = filter.state {
        qb.push(" AND b.state = ").push_bind(state.as_str());
    }
    if let Some(after) = filter.after {
        qb.push(" AND b.id > ").push_bind(after.to_owned());
    }
    qb.push(" ORDER BY b.id LIMIT ")
        .push_bind(i64::from(filter.limit));
    let rows: Vec<Row> = qb.fetch_all(&mut *conn).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(with_signatures(conn, row.into_stored()?).await?.binary);
    }
    Ok(out)
}

/// The columns of a new (or restarted) upload.
pub struct Upload<'a> {
    pub size: u64,
    pub sha256: &'a str,
    pub part_size: u64,
    pub blob_prefix: &'a str,
    pub layout: BlobLayout,
}

pub async fn insert(
    conn: &mut Conn,
    org_id: &OrgId,
    id: &BinaryId,
    version: &crate::api::ArtifactVersion,
    target: &str,
    upload: &Upload<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    query(
        "INSERT INTO binaries (id, org_id, product_id, artifact_id, version_id, target, size, \
         sha256, part_size, state, blob_prefix, blob_layout, created_at, active_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'uploading', $10, $11, $12, $12)",
    )
    .bind(id.as_str())
    .bind(org_id.as_str())
    .bind(version.product_id.as_str())
    .bind(version.artifact_id.as_str())
    .bind(version.id.as_str())
    .bind(target)
    .bind(to_i64(upload.size))
    .bind(upload.sha256)
    .bind(to_i64(upload.part_size))
    .bind(upload.blob_prefix)
    .bind(upload.layout.as_str())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Starts an unfinished upload over with another declared file: its parts are forgotten.
pub async fn restart(
    conn: &mut Conn,
    id: &BinaryId,
    upload: &Upload<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    query("DELETE FROM binary_parts WHERE binary_id = $1")
        .bind(id.as_str())
        .execute(&mut *conn)
        .await?;
    query(
        "UPDATE binaries SET size = $1, sha256 = $2, part_size = $3, blob_prefix = $4, \
         blob_layout = $5, multipart_upload_id = NULL, active_at = $6 \
         WHERE id = $7 AND state = 'uploading'",
    )
    .bind(to_i64(upload.size))
    .bind(upload.sha256)
    .bind(to_i64(upload.part_size))
    .bind(upload.blob_prefix)
    .bind(upload.layout.as_str())
    .bind(now)
    .bind(id.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Marks the binary ready with the SHA-256 its parts were verified to have (the declared one,
/// or the one named on completion).
pub async fn mark_ready(
    conn: &mut Conn,
    id: &BinaryId,
    sha256: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    query(
        "UPDATE binaries SET state = 'ready', sha256 = $1, ready_at = $2, active_at = $2 \
         WHERE id = $3",
    )
    .bind(sha256)
    .bind(now)
    .bind(id.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct PartRow {
    number: i64,
    size: i64,
    sha256: String,
    crc32c: Option<String>,
    tag: Option<String>,
}

pub async fn parts(conn: &mut Conn, id: &BinaryId) -> sqlx::Result<Vec<ReceivedPart>> {
    let rows: Vec<PartRow> = query(
        "SELECT number, size, sha256, crc32c, tag FROM binary_parts WHERE binary_id = $1 \
         ORDER BY number",
    )
    .bind(id.as_str())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| ReceivedPart {
            number: to_u64(row.number),
            size: to_u64(row.size),
            tag: row.tag.unwrap_or_else(|| row.sha256.clone()),
            sha256: (!row.sha256.is_empty()).then_some(row.sha256),
            crc32c: row.crc32c,
        })
        .collect())
}

/// The tag and the store's ETag of every recorded part of a multipart upload, in order (`None`
/// for a part recorded without one), read together: the parts an assembly is asked for.
pub async fn part_etags(
    conn: &mut Conn,
    id: &BinaryId,
) -> sqlx::Result<Vec<(String, Option<String>)>> {
    query(
        "SELECT COALESCE(tag, sha256), etag FROM binary_parts WHERE binary_id = $1 \
         ORDER BY number",
    )
    .bind(id.as_str())
    .fetch_all(&mut *conn)
    .await
}

/// Sets the multipart upload of the upload under `prefix` unless one is set already: whether
/// this call set it (the first part to arrive on any replica wins).
pub async fn set_multipart_upload(
    conn: &mut Conn,
    id: &BinaryId,
    prefix: &str,
    upload_id: &str,
) -> sqlx::Result<bool> {
    let done = query(
        "UPDATE binaries SET multipart_upload_id = $1 WHERE id = $2 AND blob_prefix = $3 \
         AND state = 'uploading' AND multipart_upload_id IS NULL",
    )
    .bind(upload_id)
    .bind(id.as_str())
    .bind(prefix)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a verified part, with the store's ETag for a multipart upload (a re-sent part
/// replaces the record). `part.tag` must be its SHA-256 when it has one, else unique.
pub async fn record_part(
    conn: &mut Conn,
    id: &BinaryId,
    part: &ReceivedPart,
    etag: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    query(
        "INSERT INTO binary_parts (binary_id, number, size, sha256, crc32c, tag, etag, \
         received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (binary_id, number) DO UPDATE \
         SET size = excluded.size, sha256 = excluded.sha256, crc32c = excluded.crc32c, \
         tag = excluded.tag, etag = excluded.etag, received_at = excluded.received_at",
    )
    .bind(id.as_str())
    .bind(to_i64(part.number))
    .bind(to_i64(part.size))
    .bind(part.sha256.as_deref().unwrap_or_default())
    .bind(part.crc32c.as_deref())
    // A part named by its SHA-256 keeps the key it always had (tag NULL).
    .bind((part.sha256.as_deref() != Some(part.tag.as_str())).then_some(part.tag.as_str()))
    .bind(etag)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    query("UPDATE binaries SET active_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn signatures(conn: &mut Conn, id: &BinaryId) -> sqlx::Result<Vec<BinarySignature>> {
    let rows: Vec<(String, String, String, DateTime<Utc>)> = query(
        "SELECT s.key_id, k.name, s.signature, s.created_at FROM binary_signatures s \
         JOIN signing_keys k ON k.id = s.key_id WHERE s.binary_id = $1 ORDER BY s.created_at, k.name",
    )
    .bind(id.as_str())
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(key_id, key_name, signature, created_at)| {
            Ok(BinarySignature {
                key_id: parse_id!(SigningKeyId, key_id)?,
                key_name,
                signature,
                created_at,
            })
        })
        .collect()
}

/// Stores a verified signature; signing again with the same key replaces it.
pub async fn add_signature(
    conn: &mut Conn,
    id: &BinaryId,
    key_id: &SigningKeyId,
    signature: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    query(
        "INSERT INTO binary_signatures (binary_id, key_id, signature, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (binary_id, key_id) DO UPDATE \
         SET signature = excluded.signature, created_at = excluded.created_at",
    )
    .bind(id.as_str())
    .bind(key_id.as_str())
    .bind(signature)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes an unfinished binary with its received parts; with `idle_before`, only if its last
/// activity is older than that. A ready binary stays. Whether a row went.
pub async fn delete_unfinished(
    conn: &mut Conn,
    id: &BinaryId,
    idle_before: Option<DateTime<Utc>>,
) -> sqlx::Result<bool> {
    let done = query(
        "DELETE FROM binaries WHERE id = $1 AND state = 'uploading' \
         AND ($2 IS NULL OR COALESCE(active_at, created_at) < $2)",
    )
    .bind(id.as_str())
    .bind(idle_before)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// An unfinished upload nobody touched since before a cutoff, in any organization.
pub struct StaleUpload {
    pub org_id: OrgId,
    pub stored: Stored,
    pub active_at: DateTime<Utc>,
}

/// Up to `limit` unfinished uploads whose last activity is before `cutoff`, oldest first.
pub async fn stale_uploads(
    conn: &mut Conn,
    cutoff: DateTime<Utc>,
    limit: u32,
) -> sqlx::Result<Vec<StaleUpload>> {
    let columns = ", b.org_id, COALESCE(b.active_at, b.created_at) AS active_at FROM binaries";
    let sql = format!(
        "{} WHERE b.state = 'uploading' AND COALESCE(b.active_at, b.created_at) < $1 \
         ORDER BY active_at, b.id LIMIT $2",
        SELECT.replacen(" FROM binaries", columns, 1)
    );
    let rows: Vec<StaleRow> = query(&sql)
        .bind(cutoff)
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok(StaleUpload {
                org_id: parse_id!(OrgId, row.org_id)?,
                active_at: row.active_at,
                stored: row.row.into_stored()?,
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct StaleRow {
    #[sqlx(flatten)]
    row: Row,
    org_id: String,
    active_at: DateTime<Utc>,
}

/// Whether a binary is ready, where its parts live and how, in any organization (the sweep's
/// view of a blob prefix it found).
pub async fn state_and_prefix(
    conn: &mut Conn,
    id: &BinaryId,
) -> sqlx::Result<Option<(BinaryState, String, BlobLayout)>> {
    let row: Option<(String, String, String)> =
        query("SELECT state, blob_prefix, blob_layout FROM binaries WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    row.map(|(state, prefix, layout)| {
        let state = if state == "ready" {
            BinaryState::Ready
        } else {
            BinaryState::Uploading
        };
        Ok((state, prefix, BlobLayout::parse(&layout)?))
    })
    .transpose()
}

/// The blob prefixes of every binary of a product (what deleting the product frees).
pub async fn prefixes_of_product(
    conn: &mut Conn,
    product_id: &ProductId,
) -> sqlx::Result<Vec<String>> {
    let rows: Vec<(String,)> =
        query("SELECT blob_prefix FROM binaries WHERE product_id = $1 ORDER BY id")
            .bind(product_id.as_str())
            .fetch_all(&mut *conn)
            .await?;
    Ok(rows.into_iter().map(|(prefix,)| prefix).collect())
}
