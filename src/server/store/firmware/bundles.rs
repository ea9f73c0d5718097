//! Bundles: immutable ordered sets of one product's binaries.

use chrono::{DateTime, Utc};

use super::super::{Conn, parse_id, query};
use super::{Page, to_i64, to_u64};
use crate::api::{BinaryId, Bundle, BundleId, BundleItem, OrgId, ProductId};

const SELECT: &str = "SELECT bn.id, bn.product_id, p.name AS product, bn.name, bn.description, \
     bn.created_at FROM bundles bn JOIN products p ON p.id = bn.product_id";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    product_id: String,
    product: String,
    name: String,
    description: String,
    created_at: DateTime<Utc>,
}

impl Row {
    async fn into_api(self, conn: &mut Conn) -> sqlx::Result<Bundle> {
        let id = parse_id!(BundleId, self.id)?;
        let binaries = items(conn, &id).await?;
        Ok(Bundle {
            id,
            product_id: parse_id!(ProductId, self.product_id)?,
            product: self.product,
            name: self.name,
            description: self.description,
            binaries,
            created_at: self.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    binary_id: String,
    artifact: String,
    version: String,
    target: String,
    size: i64,
    sha256: String,
    signatures: i64,
}

async fn items(conn: &mut Conn, id: &BundleId) -> sqlx::Result<Vec<BundleItem>> {
    let rows: Vec<ItemRow> = query(
        "SELECT b.id AS binary_id, a.name AS artifact, v.version, b.target, b.size, b.sha256, \
         (SELECT COUNT(*) FROM binary_signatures s WHERE s.binary_id = b.id) AS signatures \
         FROM bundle_binaries bb JOIN binaries b ON b.id = bb.binary_id \
         JOIN artifacts a ON a.id = b.artifact_id JOIN artifact_versions v ON v.id = b.version_id \
         WHERE bb.bundle_id = $1 ORDER BY bb.position",
    )
    .bind(id.as_str())
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(BundleItem {
                binary_id: parse_id!(BinaryId, row.binary_id)?,
                artifact: row.artifact,
                version: row.version,
                target: row.target,
                size: to_u64(row.size),
                sha256: row.sha256,
                signatures: to_u64(row.signatures),
            })
        })
        .collect()
}

/// A bundle of `product_id` by ID or name.
pub async fn get(
    conn: &mut Conn,
    product_id: &ProductId,
    reference: &str,
) -> sqlx::Result<Option<Bundle>> {
    let by = if BundleId::parse(reference).is_some() {
        "id"
    } else {
        "name"
    };
    let sql = format!("{SELECT} WHERE bn.product_id = $1 AND bn.{by} = $2");
    let row: Option<Row> = query(&sql)
        .bind(product_id.as_str())
        .bind(reference)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => Ok(Some(row.into_api(conn).await?)),
        None => Ok(None),
    }
}

/// The product of bundle `id` anywhere in the organization (to tell "another product's" from
/// "no such bundle").
pub async fn product_of(
    conn: &mut Conn,
    org_id: &OrgId,
    id: &BundleId,
) -> sqlx::Result<Option<(ProductId, String)>> {
    let row: Option<(String, String)> = query(
        "SELECT p.id, p.name FROM bundles bn JOIN products p ON p.id = bn.product_id \
         WHERE bn.org_id = $1 AND bn.id = $2",
    )
    .bind(org_id.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|(id, name)| Ok((parse_id!(ProductId, id)?, name)))
        .transpose()
}

pub async fn list(
    conn: &mut Conn,
    product_id: &ProductId,
    page: &Page<'_>,
) -> sqlx::Result<Vec<Bundle>> {
    let sql = format!("{SELECT} WHERE bn.product_id = $1 AND bn.id > $2 ORDER BY bn.id LIMIT $3");
    let rows: Vec<Row> = query(&sql)
        .bind(product_id.as_str())
        .bind(page.after.unwrap_or(""))
        .bind(i64::from(page.limit))
        .fetch_all(&mut *conn)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(row.into_api(conn).await?);
    }
    Ok(out)
}

pub struct NewBundle<'a> {
    pub id: &'a BundleId,
    pub product_id: &'a ProductId,
    pub name: &'a str,
    pub description: &'a str,
    pub binaries: &'a [BinaryId],
}

pub async fn insert(
    conn: &mut Conn,
    org_id: &OrgId,
    new: &NewBundle<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let NewBundle {
        id,
        product_id,
        name,
        description,
        binaries,
    } = *new;
    query(
        "INSERT INTO bundles (id, org_id, product_id, name, description, created_at) \
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
    for (position, binary) in binaries.iter().enumerate() {
        query("INSERT INTO bundle_binaries (bundle_id, position, binary_id) VALUES ($1, $2, $3)")
            .bind(id.as_str())
            .bind(to_i64(position as u64))
            .bind(binary.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
