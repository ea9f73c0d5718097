//! Products: the top-level grouping of devices, cohorts and firmware in an organization.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::ProductId;
use super::page::{PagedQuery, push_page_pairs};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Product {
    pub id: ProductId,
    /// Unique in the organization.
    pub name: String,
    pub description: String,
    /// `key:value` strings, sorted.
    pub tags: Vec<String>,
    /// Archived products stay readable but accept no new devices or cohorts.
    pub archived: bool,
    pub device_count: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Increases on every change; send it as `If-Match` to update only what you last saw.
    pub revision: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateProduct {
    /// Lowercase letters, digits, `-`, `_`, `.`; not only dots; not shaped like an ID (`prd_` and 32 hex digits).
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
    #[cfg_attr(feature = "server", schema(value_type = Vec<super::validate::Tag>, max_items = 50))]
    #[serde(default)]
    pub tags: Vec<String>,
}

/// PATCH body: absent fields are left alone.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateProduct {
    /// Lowercase letters, digits, `-`, `_`, `.`; not only dots; not shaped like an ID (`prd_` and 32 hex digits).
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
    /// Replaces the whole tag set.
    #[cfg_attr(feature = "server", schema(value_type = Option<Vec<super::validate::Tag>>, max_items = 50))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
}

/// Which products a list returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProductState {
    #[default]
    Active,
    Archived,
    All,
}

impl ProductState {
    pub fn as_str(self) -> &'static str {
        match self {
            ProductState::Active => "active",
            ProductState::Archived => "archived",
            ProductState::All => "all",
        }
    }
}

/// `GET /v1/products?state=&tag=&limit=&cursor=`; results in creation order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "server", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ProductListQuery {
    /// `active` (default), `archived` or `all`.
    #[serde(default)]
    pub state: Option<ProductState>,
    /// Repeatable; every tag must match.
    #[cfg_attr(feature = "server", param(value_type = Vec<super::validate::Tag>, max_items = 50))]
    #[serde(default)]
    pub tag: Vec<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl PagedQuery for ProductListQuery {
    fn set_page(&mut self, limit: Option<u32>, cursor: Option<String>) {
        self.limit = limit;
        self.cursor = cursor;
    }

    fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(state) = self.state {
            pairs.push(("state", state.as_str().to_owned()));
        }
        pairs.extend(self.tag.iter().map(|t| ("tag", t.clone())));
        push_page_pairs(&mut pairs, self.limit, &self.cursor);
        pairs
    }
}
