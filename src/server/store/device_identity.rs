//! The device listener's SQL: the CA a client certificate names as issuer, the certificate's
//! own row, the device its subject CN names; recording a presented certificate, and the
//! once-a-minute gate of refusal events. Devices provisioned just in time are written in
//! batches (`jitp_batch`).

use chrono::{DateTime, Utc};

use super::{Conn, query, tags_from_text};
use crate::api::DeviceCertId;

/// A registered CA, as the listener needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaRow {
    pub id: String,
    pub org_id: String,
    pub product_id: String,
    pub certificate_pem: String,
    pub enabled: bool,
    pub jitp_enabled: bool,
    pub jitp_cohort_id: Option<String>,
    pub jitp_tags: String,
    pub jitp_target: Option<String>,
    pub jitp_description: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

/// Registered CAs whose subject is one of `subjects` (the DER names a certificate chain
/// gives as issuers).
pub async fn cas_by_subject(conn: &mut Conn, subjects: &[Vec<u8>]) -> sqlx::Result<Vec<CaRow>> {
    if subjects.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = query(
        "SELECT id, org_id, product_id, certificate_pem, enabled, jitp_enabled, jitp_cohort_id, \
         jitp_tags, jitp_target, jitp_description, not_before, not_after FROM certificate_authorities \
         WHERE subject_der IN (",
    );
    for (i, subject) in subjects.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.push_bind(subject.clone());
    }
    q.push(") ORDER BY id");
    q.fetch_all(conn).await
}

/// A device certificate's row, found by fingerprint.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CertRow {
    pub org_id: String,
    pub device_id: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_reason: Option<String>,
}

pub async fn cert_by_fingerprint(
    conn: &mut Conn,
    fingerprint: &str,
) -> sqlx::Result<Option<CertRow>> {
    query(
        "SELECT org_id, device_id, created_at, revoked_at, revoked_reason \
         FROM device_certificates WHERE fingerprint = $1",
    )
    .bind(fingerprint)
    .fetch_optional(conn)
    .await
}

/// A device, as the listener needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeviceRow {
    pub id: String,
    pub org_id: String,
    pub identifier: String,
    pub product_id: String,
    pub cohort_id: Option<String>,
    pub needs_provisioning: bool,
    pub credentials_revoked_at: Option<DateTime<Utc>>,
}

const DEVICE_COLUMNS: &str = "id, org_id, identifier, product_id, cohort_id, needs_provisioning, \
     credentials_revoked_at";

pub async fn device_by_identifier(
    conn: &mut Conn,
    org_id: &str,
    identifier: &str,
) -> sqlx::Result<Option<DeviceRow>> {
    query(format!(
        "SELECT {DEVICE_COLUMNS} FROM device_records WHERE org_id = $1 AND identifier = $2"
    ))
    .bind(org_id)
    .bind(identifier)
    .fetch_optional(conn)
    .await
}

/// What a certificate row records about the certificate itself.
pub struct NewCert<'a> {
    pub org_id: &'a str,
    pub device_id: &'a str,
    pub ca_id: &'a str,
    pub fingerprint: &'a str,
    pub pem: &'a str,
    pub subject: &'a str,
    pub serial: &'a str,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

