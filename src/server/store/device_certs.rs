//! Device certificates table: reads (with the device's identifier), listing per device,
//! registration and revocation.

use chrono::{DateTime, Utc};

use super::{Conn, parse_id, query};
use crate::api::{CaId, DeviceCertId, DeviceCertSource, DeviceCertificate, DeviceId, OrgId};

const SELECT: &str = "SELECT k.id, k.org_id, k.device_id, d.identifier AS device, k.ca_id, k.fingerprint, \
     k.subject, k.serial, k.not_before, k.not_after, k.source, k.created_at, k.revoked_at, \
     k.revoked_reason \
     FROM device_certificates k JOIN device_details d ON d.device_id = k.device_id";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    org_id: String,
    device_id: String,
    device: String,
    ca_id: Option<String>,
    fingerprint: String,
    subject: String,
    serial: String,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
    source: String,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    revoked_reason: Option<String>,
}

impl Row {
    fn into_api(self) -> sqlx::Result<DeviceCertificate> {
        let source = DeviceCertSource::parse(&self.source)
            .ok_or_else(|| super::corrupt("certificate source", &self.source))?;
        Ok(DeviceCertificate {
            id: parse_id!(DeviceCertId, self.id)?,
            device_id: parse_id!(DeviceId, self.device_id)?,
            device: self.device,
            ca_id: self.ca_id.map(|id| parse_id!(CaId, id)).transpose()?,
            fingerprint: self.fingerprint,
            subject: self.subject,
            serial: self.serial,
            not_before: self.not_before,
            not_after: self.not_after,
            source,
            created_at: self.created_at,
            revoked_at: self.revoked_at,
            revoked_reason: self.revoked_reason,
        })
    }
}

/// A certificate of `device_id` by ID.
pub async fn get(
    conn: &mut Conn,
    device_id: &DeviceId,
    id: &DeviceCertId,
) -> sqlx::Result<Option<DeviceCertificate>> {
    let sql = format!("{SELECT} WHERE k.device_id = $1 AND k.id = $2");
    let row: Option<Row> = query(&sql)
        .bind(device_id.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    row.map(Row::into_api).transpose()
}

/// The certificate with this fingerprint, in any organization (fingerprints are unique in the
/// whole service), with the organization it belongs to.
pub async fn by_fingerprint(
    conn: &mut Conn,
    fingerprint: &str,
) -> sqlx::Result<Option<(OrgId, DeviceCertificate)>> {
    let sql = format!("{SELECT} WHERE k.fingerprint = $1");
    let row: Option<Row> = query(&sql)
        .bind(fingerprint)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|row| Ok((parse_id!(OrgId, row.org_id.clone())?, row.into_api()?)))
        .transpose()
}

/// One page of a device's certificates, oldest first.
pub async fn list(
    conn: &mut Conn,
    device_id: &DeviceId,
    after: Option<&str>,
    limit: u32,
) -> sqlx::Result<Vec<DeviceCertificate>> {
    let mut qb = query(SELECT);
    qb.push(" WHERE k.device_id = ")
        .push_bind(device_id.as_str().to_owned());
    if let Some(after) = after {
        qb.push(" AND k.id > ").push_bind(after.to_owned());
    }
    qb.push(" ORDER BY k.id LIMIT ").push_bind(i64::from(limit));
    let rows: Vec<Row> = qb.fetch_all(&mut *conn).await?;
    rows.into_iter().map(Row::into_api).collect()
}

/// What a new certificate row holds besides its IDs.
pub struct NewDeviceCert<'a> {
    pub ca_id: Option<&'a CaId>,
    pub fingerprint: &'a str,
    pub certificate_pem: &'a str,
    pub subject: &'a str,
    pub serial: &'a str,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub source: DeviceCertSource,
}

pub async fn insert(
    conn: &mut Conn,
    org_id: &OrgId,
    id: &DeviceCertId,
    device_id: &DeviceId,
    cert: &NewDeviceCert<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    query(
        "INSERT INTO device_certificates (id, org_id, device_id, ca_id, fingerprint, \
         certificate_pem, subject, serial, not_before, not_after, source, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(id.as_str())
    .bind(org_id.as_str())
    .bind(device_id.as_str())
    .bind(cert.ca_id.map(|c| c.as_str().to_owned()))
    .bind(cert.fingerprint)
    .bind(cert.certificate_pem)
    .bind(cert.subject)
    .bind(cert.serial)
    .bind(cert.not_before)
    .bind(cert.not_after)
    .bind(cert.source.as_str())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Revokes one certificate (unless it already is).
pub async fn revoke(
    conn: &mut Conn,
    id: &DeviceCertId,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    query(
        "UPDATE device_certificates SET revoked_at = $1, revoked_reason = $2 \
         WHERE id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(id.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
