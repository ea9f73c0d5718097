//! Cohorts: named groups of devices within one product, the unit a release targets.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{CohortId, ProductId};
use super::page::{PagedQuery, push_page_pairs};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Cohort {
    pub id: CohortId,
    pub product_id: ProductId,
    /// The product's name at the time of reading.
    pub product: String,
    /// Unique within its product.
    pub name: String,
    pub description: String,
    pub device_count: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub revision: i64,
}

/// `POST /v1/products/{product}/cohorts`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateCohort {
    /// Lowercase letters, digits, `-`, `_`, `.`; not only dots; not shaped like an ID (`coh_` and 32 hex digits).
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            max_length = 64,
            pattern = "^[a-z0-9._-]*[a-z0-9_-][a-z0-9._-]*$"
        )
    )]
    pub name: String,
    #[cfg_attr(
        feature = "server",
        schema(
            max_length = 1024,
            pattern = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$"
        )
    )]
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateCohort {
    /// Lowercase letters, digits, `-`, `_`, `.`; not only dots; not shaped like an ID (`coh_` and 32 hex digits).
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            max_length = 64,
            pattern = "^[a-z0-9._-]*[a-z0-9_-][a-z0-9._-]*$"
        )
    )]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[cfg_attr(
        feature = "server",
        schema(
            max_length = 1024,
            pattern = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$"
        )
    )]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `GET /v1/cohorts?product=&limit=&cursor=` (all products in scope) or
/// `GET /v1/products/{product}/cohorts?limit=&cursor=`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "server", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct CohortListQuery {
    /// Product name or ID.
    pub product: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl PagedQuery for CohortListQuery {
    fn set_page(&mut self, limit: Option<u32>, cursor: Option<String>) {
        self.limit = limit;
        self.cursor = cursor;
    }

    fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(product) = &self.product {
            pairs.push(("product", product.clone()));
        }
        push_page_pairs(&mut pairs, self.limit, &self.cursor);
        pairs
    }
}
