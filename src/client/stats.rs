//! `GET …/stats` of a product, a cohort and a release.

use super::ApiClient;
use crate::api::Stats;
use crate::error::Result;

/// Fleet statistics, each scope addressed as its other routes address it.
pub struct StatsClient<'a> {
    client: &'a ApiClient,
}

impl<'a> StatsClient<'a> {
    pub(super) fn new(client: &'a ApiClient) -> Self {
        StatsClient { client }
    }

    pub async fn product(&self, product: &str) -> Result<Stats> {
        let url = self.client.url(&["products", product, "stats"])?;
        self.client.get(url).await
    }

    pub async fn cohort(&self, product: &str, cohort: &str) -> Result<Stats> {
        let url = self
            .client
            .url(&["products", product, "cohorts", cohort, "stats"])?;
        self.client.get(url).await
    }

    pub async fn release(&self, product: &str, release: &str) -> Result<Stats> {
        let url = self
            .client
            .url(&["products", product, "releases", release, "stats"])?;
        self.client.get(url).await
    }
}
