//! Firmware: artifacts (per product), their versions, binaries (one per target per version,
//! uploaded in parts), Ed25519 signing keys and signatures, bundles, and releases to cohorts.
//!
//! What a signature signs: the 32 raw bytes of the binary's SHA-256 digest (not the hex text),
//! with Ed25519 (RFC 8032). Public keys travel as standard base64 of their 32 raw bytes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{
    ArtifactId, BinaryId, BundleId, CohortId, ProductId, ReleaseId, SigningKeyId, VersionId,
};
use super::page::{PagedQuery, push_page_pairs};
use super::rollout::{RolloutGuard, RolloutState, RolloutStep};

/// Request header carrying a part's SHA-256 (lowercase hex) on `PUT …/parts/{n}`.
pub const PART_SHA256_HEADER: &str = "x-fleet-part-sha256";
/// Request header carrying a part's CRC32C (Castagnoli; 8 lowercase hex digits of its value) on
/// `PUT …/parts/{n}`, instead of [`PART_SHA256_HEADER`]: a hardware checksum for the transfer,
/// with the whole file's SHA-256 verified on completion.
pub const PART_CRC32C_HEADER: &str = "x-fleet-part-crc32c";
/// Response header carrying a download's SHA-256 (lowercase hex).
pub const SHA256_HEADER: &str = "x-fleet-sha256";

/// A firmware type of one product (e.g. `app`, `rootfs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Artifact {
    pub id: ArtifactId,
    pub product_id: ProductId,
    pub product: String,
    /// Unique within the product.
    pub name: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
}

/// `POST /v1/products/{product}/artifacts`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateArtifact {
    /// Lowercase letters, digits, `-`, `_`, `.`; not only dots; not shaped like an ID (`art_` and 32 hex digits).
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            max_length = 64,
            pattern = "^[a-z0-9._-]*[a-z0-9_-][a-z0-9._-]*$"
        )
    )]
    pub name: String,
    #[cfg_attr(
        feature = "server",
        schema(
            max_length = 1024,
            pattern = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$"
        )
    )]
    #[serde(default)]
    pub description: Option<String>,
}

/// One version of an artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ArtifactVersion {
    pub id: VersionId,
    pub product_id: ProductId,
    pub artifact_id: ArtifactId,
    pub artifact: String,
    /// Unique within the artifact, e.g. `1.4.0`.
    pub version: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
}

/// `POST /v1/products/{product}/artifacts/{artifact}/versions`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateVersion {
    /// Letters, digits, `.`, `-`, `_`, `+` and `~`; not only dots.
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            max_length = 64,
            pattern = "^[A-Za-z0-9._+~-]*[A-Za-z0-9_+~-][A-Za-z0-9._+~-]*$"
        )
    )]
    pub version: String,
    #[cfg_attr(
        feature = "server",
        schema(
            max_length = 1024,
            pattern = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$"
        )
    )]
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BinaryState {
    /// Parts are being received; not downloadable.
    Uploading,
    /// Every part arrived and the whole digest matched; immutable from now on.
    Ready,
}

impl BinaryState {
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryState::Uploading => "uploading",
            BinaryState::Ready => "ready",
        }
    }
}

/// A verified Ed25519 signature over the binary's SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct BinarySignature {
    pub key_id: SigningKeyId,
    pub key_name: String,
    /// Standard base64 of the 64-byte signature.
    pub signature: String,
    pub created_at: DateTime<Utc>,
}

/// The file of one artifact version for one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Binary {
    pub id: BinaryId,
    pub product_id: ProductId,
    pub product: String,
    pub artifact_id: ArtifactId,
    pub artifact: String,
    pub version_id: VersionId,
    pub version: String,
    /// Hardware triple, e.g. `armv7-unknown-linux-gnueabihf`.
    pub target: String,
    pub size: u64,
    /// Lowercase hex SHA-256 of the whole file; empty while an upload that declares it on
    /// completion (`POST …/complete` with `sha256`) is in progress.
    pub sha256: String,
    pub state: BinaryState,
    /// Every part but the last has exactly this size.
    pub part_size: u64,
    pub part_count: u64,
    pub signatures: Vec<BinarySignature>,
    pub created_at: DateTime<Utc>,
    pub ready_at: Option<DateTime<Utc>>,
}

