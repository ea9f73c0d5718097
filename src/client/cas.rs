//! `/v1/products/{product}/cas` and the org-wide `/v1/cas` list: certificate authorities.

use futures_util::Stream;
use reqwest::Method;

use super::{ApiClient, paging};
use crate::api::{CaListQuery, CertificateAuthority, CreateCa, UpdateCa};
use crate::error::Result;

/// Certificate authorities, addressed by product (name or ID) plus CA name or `ca_` ID.
pub struct Cas<'a> {
    client: &'a ApiClient,
}

impl<'a> Cas<'a> {
    pub(super) fn new(client: &'a ApiClient) -> Self {
        Cas { client }
    }

    pub async fn create(&self, product: &str, body: &CreateCa) -> Result<CertificateAuthority> {
        let url = self.client.url(&["products", product, "cas"])?;
        self.client.write(Method::POST, url, body).await
    }

    pub async fn get(&self, product: &str, ca: &str) -> Result<CertificateAuthority> {
        let url = self.client.url(&["products", product, "cas", ca])?;
        self.client.get(url).await
    }

    pub async fn update(
        &self,
        product: &str,
        ca: &str,
        body: &UpdateCa,
    ) -> Result<CertificateAuthority> {
        let url = self.client.url(&["products", product, "cas", ca])?;
        self.client.write(Method::PATCH, url, body).await
    }

    pub async fn delete(&self, product: &str, ca: &str) -> Result<()> {
        let url = self.client.url(&["products", product, "cas", ca])?;
        self.client.delete(url).await
    }

    /// Every matching CA of the org-wide list (only `query.product`'s when set), page after
    /// page; with `max`, stops fetching once more than `max` arrived.
    pub fn list_up_to(
        &self,
        query: CaListQuery,
        max: Option<u64>,
    ) -> impl Stream<Item = Result<CertificateAuthority>> + use<> {
        paging::stream(self.client.clone(), vec!["cas".into()], query, max)
    }
}
