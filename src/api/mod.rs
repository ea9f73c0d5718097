//! Wire types shared by the client and the service: resources, requests, list pages, errors
//! and IDs. The JSON the CLI prints with `-o json` is exactly these types serialized.

pub mod api_key;
pub mod bulk;
pub mod ca;
pub mod cohort;
pub mod config;
pub mod device;
pub mod device_api;
pub mod device_cert;
pub mod device_status;
pub mod error;
pub mod event;
pub mod firmware;
pub mod ids;
pub mod page;
pub mod product;
pub mod rollout;
pub mod stats;
pub mod validate;
pub mod whole;

pub use api_key::{
    ApiKey, ApiKeyListQuery, CreateApiKey, CreatedApiKey, Role, ScopedProduct, Whoami,
};
pub use bulk::{
    AssignCohort, BulkListing, BulkResult, ConfigureDevices, ImportDevices, ImportRow, MoveDevices,
    Refusal, Selection, UnassignCohort,
};
pub use ca::{
    CaListQuery, CertificateAuthority, CreateCa, Jitp, JitpSettings, UpdateCa, UpdateJitp,
};
pub use cohort::{Cohort, CohortListQuery, CreateCohort, UpdateCohort};
pub use device::{CreateDevice, Device, DeviceListQuery, DeviceSort, UpdateDevice};
pub use device_cert::{AddDeviceCert, DeviceCertSource, DeviceCertificate, RevokeDeviceCert};
pub use device_status::DeviceStatus;
pub use error::{ErrorBody, ErrorCode, FieldError};
pub use event::{AuditAction, Event, EventListQuery, EventResult};
pub use firmware::{
    AddSignature, Artifact, ArtifactVersion, Binary, BinaryListQuery, BinaryParts, BinarySignature,
    BinaryState, BinaryUpload, Bundle, BundleItem, CompleteBinary, CreateArtifact, CreateBinary,
    CreateBundle, CreateRelease, CreateSigningKey, CreateVersion, FirmwarePolicy, PageQuery,
    PartTarget, ProductFirmwarePolicy, ReceivedPart, Release, ReleaseListQuery, SigningKey,
    UpdateRelease,
};
pub use ids::ApiKeyId;
pub use ids::{ArtifactId, BinaryId, BundleId, ReleaseId, SigningKeyId, VersionId};
pub use ids::{CaId, DeviceCertId};
pub use ids::{CohortId, DeviceId, EventId, OrgId, ProductId};
pub use page::{Page, PagedQuery};
pub use product::{CreateProduct, Product, ProductListQuery, ProductState, UpdateProduct};
pub use rollout::{
    DEFAULT_MIN_REPORTS, PromoteRelease, RolloutGuard, RolloutState, RolloutStep, format_schedule,
    parse_percent, parse_rate, parse_schedule,
};
pub use stats::Stats;

/// Every route lives under this prefix.
pub const BASE_PATH: &str = "/v1";

/// Header carrying a client-chosen key that makes a retried write safe.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// Serde helper for PATCH fields where `null` means "clear" and absence means "leave alone".
pub mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
    where
        T: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Option::<T>::deserialize(deserializer).map(Some)
    }

    pub fn serialize<T, S>(value: &Option<Option<T>>, serializer: S) -> Result<S::Ok, S::Error>
    where
        T: Serialize,
        S: Serializer,
    {
        match value {
            // Callers pair this with `skip_serializing_if = "Option::is_none"`.
            None | Some(None) => serializer.serialize_none(),
            Some(Some(inner)) => inner.serialize(serializer),
        }
    }
}
