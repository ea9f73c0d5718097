//! Certificate authorities table: reads (with product and JITP cohort names), keyset listing,
//! writes.

use chrono::{DateTime, Utc};

use super::{Conn, parse_id, query, tags_from_text, tags_to_text};
use crate::api::{CaId, CertificateAuthority, CohortId, Jitp, OrgId, ProductId};

const SELECT: &str = "SELECT a.id, a.org_id, a.product_id, p.name AS product, a.name, a.subject, \
     a.fingerprint, a.not_before, a.not_after, a.enabled, a.jitp_enabled, a.jitp_cohort_id, \
     c.name AS jitp_cohort, a.jitp_tags, a.jitp_target, a.jitp_description, a.created_at, \
     a.updated_at, a.revision \
     FROM certificate_authorities a JOIN products p ON p.id = a.product_id \
     LEFT JOIN cohorts c ON c.id = a.jitp_cohort_id";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    org_id: String,
    product_id: String,
    product: String,
    name: String,
    subject: String,
    fingerprint: String,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
    enabled: bool,
    jitp_enabled: bool,
    jitp_cohort_id: Option<String>,
    jitp_cohort: Option<String>,
    jitp_tags: String,
    jitp_target: Option<String>,
    jitp_description: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    revision: i64,
}

impl Row {
    fn into_api(self) -> sqlx::Result<CertificateAuthority> {
        Ok(CertificateAuthority {
            id: parse_id!(CaId, self.id)?,
            product_id: parse_id!(ProductId, self.product_id)?,
            product: self.product,
            name: self.name,
            subject: self.subject,
            fingerprint: self.fingerprint,
            not_before: self.not_before,
            not_after: self.not_after,
            enabled: self.enabled,
            jitp: Jitp {
                enabled: self.jitp_enabled,
                cohort_id: self
                    .jitp_cohort_id
                    .map(|id| parse_id!(CohortId, id))
                    .transpose()?,
                cohort: self.jitp_cohort,
                tags: tags_from_text(&self.jitp_tags)?,
                target: self.jitp_target,
                description: self.jitp_description,
            },
            created_at: self.created_at,
            updated_at: self.updated_at,
            revision: self.revision,
        })
    }
}

/// A CA by ID anywhere in the organization (callers check which product it is in).
pub async fn get(
    conn: &mut Conn,
    org_id: &OrgId,
    id: &CaId,
) -> sqlx::Result<Option<CertificateAuthority>> {
    let sql = format!("{SELECT} WHERE a.org_id = $1 AND a.id = $2");
    let row: Option<Row> = query(&sql)
        .bind(org_id.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    row.map(Row::into_api).transpose()
}

pub async fn get_by_name(
    conn: &mut Conn,
    product_id: &ProductId,
    name: &str,
) -> sqlx::Result<Option<CertificateAuthority>> {
    let sql = format!("{SELECT} WHERE a.product_id = $1 AND a.name = $2");
    let row: Option<Row> = query(&sql)
        .bind(product_id.as_str())
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(Row::into_api).transpose()
}

/// The CA holding this certificate, in any organization: a CA certificate is registered once
/// in the whole service, so a device certificate leads to one product.
pub async fn by_fingerprint(
    conn: &mut Conn,
    fingerprint: &str,
) -> sqlx::Result<Option<(OrgId, CertificateAuthority)>> {
    let sql = format!("{SELECT} WHERE a.fingerprint = $1");
    let row: Option<Row> = query(&sql)
        .bind(fingerprint)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|row| Ok((parse_id!(OrgId, row.org_id.clone())?, row.into_api()?)))
        .transpose()
}

/// A CA of `product_id` whose subject is `subject_der`, with its certificate's DER as PEM text,
/// to check a device certificate's issuer and signature against.
pub async fn issuers_in_product(
    conn: &mut Conn,
    product_id: &ProductId,
    subject_der: &[u8],
) -> sqlx::Result<Vec<(CaId, String)>> {
    let rows: Vec<(String, String)> = query(
        "SELECT id, certificate_pem FROM certificate_authorities \
         WHERE product_id = $1 AND subject_der = $2 ORDER BY id",
    )
    .bind(product_id.as_str())
    .bind(subject_der.to_vec())
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(id, pem)| Ok((parse_id!(CaId, id)?, pem)))
        .collect()
}

