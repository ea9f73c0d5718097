//! Configuration tables: each level's current document and its revisions, a product's schema
//! and secret paths, the distinct override sets a change must be checked against, and the
//! revisions a check-in's effective configuration is cached by.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::{Conn, corrupt, query};
use crate::api::config::ConfigLevel;
use crate::api::{CohortId, DeviceId, ProductId};

/// Whose document: a product's, a cohort's override or a device's override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub product_id: ProductId,
    pub cohort_id: Option<CohortId>,
    pub device_id: Option<DeviceId>,
}

impl Owner {
    pub fn level(&self) -> ConfigLevel {
        match (&self.cohort_id, &self.device_id) {
            (_, Some(_)) => ConfigLevel::Device,
            (Some(_), None) => ConfigLevel::Cohort,
            (None, None) => ConfigLevel::Product,
        }
    }

    /// The ID the document is kept under.
    pub fn id(&self) -> &str {
        match (&self.cohort_id, &self.device_id) {
            (_, Some(device)) => device.as_str(),
            (Some(cohort), None) => cohort.as_str(),
            (None, None) => self.product_id.as_str(),
        }
    }
}

/// A level's current document, or one of its revisions.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDocument {
    pub revision: i64,
    pub document: Map<String, Value>,
    pub message: String,
    pub at: DateTime<Utc>,
    pub key_id: Option<String>,
    pub key_name: Option<String>,
}

#[derive(sqlx::FromRow)]
struct DocumentRow {
    revision: i64,
    document: String,
    message: String,
    at: DateTime<Utc>,
    key_id: Option<String>,
    key_name: Option<String>,
}

impl DocumentRow {
    fn into_stored(self) -> sqlx::Result<StoredDocument> {
        Ok(StoredDocument {
            revision: self.revision,
            document: parse_object(&self.document)?,
            message: self.message,
            at: self.at,
            key_id: self.key_id,
            key_name: self.key_name,
        })
    }
}

pub(crate) fn parse_object(text: &str) -> sqlx::Result<Map<String, Value>> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(corrupt("configuration document", text)),
    }
}

/// The current document of `owner_id`, `None` while it was never set.
pub async fn current(conn: &mut Conn, owner_id: &str) -> sqlx::Result<Option<StoredDocument>> {
    let row: Option<DocumentRow> = query(
        "SELECT d.revision, d.document, r.message, d.updated_at AS at, d.key_id, d.key_name \
         FROM config_documents d \
         JOIN config_revisions r ON r.owner_id = d.owner_id AND r.revision = d.revision \
         WHERE d.owner_id = $1",
    )
    .bind(owner_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(DocumentRow::into_stored).transpose()
}

/// One kept revision of `owner_id`.
pub async fn revision(
    conn: &mut Conn,
    owner_id: &str,
    revision: i64,
) -> sqlx::Result<Option<StoredDocument>> {
    let row: Option<DocumentRow> = query(
        "SELECT revision, document, message, created_at AS at, key_id, key_name \
         FROM config_revisions WHERE owner_id = $1 AND revision = $2",
    )
    .bind(owner_id)
    .bind(revision)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(DocumentRow::into_stored).transpose()
}

/// Revisions of `owner_id`, newest first, below `before` when given.
pub async fn revisions(
    conn: &mut Conn,
    owner_id: &str,
    before: Option<i64>,
    limit: u32,
) -> sqlx::Result<Vec<StoredDocument>> {
    let mut q = query(
        "SELECT revision, document, message, created_at AS at, key_id, key_name \
         FROM config_revisions WHERE owner_id = ",
    );
    q.push_bind(owner_id.to_owned());
    if let Some(before) = before {
        q.push(" AND revision < ").push_bind(before);
    }
    q.push(" ORDER BY revision DESC LIMIT ")
        .push_bind(i64::from(limit));
    let rows: Vec<DocumentRow> = q.fetch_all(&mut *conn).await?;
    rows.into_iter().map(DocumentRow::into_stored).collect()
}

/// Who wrote a revision, as the audit log names them.
pub struct Author<'a> {
    pub key_id: Option<&'a str>,
    pub key_name: Option<&'a str>,
}