/// Records a certificate a device presented (source `presented`); returns its ID.
pub async fn insert_presented(
    conn: &mut Conn,
    cert: &NewCert<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<DeviceCertId> {
    let id = DeviceCertId::generate();
    insert_certs(conn, &[(&id, cert)], now).await?;
    Ok(id)
}

/// Records certificates devices presented, as [`insert_presented`] would one by one, in
/// multi-row inserts (a batch of devices provisioned just in time).
pub async fn insert_presented_all(
    conn: &mut Conn,
    certs: &[NewCert<'_>],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    for chunk in certs.chunks(CERTS_PER_STATEMENT) {
        let ids: Vec<DeviceCertId> = chunk.iter().map(|_| DeviceCertId::generate()).collect();
        let rows: Vec<(&DeviceCertId, &NewCert<'_>)> = ids.iter().zip(chunk).collect();
        insert_certs(conn, &rows, now).await?;
    }
    Ok(())
}

/// Rows per multi-row insert of certificates: 11 arguments a row keeps a statement near the
/// check-in writer's size.
const CERTS_PER_STATEMENT: usize = 100;

/// The one INSERT of presented certificates; each placeholder once and in order, so SQLite
/// runs it with `?`.
async fn insert_certs(
    conn: &mut Conn,
    rows: &[(&DeviceCertId, &NewCert<'_>)],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let mut q = query(
        "INSERT INTO device_certificates (id, org_id, device_id, ca_id, fingerprint, \
         certificate_pem, subject, serial, not_before, not_after, source, created_at) VALUES ",
    );
    for (i, (id, cert)) in rows.iter().enumerate() {
        q.push(if i == 0 { "(" } else { ", (" });
        q.push_bind(id.as_str().to_owned()).push(", ");
        q.push_bind(cert.org_id).push(", ");
        q.push_bind(cert.device_id).push(", ");
        q.push_bind(cert.ca_id).push(", ");
        q.push_bind(cert.fingerprint).push(", ");
        q.push_bind(cert.pem).push(", ");
        q.push_bind(cert.subject).push(", ");
        q.push_bind(cert.serial).push(", ");
        q.push_bind(cert.not_before).push(", ");
        q.push_bind(cert.not_after).push(", 'presented', ");
        q.push_bind(now).push(")");
    }
    q.execute(conn).await?;
    Ok(())
}

/// Clears `needs_provisioning` (a moved device presented a certificate of its new product);
/// whether it was set.
pub async fn mark_provisioned(
    conn: &mut Conn,
    device_id: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = query(
        "UPDATE devices SET needs_provisioning = FALSE, updated_at = $2, revision = revision + 1 \
         WHERE id = $1 AND needs_provisioning",
    )
    .bind(device_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The CA's JITP tags (stored as the devices' tag column text).
pub fn jitp_tags(ca: &CaRow) -> sqlx::Result<Vec<String>> {
    tags_from_text(&ca.jitp_tags)
}

/// Takes the refusal-event slot of (`subject`, `reason`) when its last event is at least
/// `every_ms` old (or there was none): whether the caller should record an event now. One
/// atomic upsert, so two replicas never both take it.
pub async fn take_refusal_slot(
    conn: &mut Conn,
    subject: &str,
    reason: &str,
    now_ms: i64,
    every_ms: i64,
) -> sqlx::Result<bool> {
    let taken: Option<(String,)> = query(
        "INSERT INTO device_refusals (subject, reason, last_event_at) VALUES ($1, $2, $3) \
         ON CONFLICT (subject, reason) DO UPDATE SET last_event_at = excluded.last_event_at \
         WHERE device_refusals.last_event_at <= excluded.last_event_at - $4 \
         RETURNING subject",
    )
    .bind(subject)
    .bind(reason)
    .bind(now_ms)
    .bind(every_ms)
    .fetch_optional(&mut *conn)
    .await?;
    if taken.is_some() {
        // Slots older than an hour are of no use to the next refusal; keep the table small.
        query("DELETE FROM device_refusals WHERE last_event_at < $1")
            .bind(now_ms - 3_600_000)
            .execute(conn)
            .await?;
    }
    Ok(taken.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::test_pools::{execute as run, seed_org_and_products};
    use crate::server::store::{auth_epoch, now, test_pools};

    /// Every change that can make a device's cached identity stale bumps the auth epoch, once
    /// per statement at most on PostgreSQL; what only admits more (new rows, the listener's
    /// own `needs_provisioning` clearing, JITP settings) does not.
    #[tokio::test]
    async fn exactly_the_changes_that_stale_a_device_identity_bump_the_epoch() {
        for (_guard, pool) in test_pools::all().await {
            let at = now().to_rfc3339();
            seed_org_and_products(&pool).await;
            run(
                &pool,
                &format!(
                    "INSERT INTO cohorts (id, org_id, product_id, name, created_at, updated_at) \
                     VALUES ('c', 'o', 'p', 'c', '{at}', '{at}')"
                ),
            )
            .await;
            let start = auth_epoch::read(&pool).await.expect("read").auth;
            let device = |id: &str| {
                format!(
                    "INSERT INTO devices (id, org_id, product_id, updated_at) \
                     VALUES ('{id}', 'o', 'p', '{at}')"
                )
            };
            let details = |id: &str| {
                format!(
                    "INSERT INTO device_details (device_id, org_id, identifier, created_at) \
                     VALUES ('{id}', 'o', '{id}', '{at}')"
                )
            };
            let changes = [
                (device("d1"), 0),
                (details("d1"), 0),
                (device("d2"), 0),
                (details("d2"), 0),
                (
                    format!(
                        "INSERT INTO certificate_authorities (id, org_id, product_id, name, \
                     certificate_pem, fingerprint, subject_der, subject, not_before, not_after, \
                     created_at, updated_at) SELECT 'ca', 'o', 'p', 'ca', 'pem', 'f', \
                     subject_der, 's', '{at}', '{at}', '{at}', '{at}' FROM \
                     (SELECT {} AS subject_der) x",
                        if pool.postgres_pool().is_some() {
                            "'\\x00'::bytea"
                        } else {
                            "X'00'"
                        }
                    ),
                    0,
                ),
                (
                    format!(
                        "INSERT INTO device_certificates (id, org_id, device_id, ca_id, fingerprint, \
                     certificate_pem, subject, serial, not_before, not_after, source, created_at) \
                     VALUES ('dc', 'o', 'd1', 'ca', 'x', 'pem', 's', '01', '{at}', '{at}', \
                     'presented', '{at}')"
                    ),
                    0,
                ),
                (
                    "UPDATE devices SET needs_provisioning = FALSE".to_owned(),
                    0,
                ),
                ("UPDATE device_details SET description = 'x'".to_owned(), 0),
                (
                    "UPDATE certificate_authorities SET jitp_enabled = TRUE".to_owned(),
                    0,
                ),
                (
                    format!("UPDATE device_certificates SET revoked_at = '{at}'"),
                    1,
                ),
                (
                    "UPDATE certificate_authorities SET enabled = FALSE".to_owned(),
                    1,
                ),
                // -1: several rows in one statement; PostgreSQL bumps once, SQLite per row.
                // -2: at least once.
                ("UPDATE devices SET cohort_id = 'c'".to_owned(), -1),
                ("UPDATE devices SET cohort_id = NULL".to_owned(), -1),
                (
                    "UPDATE devices SET product_id = 'q' WHERE id = 'd2'".to_owned(),
                    1,
                ),
                (
                    "UPDATE device_details SET identifier = 'renamed' WHERE device_id = 'd2'"
                        .to_owned(),
                    1,
                ),
                // The device and, by cascade, its certificate.
                ("DELETE FROM devices WHERE id = 'd1'".to_owned(), -2),
                ("DELETE FROM certificate_authorities".to_owned(), 1),
            ];
            let mut expected = start;
            for (sql, bumps) in changes {
                run(&pool, &sql).await;
                let epoch = auth_epoch::read(&pool).await.expect("read").auth;
                if bumps == -2 || (bumps < 0 && pool.postgres_pool().is_none()) {
                    assert!(epoch > expected, "{sql} bumps the epoch");
                    expected = epoch;
                } else if bumps < 0 {
                    expected += 1;
                    assert_eq!(epoch, expected, "{sql} bumps once");
                } else {
                    expected += bumps;
                    assert_eq!(epoch, expected, "after {sql}");
                }
            }
        }
    }

    #[tokio::test]
    async fn a_refusal_slot_is_taken_once_a_minute() {
        for (_guard, pool) in test_pools::all().await {
            let mut conn = pool.acquire_writer().await.expect("writer");
            let minute = 60_000;
            assert!(
                take_refusal_slot(&mut conn, "f1", "revoked", 1_000_000, minute)
                    .await
                    .expect("take")
            );
            assert!(
                !take_refusal_slot(&mut conn, "f1", "revoked", 1_030_000, minute)
                    .await
                    .expect("take")
            );
            assert!(
                take_refusal_slot(&mut conn, "f1", "expired", 1_030_000, minute)
                    .await
                    .expect("take")
            );
            assert!(
                take_refusal_slot(&mut conn, "f2", "revoked", 1_030_000, minute)
                    .await
                    .expect("take")
            );
            assert!(
                take_refusal_slot(&mut conn, "f1", "revoked", 1_060_000, minute)
                    .await
                    .expect("take")
            );
        }
    }
}
