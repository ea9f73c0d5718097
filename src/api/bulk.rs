//! Bulk device operations: which devices a request selects, the move / assign / unassign /
//! import / configure requests, and the result every one of them answers with (the plan, for
//! a dry run).

use serde::{Deserialize, Serialize};

use super::device::Device;
use super::ids::DeviceId;

/// Most devices one explicit selection (or one import) may name.
pub const MAX_SELECTED: usize = 100_000;
/// Devices (and refusals) an answer lists with `list: sample`.
pub const SAMPLE_MAX: usize = 20;

/// How much of the affected devices a bulk answer lists; the counts are always complete.
/// Asking for less makes large operations cheaper: 100,000 full device objects are tens of
/// megabytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BulkListing {
    /// Every affected device in `devices`, as the device list shows it; every refusal.
    #[default]
    Devices,
    /// Every affected device's ID in `device_ids` (`devices` stays empty); every refusal.
    Ids,
    /// The first 20 affected devices in `devices` and the first 20 refusals: a preview.
    Sample,
}

impl BulkListing {
    /// Whether this listing is the default (left out of requests).
    pub fn is_default(&self) -> bool {
        *self == BulkListing::Devices
    }
}

/// Which devices a bulk request acts on: either `devices` (IDs or identifiers, all of which must
/// exist) or the filters, which the service resolves like the device list does. Exactly one of
/// the two is given; `cohort` and `no_cohort` exclude each other; a cohort given by name (not
/// ID) needs `product`, unless the operation names the product itself. Otherwise: 422.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Selection {
    /// Device IDs or identifiers; cannot be combined with the filters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices: Option<Vec<String>>,
    /// Product name or ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// Cohort ID, or cohort name of the selected product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cohort: Option<String>,
    /// Only devices in no cohort.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_cohort: bool,
    /// Every tag must match.
    #[cfg_attr(feature = "server", schema(value_type = Vec<super::validate::Tag>, max_items = 50))]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tag: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

impl Selection {
    /// Whether any filter is set (as opposed to an explicit device list).
    pub fn has_filters(&self) -> bool {
        self.product.is_some()
            || self.cohort.is_some()
            || self.no_cohort
            || !self.tag.is_empty()
            || self.target.is_some()
    }
}

/// `POST /v1/bulk/move`: move devices to another product. Each moved device leaves its cohort
/// (or joins `to_cohort`), loses its credentials and must be provisioned again.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MoveDevices {
    pub selection: Selection,
    /// Product name or ID; must not be archived.
    pub to_product: String,
    /// Cohort of `to_product` (name or ID) the moved devices join.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_cohort: Option<String>,
    /// Plan only: report what would happen and change nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// How much of the affected devices the answer lists.
    #[serde(default, skip_serializing_if = "BulkListing::is_default")]
    pub list: BulkListing,
}

/// `POST /v1/bulk/assign`: put devices of `product` into its cohort `cohort`. With filters and
/// no `selection.product`, the selection is limited to `product`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AssignCohort {
    pub selection: Selection,
    /// Product name or ID; every selected device must be in it.
    pub product: String,
    /// Cohort name or ID within `product`.
    pub cohort: String,
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default, skip_serializing_if = "BulkListing::is_default")]
    pub list: BulkListing,
}

/// `POST /v1/bulk/config`: set and remove keys in the device-level configuration override of
/// every selected device, each device's override a new revision, all or none. Every selected
/// device must be in `product`, and every effective configuration the change makes must
/// satisfy the product's schema.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConfigureDevices {
    pub selection: Selection,
    /// Product name or ID; every selected device must be in it.
    pub product: String,
    /// `{"path.to.key": value}`, written into each device's override; `null` removes the key
    /// from the effective configuration.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub set: serde_json::Map<String, serde_json::Value>,
    /// Paths removed from each device's override (the device inherits them again).
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(max_items = 256))]
    pub unset: Vec<String>,
    /// Why, kept with each device's new revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "server",
        schema(
            max_length = 1024,
            pattern = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$"
        )
    )]
    pub message: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default, skip_serializing_if = "BulkListing::is_default")]
    pub list: BulkListing,
}

/// `POST /v1/bulk/unassign`: take devices out of whatever cohort they are in.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UnassignCohort {
    pub selection: Selection,
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default, skip_serializing_if = "BulkListing::is_default")]
    pub list: BulkListing,
}

/// `POST /v1/bulk/import`: create devices in one product from rows (a CSV file, on the CLI).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ImportDevices {
    /// Product name or ID; must not be archived.
    pub product: String,
    /// Cohort (name or ID) of `product` for rows that name none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cohort: Option<String>,
    pub devices: Vec<ImportRow>,
    /// Overwrite existing devices of `product` whose values differ (else they are conflicts).
    #[serde(default)]
    pub update: bool,
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default, skip_serializing_if = "BulkListing::is_default")]
    pub list: BulkListing,
}

/// One device to import.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ImportRow {
    /// Where the row came from (a CSV line number), echoed in errors; else its 1-based index.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::whole::optional"
    )]
    pub line: Option<u64>,
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            max_length = 128,
            pattern = "^[A-Za-z0-9._:-]*[A-Za-z0-9_:-][A-Za-z0-9._:-]*$"
        )
    )]
    pub identifier: String,
    /// Absent fields take defaults on create and are left alone on `update`.
    #[cfg_attr(
        feature = "server",
        schema(
            max_length = 1024,
            pattern = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$"
        )
    )]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[cfg_attr(feature = "server", schema(value_type = Option<Vec<super::validate::Tag>>, max_items = 50))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
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
    /// Cohort name or ID of the import's product; overrides the import's `cohort`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cohort: Option<String>,
}

/// A selected device the operation refuses, and why. Only dry runs answer with refusals; a
/// real run with any is refused as a whole (409) and changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Refusal {
    /// The device as the request named it (or its identifier, for filter selections).
    pub device: String,
    pub reason: String,
}

/// What a bulk operation did, or would do (`dry_run`): the one result object of every bulk
/// request, and what the CLI prints with `-o json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct BulkResult {
    pub dry_run: bool,
    /// Devices selected (rows given, for an import).
    pub matched: u64,
    /// Devices changed, or that would change (created or updated, for an import).
    pub changed: u64,
    /// Selected devices already in the requested state, left alone.
    pub unchanged: u64,
    /// Selected devices refused (named devices that do not exist, devices outside the cohort's
    /// product, identifiers in use). Only a dry run answers with refusals: a real run with any
    /// is refused as a whole (409) and changes nothing.
    #[serde(default)]
    pub refused: u64,
    /// Imports only: devices created and updated.
    #[serde(default)]
    pub created: u64,
    #[serde(default)]
    pub updated: u64,
    /// The refusals, each device with its reason: all of them, or the first 20 with
    /// `list: sample`.
    #[serde(default)]
    pub refusals: Vec<Refusal>,
    /// The changed devices in ID order (import: row order), as they are after the operation
    /// (in a dry run: would be), in the device list's shape: all of them, the first 20 with
    /// `list: sample`, none with `list: ids`.
    #[serde(default)]
    pub devices: Vec<Device>,
    /// With `list: ids` only: the changed devices' IDs, in the same order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_ids: Vec<DeviceId>,
}
