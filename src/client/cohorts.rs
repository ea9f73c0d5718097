//! `/v1/products/{product}/cohorts` and the org-wide `/v1/cohorts` list.

use futures_util::Stream;
use reqwest::Method;

use super::{ApiClient, paging};
use crate::api::{Cohort, CohortListQuery, CreateCohort, Page, PagedQuery, UpdateCohort};
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

    /// One page of the org-wide list (filtered by `query.product` when set).
    pub async fn list(&self, query: &CohortListQuery) -> Result<Page<Cohort>> {
        let mut url = self.client.url(&["cohorts"])?;
        url.query_pairs_mut().extend_pairs(query.to_pairs());
        self.client.get(url).await
    }

    /// Every matching cohort, page after page.
    pub fn list_all(&self, query: CohortListQuery) -> impl Stream<Item = Result<Cohort>> + use<> {
        self.list_up_to(query, None)
    }

    /// Like [`Cohorts::list_all`], but stops fetching once more than `max` arrived.
    pub fn list_up_to(
        &self,
        query: CohortListQuery,
        max: Option<u64>,
    ) -> impl Stream<Item = Result<Cohort>> + use<> {
        paging::stream(self.client.clone(), vec!["cohorts".into()], query, max)
    }
}