/// `POST /v1/products/{product}/artifacts/{artifact}/versions/{version}/binaries`: declares the
/// file. Answers 201 with a new upload, 200 with the existing binary when one with this size and
/// digest exists (ready or still uploading, to resume), and 409 when a ready binary for this
/// target has another digest. An unfinished upload with another digest is started over.
///
/// Without `sha256` (the uploader hashes the file while it sends the parts and names the digest
/// on completion), the existing binary for the target is the answer when it is ready (compare
/// its `sha256`) or an unfinished upload of this size (resume: compare the received parts'
/// checksums); an unfinished upload of another size is started over.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateBinary {
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            max_length = 64,
            pattern = "^[A-Za-z0-9._-]*[A-Za-z0-9_-][A-Za-z0-9._-]*$"
        )
    )]
    pub target: String,
    #[serde(deserialize_with = "super::whole::required")]
    pub size: u64,
    /// Lowercase hex SHA-256 of the whole file; may be left out and given to
    /// `POST …/complete` instead.
    #[cfg_attr(feature = "server", schema(pattern = "^[0-9a-f]{64}$"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// `POST /v1/binaries/{binary}/complete`: the whole file's SHA-256, unless the upload declared
/// it already (then, if given, it is what the parts must hash to, and replaces the declared one).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CompleteBinary {
    /// Lowercase hex SHA-256 of the whole file.
    #[cfg_attr(feature = "server", schema(pattern = "^[0-9a-f]{64}$"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// Where one part goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PartTarget {
    /// 1-based.
    pub number: u64,
    /// Byte offset of the part in the file.
    pub offset: u64,
    pub size: u64,
    /// `PUT` the part's bytes here, with its SHA-256 in `x-fleet-part-sha256` or its CRC32C in
    /// `x-fleet-part-crc32c`. Relative to the
    /// service URL for the local store; absolute for object stores that presign.
    pub url: String,
}

/// The answer to [`CreateBinary`]: the binary and, unless it is ready, where its parts go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct BinaryUpload {
    pub binary: Binary,
    /// Every part of the file (empty once ready); see `GET …/parts` for which arrived.
    pub parts: Vec<PartTarget>,
    /// `POST` here once every part arrived.
    pub complete_url: String,
}

/// A part the service holds, verified by the checksum it was sent with: `sha256` or `crc32c`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ReceivedPart {
    pub number: u64,
    pub size: u64,
    /// Lowercase hex SHA-256 of the part, when it was sent with `x-fleet-part-sha256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// CRC32C of the part (8 lowercase hex digits), when it was sent with `x-fleet-part-crc32c`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32c: Option<String>,
    /// The service's name for this receipt of the part (its object key's last segment): the
    /// SHA-256, or for a part checked by CRC32C a tag unique to each receipt, so the bytes
    /// behind a recorded part never change under a reader. Not part of the API.
    #[serde(skip)]
    #[cfg_attr(feature = "server", schema(ignore))]
    pub tag: String,
}

