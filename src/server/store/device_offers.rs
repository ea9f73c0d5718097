//! The reads behind a check-in's answer: a device with its cohort's current release and the
//! revisions of its effective configuration in one indexed query, the binaries of a bundle for
//! one target, and their signatures with the signing keys.

use super::configs::EffectiveKey;
use super::firmware::binaries::BlobLayout;
use super::{Conn, parse_id, query};
use crate::api::device_api::UpdateState;
use crate::api::{
    BinaryId, BundleId, CohortId, DeviceId, ProductId, ReleaseId, RolloutState, SigningKeyId,
};

/// What offer resolution needs to know about a device.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceContext {
    pub identifier: String,
    pub product_id: ProductId,
    pub product: String,
    pub cohort: Option<String>,
    pub quarantined: bool,
    /// The target an operator set on the device.
    pub target: Option<String>,
    /// The target the device reported at its last flushed check-in.
    pub reported_target: Option<String>,
    /// The newest release of the device's cohort (none without a cohort or release).
    pub release: Option<CurrentRelease>,
    /// The revisions its effective configuration is made of, read in the same statement so a
    /// check-in costs one round trip to the database.
    pub config: EffectiveKey,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CurrentRelease {
    pub id: ReleaseId,
    pub product_id: ProductId,
    pub bundle_id: BundleId,
    pub bundle: String,
    pub rollout_percent: u8,
    pub required: bool,
    /// Halted: offered to no device that has not started it.
    pub halted: bool,
    /// The device's latest reported state, when it is about this release.
    pub state: Option<UpdateState>,
}

#[derive(sqlx::FromRow)]
struct ContextRow {
    identifier: String,
    product_id: String,
    product: String,
    cohort_id: Option<String>,
    cohort: Option<String>,
    quarantined: bool,
    target: Option<String>,
    reported_target: Option<String>,
    release_id: Option<String>,
    release_product_id: Option<String>,
    bundle_id: Option<String>,
    bundle: Option<String>,
    rollout_percent: Option<i64>,
    required: Option<bool>,
    rollout_state: Option<String>,
    state: Option<String>,
    product_config_revision: Option<i64>,
    cohort_config_revision: Option<i64>,
    device_config_revision: Option<i64>,
}

/// The device, its cohort's current release and its configuration revisions, in one
/// statement: the release is found through `releases (cohort_id, id)`, everything else by
/// primary key. A device's configuration override counts only in the product it was made in.
pub async fn context(conn: &mut Conn, device_id: &DeviceId) -> sqlx::Result<Option<DeviceContext>> {
    let row: Option<ContextRow> = query(
        "SELECT d.identifier, d.product_id, p.name AS product, d.cohort_id, c.name AS cohort, \
         d.quarantined, d.target, ds.reported_target, \
         r.id AS release_id, r.product_id AS release_product_id, r.bundle_id, \
         bn.name AS bundle, r.rollout_percent, r.required, r.rollout_state, du.state, \
         pc.revision AS product_config_revision, cc.revision AS cohort_config_revision, \
         dc.revision AS device_config_revision \
         FROM device_records d JOIN products p ON p.id = d.product_id \
         LEFT JOIN cohorts c ON c.id = d.cohort_id \
         LEFT JOIN device_status ds ON ds.device_id = d.id \
         LEFT JOIN releases r ON r.id = (SELECT r2.id FROM releases r2 \
             WHERE r2.cohort_id = d.cohort_id ORDER BY r2.id DESC LIMIT 1) \
         LEFT JOIN bundles bn ON bn.id = r.bundle_id \
         LEFT JOIN device_updates du ON du.device_id = d.id AND du.release_id = r.id \
         LEFT JOIN config_documents pc ON pc.owner_id = d.product_id \
         LEFT JOIN config_documents cc ON cc.owner_id = d.cohort_id \
         LEFT JOIN config_documents dc ON dc.owner_id = d.id AND dc.product_id = d.product_id \
         WHERE d.id = $1",
    )
    .bind(device_id.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let release = match (
        row.release_id,
        row.release_product_id,
        row.bundle_id,
        row.bundle,
    ) {
        (Some(id), Some(product_id), Some(bundle_id), Some(bundle)) => Some(CurrentRelease {
            id: parse_id!(ReleaseId, id)?,
            product_id: parse_id!(ProductId, product_id)?,
            bundle_id: parse_id!(BundleId, bundle_id)?,
            bundle,
            rollout_percent: u8::try_from(row.rollout_percent.unwrap_or(0)).unwrap_or(100),
            required: row.required.unwrap_or(false),
            halted: row.rollout_state.as_deref() == Some(RolloutState::Halted.as_str()),
            state: row.state.as_deref().map(parse_state).transpose()?,
        }),
        _ => None,
    };
    let product_id = parse_id!(ProductId, row.product_id)?;
    let config = EffectiveKey {
        product_id: product_id.clone(),
        product_revision: row.product_config_revision.unwrap_or(0),
        cohort_id: row.cohort_id.map(|c| parse_id!(CohortId, c)).transpose()?,
        cohort_revision: row.cohort_config_revision.unwrap_or(0),
        device_id: row.device_config_revision.map(|_| device_id.clone()),
        device_revision: row.device_config_revision.unwrap_or(0),
    };
    Ok(Some(DeviceContext {
        identifier: row.identifier,
        product_id,
        product: row.product,
        cohort: row.cohort,
        quarantined: row.quarantined,
        target: row.target,
        reported_target: row.reported_target,
        release,
        config,
    }))
}

pub(crate) fn parse_state(text: &str) -> sqlx::Result<UpdateState> {
    UpdateState::parse(text).ok_or_else(|| super::corrupt("update state", text))
}

/// A ready binary of a bundle, as offered (signatures are read apart: they can change).
#[derive(Debug, Clone, PartialEq)]
pub struct BundleBinary {
    pub binary_id: BinaryId,
    pub artifact: String,
    pub version: String,
    pub target: String,
    pub size: u64,
    pub sha256: String,
    /// Where its content lies in the blob store, and in which layout.
    pub blob_prefix: String,
    pub layout: BlobLayout,
}

#[derive(sqlx::FromRow)]
struct BinaryRow {
    id: String,
    artifact: String,
    version: String,
    target: String,
    size: i64,
    sha256: String,
    blob_prefix: String,
    blob_layout: String,
}

/// The ready binaries of `bundle_id` built for `target`, in bundle order.
pub async fn bundle_binaries(
    conn: &mut Conn,
    bundle_id: &BundleId,
    target: &str,
) -> sqlx::Result<Vec<BundleBinary>> {
    let rows: Vec<BinaryRow> = query(
        "SELECT b.id, a.name AS artifact, v.version, b.target, b.size, b.sha256, \
         b.blob_prefix, b.blob_layout FROM bundle_binaries bb JOIN binaries b ON b.id = bb.binary_id \
         JOIN artifacts a ON a.id = b.artifact_id JOIN artifact_versions v ON v.id = b.version_id \
         WHERE bb.bundle_id = $1 AND b.target = $2 AND b.state = 'ready' ORDER BY bb.position",
    )
    .bind(bundle_id.as_str())
    .bind(target)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(BundleBinary {
                binary_id: parse_id!(BinaryId, r.id)?,
                artifact: r.artifact,
                version: r.version,
                target: r.target,
                size: u64::try_from(r.size).unwrap_or(0),
                sha256: r.sha256,
                blob_prefix: r.blob_prefix,
                layout: BlobLayout::parse(&r.blob_layout)?,
            })
        })
        .collect()
}

