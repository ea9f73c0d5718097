//! Devices: each belongs to exactly one product and at most one cohort of that product.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{CohortId, DeviceId, ProductId};
use super::page::{PagedQuery, push_page_pairs};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Device {
    pub id: DeviceId,
    /// Serial number or other operator-chosen identifier; unique in the organization.
    pub identifier: String,
    pub product_id: ProductId,
    /// The product's name at the time of reading.
    pub product: String,
    pub cohort_id: Option<CohortId>,
    /// The cohort's name at the time of reading.
    pub cohort: Option<String>,
    pub description: String,
    /// `key:value` strings, sorted.
    pub tags: Vec<String>,
    /// Hardware target triple.
    pub target: Option<String>,
    /// A quarantined device receives no releases.
    pub quarantined: bool,
    /// Set when the device moved to another product: its credentials were revoked and it must
    /// be provisioned again.
    #[serde(default)]
    pub needs_provisioning: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub revision: i64,
}

/// `POST /v1/devices`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateDevice {
    /// Letters, digits, `-`, `_`, `.`, `:`; not shaped like a device ID (`dev_` and 32 hex digits).
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            max_length = 128,
            pattern = "^[A-Za-z0-9._:-]*[A-Za-z0-9_:-][A-Za-z0-9._:-]*$"
        )
    )]
    pub identifier: String,
    /// Product name or ID.
    pub product: String,
    /// Cohort name or ID; must be a cohort of `product`.
    #[serde(default)]
    pub cohort: Option<String>,
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
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            max_length = 64,
            pattern = "^[A-Za-z0-9._-]*[A-Za-z0-9_-][A-Za-z0-9._-]*$"
        )
    )]
    #[serde(default)]
    pub target: Option<String>,
}

/// PATCH body: absent fields are left alone; `"cohort": null` and `"target": null` clear.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateDevice {
    #[cfg_attr(
        feature = "server",
        schema(
            max_length = 1024,
            pattern = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$"
        )
    )]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Cohort name or ID within the device's product; `null` removes the device from its cohort.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "super::double_option"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub cohort: Option<Option<String>>,
    /// Replaces the whole tag set (applied before `add_tags` / `remove_tags`).
    #[cfg_attr(feature = "server", schema(value_type = Option<Vec<super::validate::Tag>>, max_items = 50))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[cfg_attr(feature = "server", schema(value_type = Vec<super::validate::Tag>, max_items = 50))]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add_tags: Vec<String>,
    #[cfg_attr(feature = "server", schema(value_type = Vec<super::validate::Tag>, max_items = 50))]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_tags: Vec<String>,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantined: Option<bool>,
}

/// `GET /v1/devices?product=&cohort=&tag=&target=&quarantined=&online=&seen_within_s=&running=
/// &update_state=&sort=&limit=&cursor=&all=`; creation order unless `sort=last_seen`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "server", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct DeviceListQuery {
    /// Product name or ID.
    pub product: Option<String>,
    /// Cohort ID, or cohort name together with `product`.
    pub cohort: Option<String>,
    /// Repeatable; every tag must match.
    #[cfg_attr(feature = "server", param(value_type = Vec<super::validate::Tag>, max_items = 50))]
    #[serde(default)]
    pub tag: Vec<String>,
    pub target: Option<String>,
    pub quarantined: Option<bool>,
    /// `true`: devices that checked in within twice the check-in interval; `false`: the others,
    /// devices that never checked in included.
    pub online: Option<bool>,
    /// Only devices that checked in within this many seconds.
    pub seen_within_s: Option<u64>,
    /// Only devices running this artifact at this version: `ARTIFACT@VERSION`.
    pub running: Option<String>,
    /// Only devices whose latest update state is this: `downloading`, `installing`,
    /// `succeeded`, `failed` or `rolled_back`.
    pub update_state: Option<String>,
    /// The order: `id` (creation order, the default) or `last_seen` (newest check-in first,
    /// devices never seen last). Pass the same `sort` with a page's `next_cursor`.
    pub sort: Option<DeviceSort>,
    /// Without `all`: the page size. With `all=true`: how many devices the service reads per
    /// step (default 1000).
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// `true`: every matching device after `cursor`, in one answer of the same shape
    /// (`next_cursor` is `null`), streamed while the service reads it. For exports: one
    /// request instead of one per page. The list is as consistent as following the cursors.
    pub all: Option<bool>,
}

/// The order of `GET /v1/devices`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeviceSort {
    /// By ID: creation order.
    #[default]
    Id,
    /// By last check-in, newest first; devices never seen last (then by ID).
    LastSeen,
}

impl DeviceSort {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceSort::Id => "id",
            DeviceSort::LastSeen => "last_seen",
        }
    }
}

impl PagedQuery for DeviceListQuery {
    fn set_page(&mut self, limit: Option<u32>, cursor: Option<String>) {
        self.limit = limit;
        self.cursor = cursor;
    }

    fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(product) = &self.product {
            pairs.push(("product", product.clone()));
        }
        if let Some(cohort) = &self.cohort {
            pairs.push(("cohort", cohort.clone()));
        }
        pairs.extend(self.tag.iter().map(|t| ("tag", t.clone())));
        if let Some(target) = &self.target {
            pairs.push(("target", target.clone()));
        }
        if let Some(quarantined) = self.quarantined {
            pairs.push(("quarantined", quarantined.to_string()));
        }
        if let Some(online) = self.online {
            pairs.push(("online", online.to_string()));
        }
        if let Some(seconds) = self.seen_within_s {
            pairs.push(("seen_within_s", seconds.to_string()));
        }
        if let Some(running) = &self.running {
            pairs.push(("running", running.clone()));
        }
        if let Some(state) = &self.update_state {
            pairs.push(("update_state", state.clone()));
        }
        if let Some(sort) = self.sort {
            pairs.push(("sort", sort.as_str().to_owned()));
        }
        push_page_pairs(&mut pairs, self.limit, &self.cursor);
        if let Some(all) = self.all {
            pairs.push(("all", all.to_string()));
        }
        pairs
    }
}