/// 8 lowercase hex digits: a CRC32C as the part header carries it.
pub fn validate_crc32c(value: &str) -> Result<(), String> {
    let ok = value.len() == 8
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{value}` is not a CRC32C (8 lowercase hex digits)"
        ))
    }
}

/// `GET /v1/binaries/{binary}/parts`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct BinaryParts {
    pub binary_id: BinaryId,
    pub state: BinaryState,
    pub part_size: u64,
    pub part_count: u64,
    pub received: Vec<ReceivedPart>,
}

/// `GET /v1/binaries?product=&artifact=&version=&target=&state=`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "server", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct BinaryListQuery {
    /// Product name or ID.
    pub product: Option<String>,
    /// Artifact name (needs `product`) or ID.
    pub artifact: Option<String>,
    pub version: Option<String>,
    pub target: Option<String>,
    pub state: Option<BinaryState>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl PagedQuery for BinaryListQuery {
    fn set_page(&mut self, limit: Option<u32>, cursor: Option<String>) {
        self.limit = limit;
        self.cursor = cursor;
    }

    fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        let fields = [
            ("product", &self.product),
            ("artifact", &self.artifact),
            ("version", &self.version),
            ("target", &self.target),
        ];
        for (key, value) in fields {
            if let Some(value) = value {
                pairs.push((key, value.clone()));
            }
        }
        if let Some(state) = self.state {
            pairs.push(("state", state.as_str().to_owned()));
        }
        push_page_pairs(&mut pairs, self.limit, &self.cursor);
        pairs
    }
}

/// `POST /v1/binaries/{binary}/signatures`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AddSignature {
    /// Signing key name or ID.
    pub key: String,
    /// Standard base64 (padded) of the 64-byte Ed25519 signature over the raw SHA-256 digest;
    /// surrounding blanks are ignored.
    #[cfg_attr(
        feature = "server",
        schema(
            pattern = "^[\\u0009-\\u000D\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*[A-Za-z0-9+/]{85}[AQgw]==[\\u0009-\\u000D\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*$"
        )
    )]
    pub signature: String,
}

/// An organization's Ed25519 public key that binary signatures are checked against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SigningKey {
    pub id: SigningKeyId,
    /// Unique in the organization.
    pub name: String,
    /// Standard base64 of the 32-byte public key.
    pub public_key: String,
    /// First 16 hex digits of the public key's SHA-256, to compare keys at a glance.
    pub fingerprint: String,
    pub created_at: DateTime<Utc>,
}

/// `POST /v1/signing-keys`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateSigningKey {
    /// Lowercase letters, digits, `-`, `_`, `.`; not only dots; not shaped like an ID (`sgk_` and 32 hex digits).
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            max_length = 64,
            pattern = "^[a-z0-9._-]*[a-z0-9_-][a-z0-9._-]*$"
        )
    )]
    pub name: String,
    /// Standard base64 (padded) of the 32-byte public key, or an SPKI PEM (`BEGIN PUBLIC KEY`);
    /// surrounding blanks are ignored. The 32 bytes must encode a point of Ed25519's curve,
    /// which a pattern cannot say: other values get 422.
    #[cfg_attr(
        feature = "server",
        schema(
            pattern = "^[\\u0009-\\u000D\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*([A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=[\\u0009-\\u000D\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*|-----BEGIN[\\s\\S]*)$"
        )
    )]
    pub public_key: String,
}

/// One binary of a bundle, in bundle order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct BundleItem {
    pub binary_id: BinaryId,
    pub artifact: String,
    pub version: String,
    pub target: String,
    pub size: u64,
    pub sha256: String,
    /// How many verified signatures the binary has.
    pub signatures: u64,
}

/// An immutable ordered set of ready binaries of one product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Bundle {
    pub id: BundleId,
    pub product_id: ProductId,
    pub product: String,
    /// Unique within the product.
    pub name: String,
    pub description: String,
    pub binaries: Vec<BundleItem>,
    pub created_at: DateTime<Utc>,
}

/// `POST /v1/products/{product}/bundles`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateBundle {
    /// Lowercase letters, digits, `-`, `_`, `.`; not only dots; not shaped like an ID (`bnd_` and 32 hex digits).
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            max_length = 64,
            pattern = "^[a-z0-9._-]*[a-z0-9_-][a-z0-9._-]*$"
        )
    )]
    pub name: String,
    #[cfg_attr(
        feature = "server",
        schema(
            max_length = 1024,
            pattern = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$"
        )
    )]
    #[serde(default)]
    pub description: Option<String>,
    /// Binary IDs, in order, each once; each ready and of this product.
    #[cfg_attr(
        feature = "server",
        schema(schema_with = bundle_binaries_schema)
    )]
    pub binaries: Vec<String>,
}

/// A cohort pointed at a bundle. A cohort's releases form its history: the newest is current.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Release {
    pub id: ReleaseId,
    pub product_id: ProductId,
    pub product: String,
    pub cohort_id: CohortId,
    pub cohort: String,
    pub bundle_id: BundleId,
    pub bundle: String,
    /// Share of the cohort's devices that should install it, 0–100.
    #[cfg_attr(feature = "server", schema(minimum = 0, maximum = 100))]
    pub rollout_percent: u8,
    /// Devices must install it (no opting out).
    pub required: bool,
    /// The cohort's release before this one.
    pub previous_release_id: Option<ReleaseId>,
    /// Active, halted (offered to no new device) or completed (its schedule took its last step).
    pub state: RolloutState,
    /// Steps the rollout percentage takes by itself; empty without a schedule.
    pub schedule: Vec<RolloutStep>,
    /// The schedule's step applied last, from 1; `null` without a schedule.
    pub current_step: Option<u32>,
    /// When the current rollout percentage applied (creation, a step, a promotion, a resume).
    pub step_applied_at: DateTime<Utc>,
    /// When the next step's wait has passed (it applies then if the guard holds); `null` when
    /// no step is left or the release is halted.
    pub next_step_at: Option<DateTime<Utc>>,
    /// Halts the release by itself when failures cross a rate; `null` without one.
    pub guard: Option<RolloutGuard>,
    /// Devices that reported a final state for this release (`succeeded`, `failed`,
    /// `rolled_back`), each counted once.
    pub final_reports: u64,
    /// Of those, devices whose final state is a failure (`failed` or `rolled_back`, and no
    /// later `succeeded`).
    pub failed_reports: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub revision: i64,
}

/// `POST /v1/products/{product}/releases`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateRelease {
    /// Cohort name or ID, of this product.
    pub cohort: String,
    /// Bundle name or ID; must belong to the cohort's product (409 otherwise).
    pub bundle: String,
    /// Default 100.
    #[cfg_attr(feature = "server", schema(minimum = 0, maximum = 100))]
    #[serde(default, deserialize_with = "super::whole::optional")]
    pub rollout_percent: Option<u8>,
    #[serde(default)]
    pub required: Option<bool>,
    /// Steps the rollout takes by itself, e.g. `1%,10%@1h,50%@6h,100%@24h`: the first applies
    /// now, each later one when its wait (from the previous step) has passed and the guard
    /// holds. Replaces `rollout_percent`.
    /// Steps are `PERCENT%[@WAIT]`, comma-separated: 1–100%, each above the one before, the first
    /// without a wait, a wait like `30m`, `6h` or `2d`; a schedule that breaks these is 422.
    #[cfg_attr(feature = "server", schema(min_length = 1, max_length = 1024))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// Halt the release when more than this percentage (0–100) of its final reports are
    /// failures.
    #[cfg_attr(feature = "server", schema(minimum = 0, maximum = 100))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halt_on_failure_rate: Option<f64>,
    /// Final reports the guard needs before it judges (default 20).
    #[cfg_attr(feature = "server", schema(minimum = 1))]
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::whole::optional"
    )]
    pub min_reports: Option<u64>,
}

/// `PATCH /v1/products/{product}/releases/{release}`: absent fields are left alone.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateRelease {
    #[cfg_attr(feature = "server", schema(minimum = 0, maximum = 100))]
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::whole::optional"
    )]
    pub rollout_percent: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// A new schedule; it starts over at its first step now. Setting `rollout_percent` instead
    /// takes the release off its schedule.
    /// Steps are `PERCENT%[@WAIT]`, comma-separated: 1–100%, each above the one before, the first
    /// without a wait, a wait like `30m`, `6h` or `2d`; a schedule that breaks these is 422.
    #[cfg_attr(feature = "server", schema(min_length = 1, max_length = 1024))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    #[cfg_attr(feature = "server", schema(minimum = 0, maximum = 100))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halt_on_failure_rate: Option<f64>,
    #[cfg_attr(feature = "server", schema(minimum = 1))]
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::whole::optional"
    )]
    pub min_reports: Option<u64>,
}

/// `GET /v1/products/{product}/releases?cohort=`: oldest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "server", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ReleaseListQuery {
    /// Cohort name or ID.
    pub cohort: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl PagedQuery for ReleaseListQuery {
    fn set_page(&mut self, limit: Option<u32>, cursor: Option<String>) {
        self.limit = limit;
        self.cursor = cursor;
    }

    fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(cohort) = &self.cohort {
            pairs.push(("cohort", cohort.clone()));
        }
        push_page_pairs(&mut pairs, self.limit, &self.cursor);
        pairs
    }
}

/// A product's firmware rules as set: the body of `PUT /v1/products/{product}/firmware-policy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FirmwarePolicy {
    /// Every binary of a released bundle must carry at least one verified signature.
    #[serde(default)]
    pub require_signed_firmware: bool,
}

/// A product's firmware rules with the product they belong to: the answer of `GET` and `PUT
/// /v1/products/{product}/firmware-policy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ProductFirmwarePolicy {
    pub product_id: ProductId,
    /// The product's name.
    pub product: String,
    /// Every binary of a released bundle must carry at least one verified signature.
    pub require_signed_firmware: bool,
}

