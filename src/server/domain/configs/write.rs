//! Changing a level's document: the whole document (`PUT`), keys by path (`PATCH`), or an
//! earlier revision's document again (rollback). Each change is one write transaction: the
//! level's revision checked against `If-Match`, the product's state, the schema over every
//! effective configuration the change touches, the new revision, and its audit event.

use serde_json::{Map, Value, json};

use super::checks::{self, Change};
use super::document::{self, diff, is_secret, remove_path, set_path, unmask};
use super::{ConfigCaches, Level, Target, current, document_at, find, to_config};
use crate::api::config::{
    Config, MAX_DOCUMENT_BYTES, MAX_MESSAGE_CHARS, MAX_PATHS, PatchConfig, PutConfig,
    RollbackConfig, SECRET_MASK, split_path,
};
use crate::api::{AuditAction, FieldError, Product};
use crate::server::auth::Principal;
use crate::server::domain::{Validator, audit, check_revision};
use crate::server::error::{ApiError, ApiResult};
use crate::server::store::configs::{Author, Settings, StoredDocument};
use crate::server::store::{self, Conn, Pool};

/// Removes the paths of `unset` from `document`, then writes the values of `set` at their
/// paths; a secret set to `"***"` (what people are shown of it) keeps its value.
pub(crate) fn patch_document(
    document: &mut Map<String, Value>,
    set: &Map<String, Value>,
    unset: &[String],
    secrets: &[String],
) {
    for path in unset {
        let keys: Vec<&str> = path.split('.').collect();
        remove_path(document, &keys);
    }
    for (path, value) in set {
        if value.as_str() == Some(SECRET_MASK) && is_secret(secrets, path) {
            continue;
        }
        let keys: Vec<&str> = path.split('.').collect();
        set_path(document, &keys, value.clone());
    }
}

pub(crate) fn message_problem(message: &Option<String>) -> Result<(), String> {
    match message {
        Some(m) if m.chars().count() > MAX_MESSAGE_CHARS => {
            Err(format!("is longer than {MAX_MESSAGE_CHARS} characters"))
        }
        Some(m) if m.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => {
            Err("must not contain control characters other than newlines and tabs".into())
        }
        _ => Ok(()),
    }
}

pub(crate) fn check_paths(v: &mut Validator, field: &str, paths: &[String]) {
    if paths.len() > MAX_PATHS {
        let problem = format!("names {} paths; at most {MAX_PATHS}", paths.len());
        v.check(field, Err(problem));
        return;
    }
    for (i, path) in paths.iter().enumerate() {
        v.check(&format!("{field}[{i}]"), split_path(path).map(|_| ()));
    }
}

/// Replaces a level's whole document.
pub async fn put(
    pool: &Pool,
    caches: &ConfigCaches,
    principal: &Principal,
    target: Target<'_>,
    if_match: Option<i64>,
    body: PutConfig,
) -> ApiResult<Config> {
    let mut v = Validator::default();
    check_paths(&mut v, "secrets", &body.secrets);
    v.check("message", message_problem(&body.message));
    v.finish()?;
    let mut tx = store::begin_write(pool).await?;
    let level = find(&mut tx, principal, target).await?;
    let (stored, mut settings) = prepare(&mut tx, &level, if_match).await?;
    let old = stored
        .as_ref()
        .map(|s| s.document.clone())
        .unwrap_or_default();
    let mut document = body.document;
    // What a person was shown masked and sent back as it was keeps its stored value.
    unmask(&mut document, &old, &settings.secrets);
    mark_secrets(&mut settings, &body.secrets);
    let change = Changed {
        stored,
        document,
        message: body.message.unwrap_or_default(),
        action: AuditAction::ConfigUpdated,
        rolled_back_from: None,
    };
    let config = commit(&mut tx, caches, principal, &level, settings, change).await?;
    tx.commit().await?;
    Ok(config)
}

/// Sets and removes keys of a level's document by path.
pub async fn patch(
    pool: &Pool,
    caches: &ConfigCaches,
    principal: &Principal,
    target: Target<'_>,
    if_match: Option<i64>,
    body: PatchConfig,
) -> ApiResult<Config> {
    let mut v = Validator::default();
    let set_paths: Vec<String> = body.set.keys().cloned().collect();
    for path in &set_paths {
        v.check(&format!("set.{path}"), split_path(path).map(|_| ()));
    }
    check_paths(&mut v, "unset", &body.unset);
    check_paths(&mut v, "secrets", &body.secrets);
    v.check("message", message_problem(&body.message));
    if body.set.is_empty() && body.unset.is_empty() && body.secrets.is_empty() {
        v.check("set", Err("name at least one key to set or unset".into()));
    }
    v.finish()?;
    let mut tx = store::begin_write(pool).await?;
    let level = find(&mut tx, principal, target).await?;
    let (stored, mut settings) = prepare(&mut tx, &level, if_match).await?;
    mark_secrets(&mut settings, &body.secrets);
    let mut document = stored
        .as_ref()
        .map(|s| s.document.clone())
        .unwrap_or_default();
    patch_document(&mut document, &body.set, &body.unset, &settings.secrets);
    let change = Changed {
        stored,
        document,
        message: body.message.unwrap_or_default(),
        action: AuditAction::ConfigUpdated,
        rolled_back_from: None,
    };
    let config = commit(&mut tx, caches, principal, &level, settings, change).await?;
    tx.commit().await?;
    Ok(config)
}