pub struct ListFilter<'a> {
    pub product_id: Option<&'a ProductId>,
    pub after: Option<&'a str>,
    pub limit: u32,
}

/// One page, limited to the products a scoped API key sees (`within`; `None`: every product).
pub async fn list_within(
    conn: &mut Conn,
    org_id: &OrgId,
    filter: &ListFilter<'_>,
    within: Option<&[ProductId]>,
) -> sqlx::Result<Vec<CertificateAuthority>> {
    let mut qb = query(SELECT);
    qb.push(" WHERE a.org_id = ")
        .push_bind(org_id.as_str().to_owned());
    super::api_keys::push_scope(&mut qb, "a.product_id", within);
    if let Some(product_id) = filter.product_id {
        qb.push(" AND a.product_id = ")
            .push_bind(product_id.as_str().to_owned());
    }
    if let Some(after) = filter.after {
        qb.push(" AND a.id > ").push_bind(after.to_owned());
    }
    qb.push(" ORDER BY a.id LIMIT ")
        .push_bind(i64::from(filter.limit));
    let rows: Vec<Row> = qb.fetch_all(&mut *conn).await?;
    rows.into_iter().map(Row::into_api).collect()
}

/// What a new CA row holds besides its IDs.
pub struct NewCa<'a> {
    pub name: &'a str,
    pub certificate_pem: &'a str,
    pub fingerprint: &'a str,
    pub subject_der: &'a [u8],
    pub subject: &'a str,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub enabled: bool,
    pub settings: Settings<'a>,
}

/// The columns an update may change.
pub struct Settings<'a> {
    pub jitp_enabled: bool,
    pub jitp_cohort_id: Option<&'a CohortId>,
    pub jitp_tags: &'a [String],
    pub jitp_target: Option<&'a str>,
    pub jitp_description: &'a str,
}

pub async fn insert(
    conn: &mut Conn,
    org_id: &OrgId,
    id: &CaId,
    product_id: &ProductId,
    ca: &NewCa<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let s = &ca.settings;
    query(
        "INSERT INTO certificate_authorities (id, org_id, product_id, name, certificate_pem, \
         fingerprint, subject_der, subject, not_before, not_after, enabled, jitp_enabled, \
         jitp_cohort_id, jitp_tags, jitp_target, jitp_description, created_at, updated_at, \
         revision) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, 1)",
    )
    .bind(id.as_str())
    .bind(org_id.as_str())
    .bind(product_id.as_str())
    .bind(ca.name)
    .bind(ca.certificate_pem)
    .bind(ca.fingerprint)
    .bind(ca.subject_der.to_vec())
    .bind(ca.subject)
    .bind(ca.not_before)
    .bind(ca.not_after)
    .bind(ca.enabled)
    .bind(s.jitp_enabled)
    .bind(s.jitp_cohort_id.map(|c| c.as_str().to_owned()))
    .bind(tags_to_text(s.jitp_tags))
    .bind(s.jitp_target)
    .bind(s.jitp_description)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes every mutable column and bumps the revision.
pub async fn update(
    conn: &mut Conn,
    id: &CaId,
    enabled: bool,
    s: &Settings<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    query(
        "UPDATE certificate_authorities SET enabled = $1, jitp_enabled = $2, \
         jitp_cohort_id = $3, jitp_tags = $4, jitp_target = $5, jitp_description = $6, \
         updated_at = $7, revision = revision + 1 WHERE id = $8",
    )
    .bind(enabled)
    .bind(s.jitp_enabled)
    .bind(s.jitp_cohort_id.map(|c| c.as_str().to_owned()))
    .bind(tags_to_text(s.jitp_tags))
    .bind(s.jitp_target)
    .bind(s.jitp_description)
    .bind(now)
    .bind(id.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes the CA; the device certificates that chained to it keep their rows with no CA.
pub async fn delete(conn: &mut Conn, id: &CaId) -> sqlx::Result<()> {
    query("DELETE FROM certificate_authorities WHERE id = $1")
        .bind(id.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}
