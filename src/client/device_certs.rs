//! `/v1/devices/{device}/certificates`: a device's X.509 client certificates.

use futures_util::Stream;
use reqwest::Method;

use super::{ApiClient, paging};
use crate::api::firmware::PageQuery;
use crate::api::{AddDeviceCert, DeviceCertificate, RevokeDeviceCert};
use crate::error::Result;

/// One device's certificates, the device addressed by identifier or `dev_` ID.
pub struct DeviceCerts<'a> {
    client: &'a ApiClient,
}

impl<'a> DeviceCerts<'a> {
    pub(super) fn new(client: &'a ApiClient) -> Self {
        DeviceCerts { client }
    }

    pub async fn add(&self, device: &str, body: &AddDeviceCert) -> Result<DeviceCertificate> {
        let url = self.client.url(&["devices", device, "certificates"])?;
        self.client.write(Method::POST, url, body).await
    }

    pub async fn revoke(
        &self,
        device: &str,
        cert: &str,
        body: &RevokeDeviceCert,
    ) -> Result<DeviceCertificate> {
        let url = self
            .client
            .url(&["devices", device, "certificates", cert, "revoke"])?;
        self.client.write(Method::POST, url, body).await
    }

    /// Every certificate of `device`, oldest first; with `max`, stops fetching once more than
    /// `max` arrived.
    pub fn list_up_to(
        &self,
        device: &str,
        max: Option<u64>,
    ) -> impl Stream<Item = Result<DeviceCertificate>> + use<> {
        let path = vec!["devices".into(), device.to_owned(), "certificates".into()];
        paging::stream(self.client.clone(), path, PageQuery::default(), max)
    }
}
