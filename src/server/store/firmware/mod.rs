//! Firmware SQL: artifacts and versions and the product firmware policy here; binaries (with
//! parts and signatures), signing keys, bundles and releases in the submodules.

pub mod binaries;
pub mod bundles;
pub mod digest_claims;
pub mod keys;
pub mod releases;
pub mod rollouts;

use chrono::{DateTime, Utc};

use super::{Conn, parse_id, query};
use crate::api::{Artifact, ArtifactId, ArtifactVersion, OrgId, ProductId, VersionId};

/// Keyset page bounds shared by the firmware lists.
pub struct Page<'a> {
    pub after: Option<&'a str>,
    pub limit: u32,
}

pub(crate) fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

pub(crate) fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

const ARTIFACT_SELECT: &str = "SELECT a.id, a.product_id, p.name AS product, a.name, \
     a.description, a.created_at FROM artifacts a JOIN products p ON p.id = a.product_id";

#[derive(sqlx::FromRow)]
struct ArtifactRow {
    id: String,
    product_id: String,
    product: String,
    name: String,
    description: String,
    created_at: DateTime<Utc>,
}

impl ArtifactRow {
    fn into_api(self) -> sqlx::Result<Artifact> {
        Ok(Artifact {
            id: parse_id!(ArtifactId, self.id)?,
            product_id: parse_id!(ProductId, self.product_id)?,
            product: self.product,
            name: self.name,
            description: self.description,
            created_at: self.created_at,
        })
    }
}

/// An artifact of `product_id` by ID or name.
pub async fn artifact(
    conn: &mut Conn,
    product_id: &ProductId,
    reference: &str,
) -> sqlx::Result<Option<Artifact>> {
    let by = if ArtifactId::parse(reference).is_some() {
        "id"
    } else {
        "name"
    };
    let sql = format!("{ARTIFACT_SELECT} WHERE a.product_id = $1 AND a.{by} = $2");
    let row: Option<ArtifactRow> = query(&sql)
        .bind(product_id.as_str())
        .bind(reference)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(ArtifactRow::into_api).transpose()
}

pub async fn artifacts(
    conn: &mut Conn,
    product_id: &ProductId,
    page: &Page<'_>,
) -> sqlx::Result<Vec<Artifact>> {
    let sql =
        format!("{ARTIFACT_SELECT} WHERE a.product_id = $1 AND a.id > $2 ORDER BY a.id LIMIT $3");
    let rows: Vec<ArtifactRow> = query(&sql)
        .bind(product_id.as_str())
        .bind(page.after.unwrap_or(""))
        .bind(i64::from(page.limit))
        .fetch_all(&mut *conn)
        .await?;
    rows.into_iter().map(ArtifactRow::into_api).collect()
}

pub async fn insert_artifact(
    conn: &mut Conn,
    org_id: &OrgId,
    id: &ArtifactId,
    product_id: &ProductId,
    name: &str,
    description: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    query(
        "INSERT INTO artifacts (id, org_id, product_id, name, description, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.as_str())
    .bind(org_id.as_str())
    .bind(product_id.as_str())
    .bind(name)
    .bind(description)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

const VERSION_SELECT: &str = "SELECT v.id, v.product_id, v.artifact_id, a.name AS artifact, \
     v.version, v.description, v.created_at \
     FROM artifact_versions v JOIN artifacts a ON a.id = v.artifact_id";

#[derive(sqlx::FromRow)]
struct VersionRow {
    id: String,
    product_id: String,
    artifact_id: String,
    artifact: String,
    version: String,
    description: String,
    created_at: DateTime<Utc>,
}

impl VersionRow {
    fn into_api(self) -> sqlx::Result<ArtifactVersion> {
        Ok(ArtifactVersion {
            id: parse_id!(VersionId, self.id)?,
            product_id: parse_id!(ProductId, self.product_id)?,
            artifact_id: parse_id!(ArtifactId, self.artifact_id)?,
            artifact: self.artifact,
            version: self.version,
            description: self.description,
            created_at: self.created_at,
        })
    }
}

/// A version of `artifact_id` by ID or version string.
pub async fn version(
    conn: &mut Conn,
    artifact_id: &ArtifactId,
    reference: &str,
) -> sqlx::Result<Option<ArtifactVersion>> {
    let by = if VersionId::parse(reference).is_some() {
        "id"
    } else {
        "version"
    };
    let sql = format!("{VERSION_SELECT} WHERE v.artifact_id = $1 AND v.{by} = $2");
    let row: Option<VersionRow> = query(&sql)
        .bind(artifact_id.as_str())
        .bind(reference)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(VersionRow::into_api).transpose()
}

pub async fn versions(
    conn: &mut Conn,
    artifact_id: &ArtifactId,
    page: &Page<'_>,
) -> sqlx::Result<Vec<ArtifactVersion>> {
    let sql =
        format!("{VERSION_SELECT} WHERE v.artifact_id = $1 AND v.id > $2 ORDER BY v.id LIMIT $3");
    let rows: Vec<VersionRow> = query(&sql)
        .bind(artifact_id.as_str())
        .bind(page.after.unwrap_or(""))
        .bind(i64::from(page.limit))
        .fetch_all(&mut *conn)
        .await?;
    rows.into_iter().map(VersionRow::into_api).collect()
}

pub async fn insert_version(
    conn: &mut Conn,
    org_id: &OrgId,
    id: &VersionId,
    artifact: &Artifact,
    version: &str,
    description: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    query(
        "INSERT INTO artifact_versions (id, org_id, product_id, artifact_id, version, description, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id.as_str())
    .bind(org_id.as_str())
    .bind(artifact.product_id.as_str())
    .bind(artifact.id.as_str())
    .bind(version)
    .bind(description)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Whether `product_id` requires signed firmware in releases (false when never set).
pub async fn requires_signed(conn: &mut Conn, product_id: &ProductId) -> sqlx::Result<bool> {
    let row: Option<(bool,)> =
        query("SELECT require_signed_firmware FROM firmware_policies WHERE product_id = $1")
            .bind(product_id.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.is_some_and(|(required,)| required))
}

pub async fn set_requires_signed(
    conn: &mut Conn,
    product_id: &ProductId,
    required: bool,
) -> sqlx::Result<()> {
    query(
        "INSERT INTO firmware_policies (product_id, require_signed_firmware) VALUES ($1, $2) \
         ON CONFLICT (product_id) DO UPDATE SET require_signed_firmware = excluded.require_signed_firmware",
    )
    .bind(product_id.as_str())
    .bind(required)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