/// Plain list query (`limit`, `cursor`) for artifacts, versions, bundles and signing keys.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "server", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl PagedQuery for PageQuery {
    fn set_page(&mut self, limit: Option<u32>, cursor: Option<String>) {
        self.limit = limit;
        self.cursor = cursor;
    }

    fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        push_page_pairs(&mut pairs, self.limit, &self.cursor);
        pairs
    }
}

/// Most binaries one bundle holds.
pub const BUNDLE_BINARIES_MAX: usize = 100;

/// A bundle's `binaries`: 1 to [`BUNDLE_BINARIES_MAX`] distinct binary IDs.
#[cfg(feature = "server")]
fn bundle_binaries_schema() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(<BinaryId as utoipa::PartialSchema>::schema())
        .min_items(Some(1))
        .max_items(Some(BUNDLE_BINARIES_MAX))
        .unique_items(true)
        .description(Some(
            "Binary IDs, in order, each once; each ready and of this product",
        ))
        .build()
}

pub const VERSION_MAX: usize = 64;

/// Version strings: 1–64 of ASCII letters, digits, `.`, `-`, `_`, `+`, `~`; not only dots.
pub fn validate_version(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("version must not be empty".into());
    }
    if value.len() > VERSION_MAX {
        return Err(format!(
            "version is {} characters long; the limit is {VERSION_MAX}",
            value.len()
        ));
    }
    if let Some(bad) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+' | '~')))
    {
        return Err(format!(
            "version `{value}` contains {bad:?}; use letters, digits, `.`, `-`, `_`, `+` and `~`"
        ));
    }
    if value.chars().all(|c| c == '.') {
        return Err(format!("version `{value}` is only dots"));
    }
    Ok(())
}

/// 64 lowercase hex digits.
pub fn validate_sha256(value: &str) -> Result<(), String> {
    let ok = value.len() == 64
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{value}` is not a SHA-256 digest (64 lowercase hex digits)"
        ))
    }
}

/// The 32 bytes of a lowercase hex SHA-256.
pub fn digest_bytes(hex: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if hex.len() != 64 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_digests_are_checked() {
        assert!(validate_version("1.4.0-rc.1+build~2").is_ok());
        assert!(validate_version("").is_err());
        assert!(validate_version("..").is_err());
        assert!(validate_version("1/2").is_err());
        assert!(validate_sha256(&"a".repeat(64)).is_ok());
        assert!(validate_sha256(&"A".repeat(64)).is_err());
        assert!(validate_sha256("abc").is_err());
    }
}