/// Makes `document` revision `revision` of `owner` (the caller checked it follows the current
/// one): the current document and a kept revision.
pub async fn write(
    conn: &mut Conn,
    owner: &Owner,
    revision: i64,
    document: &Map<String, Value>,
    message: &str,
    author: &Author<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let text = Value::Object(document.clone()).to_string();
    let level = owner.level().as_str();
    let cohort = owner.cohort_id.as_ref().map(|c| c.as_str().to_owned());
    let device = owner.device_id.as_ref().map(|d| d.as_str().to_owned());
    query(
        "INSERT INTO config_documents (owner_id, product_id, cohort_id, device_id, level, \
         revision, document, updated_at, key_id, key_name) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (owner_id) DO UPDATE SET product_id = excluded.product_id, \
         revision = excluded.revision, document = excluded.document, \
         updated_at = excluded.updated_at, key_id = excluded.key_id, key_name = excluded.key_name",
    )
    .bind(owner.id())
    .bind(owner.product_id.as_str())
    .bind(cohort.clone())
    .bind(device.clone())
    .bind(level)
    .bind(revision)
    .bind(text.clone())
    .bind(now)
    .bind(author.key_id)
    .bind(author.key_name)
    .execute(&mut *conn)
    .await?;
    query(
        "INSERT INTO config_revisions (owner_id, product_id, cohort_id, device_id, level, \
         revision, document, message, created_at, key_id, key_name) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(owner.id())
    .bind(owner.product_id.as_str())
    .bind(cohort)
    .bind(device)
    .bind(level)
    .bind(revision)
    .bind(text)
    .bind(message)
    .bind(now)
    .bind(author.key_id)
    .bind(author.key_name)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A product's schema and secret paths.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    pub schema: Option<Value>,
    pub schema_revision: i64,
    pub schema_updated_at: Option<DateTime<Utc>>,
    pub secrets: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct SettingsRow {
    schema_document: Option<String>,
    schema_revision: i64,
    schema_updated_at: Option<DateTime<Utc>>,
    secrets: String,
}

pub async fn settings(conn: &mut Conn, product_id: &ProductId) -> sqlx::Result<Settings> {
    let row: Option<SettingsRow> = query(
        "SELECT schema_document, schema_revision, schema_updated_at, secrets \
         FROM config_settings WHERE product_id = $1",
    )
    .bind(product_id.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(Settings::default());
    };
    let schema = row
        .schema_document
        .map(|text| serde_json::from_str(&text).map_err(|_| corrupt("JSON Schema", &text)))
        .transpose()?;
    let secrets =
        serde_json::from_str(&row.secrets).map_err(|_| corrupt("secret list", &row.secrets))?;
    Ok(Settings {
        schema,
        schema_revision: row.schema_revision,
        schema_updated_at: row.schema_updated_at,
        secrets,
    })
}

/// Writes a product's settings whole.
pub async fn write_settings(
    conn: &mut Conn,
    product_id: &ProductId,
    settings: &Settings,
) -> sqlx::Result<()> {
    let schema = settings.schema.as_ref().map(Value::to_string);
    let secrets = serde_json::to_string(&settings.secrets).unwrap_or_else(|_| "[]".into());
    query(
        "INSERT INTO config_settings (product_id, schema_document, schema_revision, \
         schema_updated_at, secrets) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (product_id) DO UPDATE SET schema_document = excluded.schema_document, \
         schema_revision = excluded.schema_revision, \
         schema_updated_at = excluded.schema_updated_at, secrets = excluded.secrets",
    )
    .bind(product_id.as_str())
    .bind(schema)
    .bind(settings.schema_revision)
    .bind(settings.schema_updated_at)
    .bind(secrets)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An override as a change is checked against it: whose, and its document.
#[derive(Debug, Clone, PartialEq)]
pub struct OverrideSet {
    pub cohort_id: Option<CohortId>,
    /// The cohort's name, for messages.
    pub cohort: Option<String>,
    pub document: Map<String, Value>,
}

#[derive(sqlx::FromRow)]
struct OverrideRow {
    cohort_id: Option<String>,
    cohort: Option<String>,
    document: String,
}

impl OverrideRow {
    fn into_set(self) -> sqlx::Result<OverrideSet> {
        let cohort_id = self
            .cohort_id
            .map(|c| CohortId::parse(&c).ok_or_else(|| super::corrupt_id(&c)))
            .transpose()?;
        Ok(OverrideSet {
            cohort_id,
            cohort: self.cohort,
            document: parse_object(&self.document)?,
        })
    }
}

/// Every cohort override of a product.
pub async fn cohort_overrides(
    conn: &mut Conn,
    product_id: &ProductId,
) -> sqlx::Result<Vec<OverrideSet>> {
    let rows: Vec<OverrideRow> = query(
        "SELECT o.cohort_id, c.name AS cohort, o.document FROM config_documents o \
         JOIN cohorts c ON c.id = o.cohort_id \
         WHERE o.product_id = $1 AND o.level = 'cohort'",
    )
    .bind(product_id.as_str())
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(OverrideRow::into_set).collect()
}

/// Which device overrides to read: all of a product's, or those of one cohort's devices (or
/// of the devices in no cohort).
pub enum DeviceOverrides<'a> {
    All,
    InCohort(Option<&'a CohortId>),
}

/// The distinct (cohort, device override) pairs among a product's devices: every effective
/// configuration a device override makes is one of these, however many devices share it.
pub async fn device_override_sets(
    conn: &mut Conn,
    product_id: &ProductId,
    which: DeviceOverrides<'_>,
) -> sqlx::Result<Vec<OverrideSet>> {
    let mut q = query(
        "SELECT DISTINCT d.cohort_id, c.name AS cohort, o.document FROM config_documents o \
         JOIN devices d ON d.id = o.device_id AND d.product_id = o.product_id \
         LEFT JOIN cohorts c ON c.id = d.cohort_id \
         WHERE o.level = 'device' AND o.product_id = ",
    );
    q.push_bind(product_id.as_str().to_owned());
    match which {
        DeviceOverrides::All => {}
        DeviceOverrides::InCohort(Some(cohort)) => {
            q.push(" AND d.cohort_id = ")
                .push_bind(cohort.as_str().to_owned());
        }
        DeviceOverrides::InCohort(None) => {
            q.push(" AND d.cohort_id IS NULL");
        }
    }
    let rows: Vec<OverrideRow> = q.fetch_all(&mut *conn).await?;
    rows.into_iter().map(OverrideRow::into_set).collect()
}

/// The revisions a device's effective configuration is made of: its product's, its cohort's
/// and its own (0 for a level with no document). Read with the rest of a check-in's context
/// (`device_offers::context`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EffectiveKey {
    pub product_id: ProductId,
    pub product_revision: i64,
    pub cohort_id: Option<CohortId>,
    pub cohort_revision: i64,
    /// Only when the device has an override: devices without one share the entry.
    pub device_id: Option<DeviceId>,
    pub device_revision: i64,
}

/// A document at exactly `revision` (the current one, or a kept one when it moved on since
/// the key was read); `None` for revision 0.
pub async fn document_at(
    conn: &mut Conn,
    owner_id: &str,
    revision: i64,
) -> sqlx::Result<Option<Map<String, Value>>> {
    if revision == 0 {
        return Ok(None);
    }
    let row: Option<(String,)> =
        query("SELECT document FROM config_revisions WHERE owner_id = $1 AND revision = $2")
            .bind(owner_id)
            .bind(revision)
            .fetch_optional(&mut *conn)
            .await?;
    row.map(|(text,)| parse_object(&text)).transpose()
}

/// For the statistics: each device of a product with what its effective configuration is
/// made of and what it reported.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeviceConfigRow {
    pub cohort_id: Option<String>,
    pub device_document: Option<String>,
    pub reported: Option<i64>,
    pub failure: Option<String>,
}

/// Counts of a product's devices by (cohort, has an override, reported revision, failure):
/// the devices without an override fold into a few groups, so the statistics read no
/// document per device.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportedGroup {
    pub cohort_id: Option<String>,
    pub reported: Option<i64>,
    pub failure: Option<String>,
    pub devices: i64,
}

