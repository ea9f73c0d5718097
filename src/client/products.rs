//! `/v1/products`: create, read, list, update, archive and delete products.

use futures_util::Stream;
use reqwest::Method;

use super::{ApiClient, paging};
use crate::api::{CreateProduct, Product, ProductListQuery, UpdateProduct};
use crate::error::Result;

/// Products, addressed by name or `prd_` ID.
pub struct Products<'a> {
    client: &'a ApiClient,
}

impl<'a> Products<'a> {
    pub(super) fn new(client: &'a ApiClient) -> Self {
        Products { client }
    }

    pub async fn create(&self, body: &CreateProduct) -> Result<Product> {
        let url = self.client.url(&["products"])?;
        self.client.write(Method::POST, url, body).await
    }

    pub async fn get(&self, product: &str) -> Result<Product> {
        self.client
            .get(self.client.url(&["products", product])?)
            .await
    }

    pub async fn update(&self, product: &str, body: &UpdateProduct) -> Result<Product> {
        let url = self.client.url(&["products", product])?;
        self.client.write(Method::PATCH, url, body).await
    }

    pub async fn delete(&self, product: &str) -> Result<()> {
        self.client
            .delete(self.client.url(&["products", product])?)
            .await
    }

    /// Every matching product, page after page; with `max`, stops fetching once more than
    /// `max` arrived.
    pub fn list_up_to(
        &self,
        query: ProductListQuery,
        max: Option<u64>,
    ) -> impl Stream<Item = Result<Product>> + use<> {
        paging::stream(self.client.clone(), vec!["products".into()], query, max)
    }
}
