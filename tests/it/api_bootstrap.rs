//! First start bootstraps org `default` and one admin key; restarts never add another.

use fleet::server::{Server, ServerConfig};
use sqlx::Connection as _;

async fn count(db: &std::path::Path, table: &str) -> i64 {
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("open the db");
    let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&mut conn)
        .await
        .expect("count");
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_happens_once_and_the_first_key_keeps_working() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (first, key) = Server::open(ServerConfig::new(dir.path()))
        .await
        .expect("first open");
    let key = key.expect("the first open of an empty data dir creates a key");
    assert!(key.starts_with("fleet_"), "{key}");
    assert!(
        key.len() >= "fleet_".len() + 43,
        "key too short: {} chars",
        key.len()
    );
    drop(first);

    let (second, again) = Server::open(ServerConfig::new(dir.path()))
        .await
        .expect("reopen");
    assert_eq!(again, None, "a restart must not create another key");
    let db = dir.path().join("fleet.db");
    assert_eq!(count(&db, "organizations").await, 1);
    assert_eq!(count(&db, "api_keys").await, 1);

    // Only the hash is stored: the plaintext key appears in no database file.
    for entry in std::fs::read_dir(dir.path()).expect("list data dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            continue; // `blobs/`: firmware, empty here
        }
        let bytes = std::fs::read(&path).expect("read db file");
        assert!(
            !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
            "{} contains the plaintext key",
            path.display()
        );
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "http://{}/v1/products",
        listener.local_addr().expect("addr")
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(second.serve(listener, async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let ok = client
        .get(&url)
        .bearer_auth(&key)
        .send()
        .await
        .expect("request");
    assert_eq!(ok.status(), 200, "the first key works after a restart");
    let other = client
        .get(&url)
        .bearer_auth(format!("{key}x"))
        .send()
        .await
        .expect("request");
    assert_eq!(other.status(), 401);
    drop(client);
    stop.send(()).expect("stop");
    serving.await.expect("join").expect("serve");
}