pub async fn reported_without_override(
    conn: &mut Conn,
    product_id: &ProductId,
) -> sqlx::Result<Vec<ReportedGroup>> {
    query(
        "SELECT d.cohort_id, s.config_revision AS reported, s.config_failure AS failure, \
         COUNT(*) AS devices FROM devices d \
         LEFT JOIN device_status s ON s.device_id = d.id \
         WHERE d.product_id = $1 AND NOT EXISTS (SELECT 1 FROM config_documents o \
             WHERE o.owner_id = d.id AND o.product_id = d.product_id) \
         GROUP BY d.cohort_id, s.config_revision, s.config_failure",
    )
    .bind(product_id.as_str())
    .fetch_all(&mut *conn)
    .await
}

pub async fn reported_with_override(
    conn: &mut Conn,
    product_id: &ProductId,
) -> sqlx::Result<Vec<DeviceConfigRow>> {
    query(
        "SELECT d.cohort_id, o.document AS device_document, \
         s.config_revision AS reported, s.config_failure AS failure FROM devices d \
         JOIN config_documents o ON o.owner_id = d.id AND o.product_id = d.product_id \
         LEFT JOIN device_status s ON s.device_id = d.id \
         WHERE d.product_id = $1",
    )
    .bind(product_id.as_str())
    .fetch_all(&mut *conn)
    .await
}
