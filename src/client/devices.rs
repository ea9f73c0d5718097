//! `/v1/devices`: create, read, list, update and delete devices.

use futures_util::Stream;
use reqwest::Method;

use super::{ApiClient, paging};
use crate::api::{CreateDevice, Device, DeviceListQuery, DeviceStatus, UpdateDevice};
use crate::error::Result;

/// Devices, addressed by identifier or `dev_` ID.
pub struct Devices<'a> {
    client: &'a ApiClient,
}

impl<'a> Devices<'a> {
    pub(super) fn new(client: &'a ApiClient) -> Self {
        Devices { client }
    }

    pub async fn create(&self, body: &CreateDevice) -> Result<Device> {
        let url = self.client.url(&["devices"])?;
        self.client.write(Method::POST, url, body).await
    }

    pub async fn get(&self, device: &str) -> Result<Device> {
        self.client
            .get(self.client.url(&["devices", device])?)
            .await
    }

    /// What the device's check-ins and update reports said.
    pub async fn status(&self, device: &str) -> Result<DeviceStatus> {
        self.client
            .get(self.client.url(&["devices", device, "status"])?)
            .await
    }

    pub async fn update(&self, device: &str, body: &UpdateDevice) -> Result<Device> {
        let url = self.client.url(&["devices", device])?;
        self.client.write(Method::PATCH, url, body).await
    }

    pub async fn delete(&self, device: &str) -> Result<()> {
        self.client
            .delete(self.client.url(&["devices", device])?)
            .await
    }

    /// Every matching device, page after page; with `max`, stops fetching once more than
    /// `max` arrived.
    pub fn list_up_to(
        &self,
        query: DeviceListQuery,
        max: Option<u64>,
    ) -> impl Stream<Item = Result<Device>> + use<> {
        paging::stream(self.client.clone(), vec!["devices".into()], query, max)
    }
}
