//! Configurations: a product's JSON document, its cohorts' and devices' overrides (merged as
//! JSON Merge Patch: product ← cohort ← device), their kept revisions, the product's JSON
//! Schema that every effective configuration must satisfy, and secret key paths whose values
//! people never see again. Reads here; writes in [`write`], the schema in [`schemas`], what a
//! change is checked against in [`checks`], and the check-in's view in [`effective`].

pub mod checks;
pub mod document;
pub mod effective;
pub mod schema;
pub mod schemas;
pub mod write;

use serde_json::{Map, Value};

use super::lookup::{product_or_404, unknown_device};
use crate::api::config::{
    Config, ConfigDiff, ConfigLevel, ConfigRevision, ConfigRevisionPage, ConfigRevisionQuery,
};
use crate::api::page::{DEFAULT_LIMIT, MAX_LIMIT, MIN_LIMIT};
use crate::api::{Cohort, Device, Product};
use crate::server::auth::Principal;
use crate::server::error::{ApiError, ApiResult};
use crate::server::store::configs::{Owner, StoredDocument};
use crate::server::store::{self, Conn, Pool};

/// The caches configurations keep in the service's memory; every entry is keyed by the
/// revisions it was made from, so another replica's change is never served stale.
#[derive(Debug, Default)]
pub struct ConfigCaches {
    pub schemas: schema::SchemaCache,
    pub effective: effective::EffectiveCache,
}

/// The level a request names by its path.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    Product(&'a str),
    Cohort { product: &'a str, cohort: &'a str },
    Device(&'a str),
}

/// A level found: its product, its cohort (the device's, for a device) and device.
pub struct Level {
    pub product: Product,
    pub cohort: Option<Cohort>,
    pub device: Option<Device>,
    pub owner: Owner,
}

impl Level {
    pub fn level(&self) -> ConfigLevel {
        self.owner.level()
    }

    /// How messages name it: "product `p`", "cohort `c` of product `p`", "device `d`".
    pub fn describe(&self) -> String {
        match (self.level(), &self.cohort, &self.device) {
            (ConfigLevel::Device, _, Some(device)) => format!("device `{}`", device.identifier),
            (ConfigLevel::Cohort, Some(cohort), _) => format!(
                "cohort `{}` of product `{}`",
                cohort.name, self.product.name
            ),
            _ => format!("product `{}`", self.product.name),
        }
    }
}

/// Finds the level `target` names. Scope is the route guard's: a scoped key never gets here
/// for a product or device outside its scope.
pub async fn find(conn: &mut Conn, principal: &Principal, target: Target<'_>) -> ApiResult<Level> {
    let org = &principal.org_id;
    match target {
        Target::Product(reference) => {
            let product = product_or_404(conn, org, reference).await?;
            let owner = Owner {
                product_id: product.id.clone(),
                cohort_id: None,
                device_id: None,
            };
            Ok(Level {
                product,
                cohort: None,
                device: None,
                owner,
            })
        }
        Target::Cohort { product, cohort } => {
            let product = product_or_404(conn, org, product).await?;
            let cohort = super::cohorts::cohort_or_404(conn, org, &product, cohort).await?;
            let owner = Owner {
                product_id: product.id.clone(),
                cohort_id: Some(cohort.id.clone()),
                device_id: None,
            };
            Ok(Level {
                product,
                cohort: Some(cohort),
                device: None,
                owner,
            })
        }
        Target::Device(reference) => {
            let device = store::devices::resolve(conn, org, reference)
                .await?
                .ok_or_else(|| unknown_device(reference))?;
            let product = product_or_404(conn, org, device.product_id.as_str()).await?;
            let cohort = match &device.cohort_id {
                Some(id) => store::cohorts::get(conn, org, id).await?,
                None => None,
            };
            // Not the cohort: the override stays the device's when it changes cohort.
            let owner = Owner {
                product_id: product.id.clone(),
                cohort_id: None,
                device_id: Some(device.id.clone()),
            };
            Ok(Level {
                product,
                cohort,
                device: Some(device),
                owner,
            })
        }
    }
}

/// The current document of a level (`None`: never set).
pub(crate) async fn current(conn: &mut Conn, level: &Level) -> ApiResult<Option<StoredDocument>> {
    Ok(store::configs::current(conn, level.owner.id()).await?)
}

/// The documents a level's effective configuration merges, top first.
async fn layers(conn: &mut Conn, level: &Level) -> ApiResult<Vec<Option<StoredDocument>>> {
    let mut owners = vec![level.product.id.as_str().to_owned()];
    if let Some(cohort) = &level.cohort {
        owners.push(cohort.id.as_str().to_owned());
    }
    if let Some(device) = &level.device {
        owners.push(device.id.as_str().to_owned());
    }
    let mut layers = Vec::new();
    for owner in owners {
        layers.push(store::configs::current(conn, &owner).await?);
    }
    Ok(layers)
}

