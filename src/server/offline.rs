//! Offline recovery: creating an API key straight in the database, for when every admin key is
//! lost. Safe while a server runs on the same data dir (SQLite WAL); the server sees the key on
//! its next request because keys are looked up per request.

use anyhow::Context as _;

use super::domain::{self, api_keys::Creator};
use super::{Storage, store};
use crate::api::{ApiKeyId, CreateApiKey, Role};

/// A key made offline.
pub struct OfflineKey {
    pub id: ApiKeyId,
    /// The key itself, shown once.
    pub secret: String,
}

/// Creates an org-wide key with `role` named `name` in organization `default` of the database
/// of `storage` (a data dir converts into its local storage), and records an `api_key.created` event without an actor: the same rules
/// and the same code as a key created through the API.
pub async fn create_key_offline(
    storage: impl Into<Storage>,
    name: &str,
    role: Role,
) -> anyhow::Result<OfflineKey> {
    let storage = storage.into();
    anyhow::ensure!(
        storage.database_exists(),
        "there is no fleet database at `{}` (start `fleet server --data-dir {}` once to create one)",
        storage.describe_database(),
        storage.data_dir.display()
    );
    let pool = storage.open_database().await?;
    let org_id = store::orgs::id_by_name(&pool, store::orgs::DEFAULT_ORG)
        .await?
        .context("the database has no `default` organization yet")?;
    let body = CreateApiKey {
        name: name.to_owned(),
        role,
        products: None,
        expires_at: None,
    };
    let created = domain::api_keys::create(&pool, &org_id, Creator::Offline, body).await;
    pool.close().await;
    let created = created.map_err(|err| anyhow::anyhow!(err.body.message))?;
    Ok(OfflineKey {
        id: created.key.id,
        secret: created.secret,
    })
}
