//! The device a device-API request comes from, as its certificate identified it.

use crate::api::{CohortId, DeviceId, OrgId, ProductId};

/// Put into each device-API request's extensions once the client certificate is verified and
/// leads to a device; handlers read it instead of any credential of their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePrincipal {
    pub org_id: OrgId,
    pub device_id: DeviceId,
    /// The certificate's subject CN, which is the device's identifier.
    pub identifier: String,
    pub product_id: ProductId,
    pub cohort_id: Option<CohortId>,
}