/// A level's document as people see it (`effective`: merged with the levels above it).
pub async fn show(
    pool: &Pool,
    principal: &Principal,
    target: Target<'_>,
    effective: bool,
) -> ApiResult<Config> {
    let mut conn = pool.acquire().await?;
    let level = find(&mut conn, principal, target).await?;
    let settings = store::configs::settings(&mut conn, &level.product.id).await?;
    let stored = current(&mut conn, &level).await?;
    let mut shown = to_config(&level, stored.as_ref(), &settings.secrets);
    if effective {
        let layers = layers(&mut conn, &level).await?;
        let configured = layers.iter().any(Option::is_some);
        let merged = document::effective(layers.iter().flatten().map(|l| &l.document));
        shown.effective = true;
        shown.effective_revision = configured.then(|| document::fingerprint(&merged));
        shown.document = document::mask(&merged, &settings.secrets);
    }
    Ok(shown)
}

/// The API view of a level's document, masked.
pub(crate) fn to_config(
    level: &Level,
    stored: Option<&StoredDocument>,
    secrets: &[String],
) -> Config {
    let empty = Map::new();
    let document = stored.map_or(&empty, |s| &s.document);
    Config {
        product_id: level.product.id.clone(),
        product: level.product.name.clone(),
        level: level.level(),
        cohort: level.cohort.as_ref().map(|c| c.name.clone()),
        device: level.device.as_ref().map(|d| d.identifier.clone()),
        revision: stored.map_or(0, |s| s.revision),
        effective: false,
        effective_revision: None,
        document: document::mask(document, secrets),
        secrets: secrets.to_vec(),
        updated_at: stored.map(|s| s.at),
        updated_by: stored.and_then(|s| s.key_name.clone()),
    }
}

/// One page of a level's revisions, newest first.
pub async fn history(
    pool: &Pool,
    principal: &Principal,
    target: Target<'_>,
    query: &ConfigRevisionQuery,
) -> ApiResult<ConfigRevisionPage> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(MIN_LIMIT..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid_field(
            "limit",
            format!("limit must be between {MIN_LIMIT} and {MAX_LIMIT}, got {limit}"),
        ));
    }
    let before = query.before;
    if let Some(before) = before.filter(|b| *b < 1) {
        return Err(ApiError::invalid_field(
            "before",
            format!("before must be a revision (1 or more), got {before}"),
        ));
    }
    let mut conn = pool.acquire().await?;
    let level = find(&mut conn, principal, target).await?;
    let secrets = store::configs::settings(&mut conn, &level.product.id)
        .await?
        .secrets;
    let mut rows =
        store::configs::revisions(&mut conn, level.owner.id(), before, limit + 1).await?;
    let page_len = usize::try_from(limit).unwrap_or(usize::MAX);
    let next_before = if rows.len() > page_len {
        rows.truncate(page_len);
        rows.last().map(|r| r.revision)
    } else {
        None
    };
    let data = rows
        .into_iter()
        .map(|r| ConfigRevision {
            revision: r.revision,
            level: level.level(),
            document: document::mask(&r.document, &secrets),
            message: r.message,
            created_at: r.at,
            key_id: r.key_id,
            key_name: r.key_name,
        })
        .collect();
    Ok(ConfigRevisionPage { data, next_before })
}

/// The document of a level at `revision` (0: the empty document before the first).
pub(crate) async fn document_at(
    conn: &mut Conn,
    level: &Level,
    revision: i64,
) -> ApiResult<Map<String, Value>> {
    if revision == 0 {
        return Ok(Map::new());
    }
    store::configs::revision(conn, level.owner.id(), revision)
        .await?
        .map(|r| r.document)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "the configuration of {} has no revision {revision}",
                level.describe()
            ))
            .with_hint("list its revisions with `fleet config history`")
        })
}

/// What changed between two revisions of a level (`to`: the current one when absent).
pub async fn diff(
    pool: &Pool,
    principal: &Principal,
    target: Target<'_>,
    from: i64,
    to: Option<i64>,
) -> ApiResult<ConfigDiff> {
    let mut conn = pool.acquire().await?;
    let level = find(&mut conn, principal, target).await?;
    let secrets = store::configs::settings(&mut conn, &level.product.id)
        .await?
        .secrets;
    let to = match to {
        Some(to) => to,
        None => current(&mut conn, &level).await?.map_or(0, |c| c.revision),
    };
    let old = document_at(&mut conn, &level, from).await?;
    let new = document_at(&mut conn, &level, to).await?;
    Ok(ConfigDiff {
        from,
        to,
        changes: document::diff(&old, &new, &secrets),
    })
}
