//! Certificate authorities: CA certificates a product trusts for its devices' client
//! certificates, each with the just-in-time provisioning (JITP) defaults of new devices.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{CaId, CohortId, ProductId};
use super::page::{PagedQuery, push_page_pairs};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CertificateAuthority {
    pub id: CaId,
    pub product_id: ProductId,
    /// The product's name at the time of reading.
    pub product: String,
    /// Unique within its product.
    pub name: String,
    /// The certificate's subject (RFC 4514).
    pub subject: String,
    /// Lowercase hex SHA-256 of the certificate's DER; unique in the whole service.
    pub fingerprint: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// A disabled CA admits no device.
    pub enabled: bool,
    pub jitp: Jitp,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub revision: i64,
}

/// Just-in-time provisioning: whether an unknown device with a certificate under this CA is
/// created on first contact, and the defaults it gets.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Jitp {
    pub enabled: bool,
    pub cohort_id: Option<CohortId>,
    /// The cohort's name at the time of reading.
    pub cohort: Option<String>,
    /// `key:value` strings, sorted.
    pub tags: Vec<String>,
    /// Hardware target triple.
    pub target: Option<String>,
    pub description: String,
}

/// The JITP settings of a new CA; everything left out is off or empty.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct JitpSettings {
    #[serde(default)]
    pub enabled: bool,
    /// Cohort name or ID; must be a cohort of the CA's product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cohort: Option<String>,
    #[cfg_attr(feature = "server", schema(value_type = Vec<super::validate::Tag>, max_items = 50))]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            max_length = 64,
            pattern = "^[A-Za-z0-9._-]*[A-Za-z0-9_-][A-Za-z0-9._-]*$"
        )
    )]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
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

/// `POST /v1/products/{product}/cas`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateCa {
    /// Lowercase letters, digits, `-`, `_`, `.`; not only dots; not shaped like an ID (`ca_` and 32 hex digits).
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            max_length = 64,
            pattern = "^[a-z0-9._-]*[a-z0-9_-][a-z0-9._-]*$"
        )
    )]
    pub name: String,
    /// One X.509 CA certificate in PEM: basic constraints `cA`, allowed to sign certificates,
    /// not expired.
    #[cfg_attr(feature = "server", schema(max_length = 65536))] // MAX_PEM_CHARS
    pub certificate: String,
    /// Default: true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitp: Option<JitpSettings>,
}

/// PATCH body: absent fields are left alone.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateCa {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitp: Option<UpdateJitp>,
}

/// The JITP fields of a PATCH: absent fields are left alone; `"cohort": null` and
/// `"target": null` clear.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateJitp {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Cohort name or ID of the CA's product; `null`: new devices join no cohort.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "super::double_option"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub cohort: Option<Option<String>>,
    /// Replaces the whole tag set.
    #[cfg_attr(feature = "server", schema(value_type = Option<Vec<super::validate::Tag>>, max_items = 50))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "super::double_option"
    )]
    #[cfg_attr(
        feature = "server",
        schema(
            value_type = Option<String>,
            min_length = 1,
            max_length = 64,
            pattern = "^[A-Za-z0-9._-]*[A-Za-z0-9_-][A-Za-z0-9._-]*$"
        )
    )]
    pub target: Option<Option<String>>,
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

impl UpdateJitp {
    pub fn is_empty(&self) -> bool {
        self.enabled.is_none()
            && self.cohort.is_none()
            && self.tags.is_none()
            && self.target.is_none()
            && self.description.is_none()
    }
}

/// `GET /v1/cas?product=&limit=&cursor=` (all products in scope) or
/// `GET /v1/products/{product}/cas?limit=&cursor=`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "server", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct CaListQuery {
    /// Product name or ID.
    pub product: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl PagedQuery for CaListQuery {
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
