//! `/v1/api-keys` and `/v1/whoami`: API key management and the caller's own identity.

use futures_util::Stream;
use reqwest::Method;

use super::{ApiClient, paging};
use crate::api::{ApiKey, ApiKeyListQuery, CreateApiKey, CreatedApiKey, Page, PagedQuery, Whoami};
use crate::error::Result;

/// API keys, addressed by `key_` ID, `fleet_…` prefix or name.
pub struct ApiKeys<'a> {
    client: &'a ApiClient,
}

impl<'a> ApiKeys<'a> {
    pub(super) fn new(client: &'a ApiClient) -> Self {
        ApiKeys { client }
    }

    /// Creates a key; the answer holds its secret, which the service never shows again.
    pub async fn create(&self, body: &CreateApiKey) -> Result<CreatedApiKey> {
        let url = self.client.url(&["api-keys"])?;
        self.client.write(Method::POST, url, body).await
    }

    pub async fn get(&self, key: &str) -> Result<ApiKey> {
        self.client.get(self.client.url(&["api-keys", key])?).await
    }

    /// Revokes a key (revoking a revoked key is not an error).
    pub async fn revoke(&self, key: &str) -> Result<ApiKey> {
        let url = self.client.url(&["api-keys", key, "revoke"])?;
        self.client
            .write(Method::POST, url, &serde_json::json!({}))
            .await
    }

    /// One page.
    pub async fn list(&self, query: &ApiKeyListQuery) -> Result<Page<ApiKey>> {
        let mut url = self.client.url(&["api-keys"])?;
        url.query_pairs_mut().extend_pairs(query.to_pairs());
        self.client.get(url).await
    }

    /// Every matching key, page after page, stopping once more than `max` arrived.
    pub fn list_up_to(
        &self,
        query: ApiKeyListQuery,
        max: Option<u64>,
    ) -> impl Stream<Item = Result<ApiKey>> + use<> {
        paging::stream(self.client.clone(), vec!["api-keys".into()], query, max)
    }

    /// The key this client authenticates with.
    pub async fn whoami(&self) -> Result<Whoami> {
        self.client.get(self.client.url(&["whoami"])?).await
    }
}
