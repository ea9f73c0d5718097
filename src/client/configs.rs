//! `…/config` of a product, a cohort and a device, and a product's configuration schema.

use reqwest::Method;
use reqwest::Url;

use super::ApiClient;
use crate::api::config::{
    Config, ConfigDiff, ConfigRevisionPage, ConfigSchema, PatchConfig, PutConfig, PutConfigSchema,
    RollbackConfig,
};
use crate::error::Result;

/// Which document: a product's, a cohort's override or a device's override.
#[derive(Debug, Clone, Copy)]
pub enum ConfigTarget<'a> {
    Product(&'a str),
    Cohort { product: &'a str, cohort: &'a str },
    Device(&'a str),
}

pub struct Configs<'a> {
    client: &'a ApiClient,
}

impl<'a> Configs<'a> {
    pub(super) fn new(client: &'a ApiClient) -> Self {
        Configs { client }
    }

    fn url(&self, target: ConfigTarget<'_>, tail: &[&str]) -> Result<Url> {
        let mut segments = match target {
            ConfigTarget::Product(product) => vec!["products", product, "config"],
            ConfigTarget::Cohort { product, cohort } => {
                vec!["products", product, "cohorts", cohort, "config"]
            }
            ConfigTarget::Device(device) => vec!["devices", device, "config"],
        };
        segments.extend_from_slice(tail);
        self.client.url(&segments)
    }

    pub async fn get(&self, target: ConfigTarget<'_>, effective: bool) -> Result<Config> {
        let mut url = self.url(target, &[])?;
        if effective {
            url.query_pairs_mut().append_pair("effective", "true");
        }
        self.client.get(url).await
    }

    /// Replaces the document; with `revision`, only if it is still the current one.
    pub async fn put(
        &self,
        target: ConfigTarget<'_>,
        body: &PutConfig,
        revision: Option<i64>,
    ) -> Result<Config> {
        let url = self.url(target, &[])?;
        self.client.write_at(Method::PUT, url, body, revision).await
    }

    pub async fn patch(&self, target: ConfigTarget<'_>, body: &PatchConfig) -> Result<Config> {
        let url = self.url(target, &[])?;
        self.client.write(Method::PATCH, url, body).await
    }

    pub async fn revisions(
        &self,
        target: ConfigTarget<'_>,
        limit: Option<u32>,
        before: Option<i64>,
    ) -> Result<ConfigRevisionPage> {
        let mut url = self.url(target, &["revisions"])?;
        if let Some(limit) = limit {
            url.query_pairs_mut()
                .append_pair("limit", &limit.to_string());
        }
        if let Some(before) = before {
            url.query_pairs_mut()
                .append_pair("before", &before.to_string());
        }
        self.client.get(url).await
    }

    pub async fn diff(
        &self,
        target: ConfigTarget<'_>,
        from: i64,
        to: Option<i64>,
    ) -> Result<ConfigDiff> {
        let mut url = self.url(target, &["diff"])?;
        url.query_pairs_mut().append_pair("from", &from.to_string());
        if let Some(to) = to {
            url.query_pairs_mut().append_pair("to", &to.to_string());
        }
        self.client.get(url).await
    }

    pub async fn rollback(
        &self,
        target: ConfigTarget<'_>,
        body: &RollbackConfig,
    ) -> Result<Config> {
        let url = self.url(target, &["rollback"])?;
        self.client.write(Method::POST, url, body).await
    }

    pub async fn schema(&self, product: &str) -> Result<ConfigSchema> {
        let url = self
            .client
            .url(&["products", product, "config", "schema"])?;
        self.client.get(url).await
    }

    pub async fn set_schema(&self, product: &str, body: &PutConfigSchema) -> Result<ConfigSchema> {
        let url = self
            .client
            .url(&["products", product, "config", "schema"])?;
        self.client.write(Method::PUT, url, body).await
    }

    pub async fn delete_schema(&self, product: &str) -> Result<ConfigSchema> {
        let url = self
            .client
            .url(&["products", product, "config", "schema"])?;
        let response = self.client.execute(Method::DELETE, url, None).await?;
        super::error::decode(self.client, response).await
    }
}
