//! What replicas share through the database rather than memory or the data dir: the API key
//! epoch (a revocation, or a hand edit of `api_keys`, is refused at once by replicas that share
//! nothing but the database) and the brute-force budget (two replicas, one budget).

use std::net::SocketAddr;
use std::path::Path;

use fleet::server::{Database, ServerConfig, Storage};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::common::backend;

/// A replica in this runtime serving `data_dir` on `database` (set before the harness would
/// derive one from the data dir); dropping the sender stops it.
async fn replica(config: ServerConfig) -> (SocketAddr, Option<String>, oneshot::Sender<()>) {
    crate::common::replica::start(config).await
}

fn config(data_dir: &Path) -> ServerConfig {
    let mut config = ServerConfig::new(data_dir);
    backend::apply(&mut config);
    config
}

async fn send(addr: SocketAddr, method: Method, path: &str, key: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .request(method, format!("http://{addr}{path}"))
        .bearer_auth(key)
        .json(&json!({ "name": "ci", "role": "read" }))
        .send()
        .await
        .expect("send");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Runs `UPDATE api_keys SET expires_at = <an hour ago> WHERE id = <id>` straight in the
/// database of `storage`, as an operator's tool would: no service is told.
pub async fn expire_by_hand(storage: &Storage, id: &str) {
    let past = chrono::Utc::now() - chrono::TimeDelta::hours(1);
    let sql = "UPDATE api_keys SET expires_at = $1 WHERE id = $2";
    match &storage.database {
        Database::Sqlite => {
            let db = storage.data_dir.join(fleet::server::DB_FILE);
            let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", db.display()))
                .await
                .expect("open the SQLite database");
            let done = sqlx::query(sql)
                .bind(past)
                .bind(id)
                .execute(&pool)
                .await
                .expect("hand edit");
            assert_eq!(done.rows_affected(), 1);
            pool.close().await;
        }
        Database::Postgres { url, schema } => {
            use std::str::FromStr as _;
            let mut options =
                sqlx::postgres::PgConnectOptions::from_str(url).expect("PostgreSQL URL");
            if let Some(schema) = schema {
                options = options.options([("search_path", schema.as_str())]);
            }
            let pool = sqlx::PgPool::connect_with(options)
                .await
                .expect("connect to PostgreSQL");
            let done = sqlx::query(sql)
                .bind(past)
                .bind(id)
                .execute(&pool)
                .await
                .expect("hand edit");
            assert_eq!(done.rows_affected(), 1);
            pool.close().await;
        }
    }
}

/// Two replicas that share the database and nothing else: on PostgreSQL, two data dirs on one
/// schema (no file can carry the revocation between them). SQLite replicas always share a data
/// dir, which `access_replicas` covers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_reaches_a_replica_that_shares_only_the_database() {
    if !backend::is_postgres() {
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"skipped: replicas on separate data dirs need PostgreSQL (FLEET_TEST_DATABASE_URL)\n",
        );
        return;
    }
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let config_a = config(dir_a.path());
    let mut config_b = ServerConfig::new(dir_b.path());
    config_b.database = config_a.database.clone();
    let (a, admin, _stop_a) = replica(config_a).await;
    let admin = admin.expect("the first replica bootstraps the admin key");
    let (b, none, _stop_b) = replica(config_b).await;
    assert!(
        none.is_none(),
        "the second replica shares the first one's database"
    );

    let (status, created) = send(a, Method::POST, "/v1/api-keys", &admin).await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().expect("secret").to_owned();
    let id = created["id"].as_str().expect("id").to_owned();
    // Cached on both (the second request on each is a cache hit).
    for addr in [a, b, a, b] {
        assert_eq!(send(addr, Method::GET, "/v1/whoami", &secret).await.0, 200);
    }
    let revoke = format!("/v1/api-keys/{id}/revoke");
    let (status, body) = send(a, Method::POST, &revoke, &admin).await;
    assert_eq!(status, 200, "{body}");
    for addr in [b, a] {
        let (status, body) = send(addr, Method::GET, "/v1/whoami", &secret).await;
        assert_eq!(status, 401, "replica {addr} accepts a revoked key: {body}");
    }
    assert_eq!(send(b, Method::GET, "/v1/whoami", &admin).await.0, 200);
}

/// A key cached by a running replica stops working on its next request when an operator's tool
/// changes the key in the database: the trigger bumps the epoch, no service involved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hand_edit_of_a_cached_key_takes_effect_on_the_next_request() {
    let dir = tempfile::tempdir().expect("dir");
    let config = config(dir.path());
    let storage = config.storage();
    let (a, admin, _stop) = replica(config).await;
    let admin = admin.expect("admin key");
    let (status, created) = send(a, Method::POST, "/v1/api-keys", &admin).await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().expect("secret").to_owned();
    for _ in 0..2 {
        assert_eq!(send(a, Method::GET, "/v1/whoami", &secret).await.0, 200);
    }
    expire_by_hand(&storage, created["id"].as_str().expect("id")).await;
    let (status, body) = send(a, Method::GET, "/v1/whoami", &secret).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("expired")),
        "{body}"
    );
}

/// Two replicas on one database draw on one failure budget per client address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_one_brute_force_budget() {
    const BUDGET: u32 = 4;
    let dir = tempfile::tempdir().expect("dir");
    let budget = |mut config: ServerConfig| {
        config.auth_failures_per_minute = BUDGET;
        config
    };
    let (a, admin, _stop_a) = replica(budget(config(dir.path()))).await;
    let admin = admin.expect("admin key");
    let (b, _, _stop_b) = replica(budget(config(dir.path()))).await;
    // Half the budget on each replica: each alone is within its budget.
    for (i, addr) in [a, b, a, b].into_iter().enumerate() {
        let (status, body) = send(
            addr,
            Method::GET,
            "/v1/products",
            &format!("fleet_guess{i}"),
        )
        .await;
        assert_eq!(status, 401, "guess {i} on {addr}: {body}");
    }
    for addr in [a, b] {
        let (status, body) = send(addr, Method::GET, "/v1/products", "fleet_one-more").await;
        assert_eq!(
            status, 429,
            "replica {addr} allows more than the shared budget: {body}"
        );
        assert_eq!(body["code"], "rate_limited");
    }
    // A valid key still works on both.
    for addr in [a, b] {
        assert_eq!(send(addr, Method::GET, "/v1/products", &admin).await.0, 200);
    }
}
