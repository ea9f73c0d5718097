//! `/v1/bulk/…`: device move, cohort assign/unassign, device import and device-level
//! configuration overrides, one request each.

use std::io;

use reqwest::Method;

use super::{ApiClient, Payload, error, import_body};
use crate::api::{
    AssignCohort, BulkResult, ConfigureDevices, ImportDevices, ImportRow, MoveDevices,
    UnassignCohort,
};
use crate::error::Result;

/// Bulk device operations; each is one all-or-nothing request.
pub struct Bulk<'a> {
    client: &'a ApiClient,
}

impl<'a> Bulk<'a> {
    pub(super) fn new(client: &'a ApiClient) -> Self {
        Bulk { client }
    }

    pub async fn move_devices(&self, body: &MoveDevices) -> Result<BulkResult> {
        let url = self.client.url(&["bulk", "move"])?;
        self.client.write_bulk(url, body).await
    }

    pub async fn assign(&self, body: &AssignCohort) -> Result<BulkResult> {
        let url = self.client.url(&["bulk", "assign"])?;
        self.client.write_bulk(url, body).await
    }

    pub async fn unassign(&self, body: &UnassignCohort) -> Result<BulkResult> {
        let url = self.client.url(&["bulk", "unassign"])?;
        self.client.write_bulk(url, body).await
    }

    pub async fn configure(&self, body: &ConfigureDevices) -> Result<BulkResult> {
        let url = self.client.url(&["bulk", "config"])?;
        self.client.write_bulk(url, body).await
    }

    /// Imports the rows `rows()` yields with the settings of `head` (whose `devices` are
    /// ignored), encoding them while they are sent. `rows` is called once per attempt, so each
    /// attempt reads its rows afresh; a row it cannot read fails the request with that error.
    pub async fn import<R, I>(&self, head: &ImportDevices, rows: R) -> Result<BulkResult>
    where
        R: Fn() -> I + Sync,
        I: Iterator<Item = io::Result<ImportRow>> + Send + 'static,
    {
        let url = self.client.url(&["bulk", "import"])?;
        let make = || import_body::body(head, rows());
        let response = self
            .client
            .execute_with(
                Method::POST,
                url,
                Some(Payload::Stream(&make)),
                self.client.bulk_options(),
            )
            .await?;
        error::decode(self.client, response).await
    }
}
