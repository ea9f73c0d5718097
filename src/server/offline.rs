//! Offline recovery: creating an API key straight in the database, for when every admin key is
//! lost. Safe while a server runs on the same data dir (SQLite WAL); the server sees the key on
//! its next request because keys are looked up per request.

use std::path::Path;

use anyhow::Context as _;

use super::{DB_FILE, auth, store};
use crate::api::{ApiKeyId, Role};

/// A key made offline.
pub struct OfflineKey {
    pub id: ApiKeyId,
    /// The key itself, shown once.
    pub secret: String,
}

/// Creates an org-wide key with `role` named `name` in organization `default` of the database
/// under `data_dir`, and records an `api_key.created` event without an actor.
pub async fn create_key_offline(
    data_dir: &Path,
    name: &str,
    role: Role,
) -> anyhow::Result<OfflineKey> {
    let db = data_dir.join(DB_FILE);
    anyhow::ensure!(
        db.is_file(),
        "there is no fleet database at `{}` (start `fleet server --data-dir {}` once to create one)",
        db.display(),
        data_dir.display()
    );
    let pool = store::open(&db).await?;
    let org_id = store::orgs::id_by_name(&pool, store::orgs::DEFAULT_ORG)
        .await?
        .context("the database has no `default` organization yet")?;
    let secret = auth::generate_key();
    let id = ApiKeyId::generate();
    let mut tx = store::begin_write(&pool).await?;
    let key = store::api_keys::NewKey {
        id: &id,
        org_id: &org_id,
        name,
        role,
        hash: &auth::hash_key(&secret),
        prefix: auth::key_prefix(&secret),
        expires_at: None,
        created_by: None,
        products: None,
    };
    store::api_keys::insert(&mut tx, &key, store::now()).await?;
    store::events::record(
        &mut tx,
        &store::events::NewEvent {
            org_id: &org_id,
            actor: store::events::Actor::default(),
            action: "api_key.created",
            resource_id: Some(id.as_str()),
            product_id: None,
            outcome: store::events::Outcome::Ok,
            details: serde_json::json!({ "name": name, "role": role.as_str(), "offline": true }),
        },
    )
    .await?;
    tx.commit().await?;
    pool.close().await;
    Ok(OfflineKey { id, secret })
}