/// Every (artifact, version) of a bundle, whatever the target: what a device runs after it
/// reported the bundle's release `succeeded`.
pub async fn bundle_versions(
    conn: &mut Conn,
    bundle_id: &BundleId,
    target: Option<&str>,
) -> sqlx::Result<Vec<(String, String, String)>> {
    query(
        "SELECT a.name, v.version, b.sha256 FROM bundle_binaries bb \
         JOIN binaries b ON b.id = bb.binary_id JOIN artifacts a ON a.id = b.artifact_id \
         JOIN artifact_versions v ON v.id = b.version_id \
         WHERE bb.bundle_id = $1 AND ($2 = '' OR b.target = $2) ORDER BY bb.position",
    )
    .bind(bundle_id.as_str())
    .bind(target.unwrap_or(""))
    .fetch_all(conn)
    .await
}

/// One signature of an offered binary, with its key's public half.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyedSignature {
    pub binary_id: BinaryId,
    pub key_id: SigningKeyId,
    pub key_name: String,
    pub public_key: String,
    pub signature: String,
}

#[derive(sqlx::FromRow)]
struct SignatureRow {
    binary_id: String,
    key_id: String,
    key_name: String,
    public_key: String,
    signature: String,
}

/// The signatures of `binaries`, each with the key that made it.
pub async fn signatures(
    conn: &mut Conn,
    binaries: &[BinaryId],
) -> sqlx::Result<Vec<KeyedSignature>> {
    if binaries.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = query(
        "SELECT s.binary_id, s.key_id, k.name AS key_name, k.public_key, s.signature \
         FROM binary_signatures s JOIN signing_keys k ON k.id = s.key_id WHERE s.binary_id IN (",
    );
    q.push_list(binaries.iter().map(|id| id.as_str().to_owned()));
    q.push(") ORDER BY s.binary_id, s.created_at, k.name");
    let rows: Vec<SignatureRow> = q.fetch_all(conn).await?;
    rows.into_iter()
        .map(|r| {
            Ok(KeyedSignature {
                binary_id: parse_id!(BinaryId, r.binary_id)?,
                key_id: parse_id!(SigningKeyId, r.key_id)?,
                key_name: r.key_name,
                public_key: r.public_key,
                signature: r.signature,
            })
        })
        .collect()
}
