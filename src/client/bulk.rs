//! `/v1/bulk/…`: device move, cohort assign/unassign and device import, one request each.

use reqwest::Method;

use super::ApiClient;
use crate::api::{AssignCohort, BulkResult, ImportDevices, MoveDevices, UnassignCohort};
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
        self.client.write(Method::POST, url, body).await
    }

    pub async fn assign(&self, body: &AssignCohort) -> Result<BulkResult> {
        let url = self.client.url(&["bulk", "assign"])?;
        self.client.write(Method::POST, url, body).await
    }

    pub async fn unassign(&self, body: &UnassignCohort) -> Result<BulkResult> {
        let url = self.client.url(&["bulk", "unassign"])?;
        self.client.write(Method::POST, url, body).await
    }

    pub async fn import(&self, body: &ImportDevices) -> Result<BulkResult> {
        let url = self.client.url(&["bulk", "import"])?;
        self.client.write(Method::POST, url, body).await
    }
}