/// A new revision with the document of an earlier one.
pub async fn rollback(
    pool: &Pool,
    caches: &ConfigCaches,
    principal: &Principal,
    target: Target<'_>,
    if_match: Option<i64>,
    body: RollbackConfig,
) -> ApiResult<Config> {
    let mut v = Validator::default();
    v.check("message", message_problem(&body.message));
    if body.revision < 1 {
        v.check("revision", Err("must be 1 or more".into()));
    }
    v.finish()?;
    let mut tx = store::begin_write(pool).await?;
    let level = find(&mut tx, principal, target).await?;
    let (stored, settings) = prepare(&mut tx, &level, if_match).await?;
    let document = document_at(&mut tx, &level, body.revision).await?;
    let message = body
        .message
        .unwrap_or_else(|| format!("rollback to revision {}", body.revision));
    let change = Changed {
        stored,
        document,
        message,
        action: AuditAction::ConfigRolledBack,
        rolled_back_from: Some(body.revision),
    };
    let config = commit(&mut tx, caches, principal, &level, settings, change).await?;
    tx.commit().await?;
    Ok(config)
}

/// The level's current document and its product's settings, once `If-Match` and the product's
/// state allow a change.
async fn prepare(
    conn: &mut Conn,
    level: &Level,
    if_match: Option<i64>,
) -> ApiResult<(Option<StoredDocument>, Settings)> {
    if level.product.archived {
        return Err(archived(&level.product));
    }
    let stored = current(conn, level).await?;
    let what = format!("the configuration of {}", level.describe());
    check_revision(if_match, &what, stored.as_ref().map_or(0, |s| s.revision))?;
    let settings = store::configs::settings(conn, &level.product.id).await?;
    Ok((stored, settings))
}

pub(crate) fn archived(product: &Product) -> ApiError {
    ApiError::conflict(format!(
        "product `{}` is archived; its configuration cannot change",
        product.name
    ))
    .with_hint(format!("fleet product unarchive {}", product.name))
}

fn mark_secrets(settings: &mut Settings, paths: &[String]) {
    for path in paths {
        if !settings.secrets.contains(path) {
            settings.secrets.push(path.clone());
        }
    }
    settings.secrets.sort();
}

/// A change ready to be written.
struct Changed {
    stored: Option<StoredDocument>,
    document: Map<String, Value>,
    message: String,
    action: AuditAction,
    rolled_back_from: Option<i64>,
}

/// Checks and writes a new revision of `level` in `conn`'s transaction, with its audit event.
async fn commit(
    conn: &mut Conn,
    caches: &ConfigCaches,
    principal: &Principal,
    level: &Level,
    settings: Settings,
    change: Changed,
) -> ApiResult<Config> {
    let size = document::size(&change.document);
    if size > MAX_DOCUMENT_BYTES {
        return Err(ApiError::validation(vec![FieldError {
            field: "document".into(),
            message: format!("is {size} bytes as JSON; at most {MAX_DOCUMENT_BYTES}"),
        }]));
    }
    let checked = match (&level.device, &level.cohort) {
        (Some(_), cohort) => Change::Device {
            cohort: cohort.as_ref().map(|c| (&c.id, c.name.as_str())),
            document: &change.document,
        },
        (None, Some(cohort)) => Change::Cohort {
            id: &cohort.id,
            name: &cohort.name,
            document: &change.document,
        },
        (None, None) => Change::Product(&change.document),
    };
    checks::check(conn, caches, &level.product, &settings, checked).await?;

    let old = change
        .stored
        .as_ref()
        .map(|s| s.document.clone())
        .unwrap_or_default();
    let revision = change.stored.as_ref().map_or(0, |s| s.revision) + 1;
    let author = Author {
        key_id: Some(&principal.key_id),
        key_name: Some(&principal.key_name),
    };
    let now = store::now();
    store::configs::write(
        conn,
        &level.owner,
        revision,
        &change.document,
        &change.message,
        &author,
        now,
    )
    .await?;
    let before = store::configs::settings(conn, &level.product.id).await?;
    if before.secrets != settings.secrets {
        store::configs::write_settings(conn, &level.product.id, &settings).await?;
    }
    // Values in the event are masked like everything people see.
    let details = json!({
        "level": level.level().as_str(),
        "cohort": level.cohort.as_ref().map(|c| &c.name),
        "device": level.device.as_ref().map(|d| &d.identifier),
        "revision": revision,
        "message": change.message,
        "rolled_back_to": change.rolled_back_from,
        "changes": diff(&old, &change.document, &settings.secrets),
    });
    audit::record(
        conn,
        principal,
        change.action,
        level.owner.id(),
        &level.product.id,
        details,
    )
    .await?;
    let stored = StoredDocument {
        revision,
        document: change.document,
        message: change.message,
        at: now,
        key_id: Some(principal.key_id.clone()),
        key_name: Some(principal.key_name.clone()),
    };
    Ok(to_config(level, Some(&stored), &settings.secrets))
}
