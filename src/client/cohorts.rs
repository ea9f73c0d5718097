//! `/v1/products/{product}/cohorts` and the org-wide `/v1/cohorts` list.

use futures_util::Stream;
use reqwest::Method;

use super::{ApiClient, paging};
use crate::api::{Cohort, CohortListQuery, CreateCohort, UpdateCohort};
use crate::error::Result;

/// Cohorts, addressed by product (name or ID) plus cohort name or `coh_` ID.
pub struct Cohorts<'a> {
    client: &'a ApiClient,
}

impl<'a> Cohorts<'a> {
    pub(super) fn new(client: &'a ApiClient) -> Self {
        Cohorts { client }
    }

    pub async fn create(&self, product: &str, body: &CreateCohort) -> Result<Cohort> {
        let url = self.client.url(&["products", product, "cohorts"])?;
        self.client.write(Method::POST, url, body).await
    }

    pub async fn get(&self, product: &str, cohort: &str) -> Result<Cohort> {
        let url = self.client.url(&["products", product, "cohorts", cohort])?;
        self.client.get(url).await
    }

    pub async fn update(&self, product: &str, cohort: &str, body: &UpdateCohort) -> Result<Cohort> {
        let url = self.client.url(&["products", product, "cohorts", cohort])?;
        self.client.write(Method::PATCH, url, body).await
    }

    pub async fn delete(&self, product: &str, cohort: &str) -> Result<()> {
        let url = self.client.url(&["products", product, "cohorts", cohort])?;
        self.client.delete(url).await
    }

    /// Every matching cohort of the org-wide list (only `query.product`'s when set), page after
    /// page; with `max`, stops fetching once more than `max` arrived.
    pub fn list_up_to(
        &self,
        query: CohortListQuery,
        max: Option<u64>,
    ) -> impl Stream<Item = Result<Cohort>> + use<> {
        paging::stream(self.client.clone(), vec!["cohorts".into()], query, max)
    }
}
