//! `/v1/devices`: create, read, list, update and delete devices.

use futures_util::{Stream, StreamExt};
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

    /// Every matching device as the service wrote it (JSON text, not decoded), from one
    /// streamed answer: for printing the list as JSON unchanged.
    pub fn list_all_json(
        &self,
        mut query: DeviceListQuery,
    ) -> impl Stream<Item = Result<Box<serde_json::value::RawValue>>> + use<> {
        query.all = Some(true);
        paging::stream_all(self.client.clone(), vec!["devices".to_owned()], query)
    }

    /// Every matching device; with `max`, stops fetching once more than `max` arrived. Without
    /// `max` the service streams the whole list in one answer (`all=true`); with it the
    /// client follows pages.
    pub fn list_up_to(
        &self,
        mut query: DeviceListQuery,
        max: Option<u64>,
    ) -> impl Stream<Item = Result<Device>> + use<> {
        let path = vec!["devices".to_owned()];
        match max {
            None => {
                query.all = Some(true);
                paging::stream_all(self.client.clone(), path, query).left_stream()
            }
            Some(_) => paging::stream(self.client.clone(), path, query, max).right_stream(),
        }
    }
}
