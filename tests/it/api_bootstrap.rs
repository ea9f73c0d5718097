//! First start bootstraps org `default` and one admin key; restarts never add another.

use fleet::server::{Server, ServerConfig, Storage};

use crate::common::backend;

/// The config of a server on `dir` in this run (SQLite in `dir`, or PostgreSQL).
fn config(dir: &std::path::Path) -> ServerConfig {
    let mut config = ServerConfig::new(dir);
    backend::apply(&mut config);
    config
}

fn count(storage: &Storage, table: &str) -> i64 {
    let rows = backend::rows(
        storage,
        &format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}"),
    );
    rows[0][0]
        .as_deref()
        .and_then(|n| n.parse().ok())
        .expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_happens_once_and_the_first_key_keeps_working() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (first, key) = Server::open(config(dir.path())).await.expect("first open");
    let key = key.expect("the first open of an empty data dir creates a key");
    assert!(key.starts_with("fleet_"), "{key}");
    assert!(
        key.len() >= "fleet_".len() + 43,
        "key too short: {} chars",
        key.len()
    );
    drop(first);

    let (second, again) = Server::open(config(dir.path())).await.expect("reopen");
    assert_eq!(again, None, "a restart must not create another key");
    let storage = config(dir.path()).storage();
    assert_eq!(count(&storage, "organizations"), 1);
    assert_eq!(count(&storage, "api_keys"), 1);

    // Only the hash is stored: the plaintext key appears in no database file (SQLite), in no
    // column of any key row (PostgreSQL, whose files are not ours to read).
    if backend::is_postgres() {
        let stored = backend::rows(&storage, "SELECT CAST(k AS TEXT) FROM api_keys k");
        assert_eq!(stored.len(), 1);
        for row in stored {
            let text = row[0].clone().unwrap_or_default();
            assert!(
                !text.contains(&key),
                "a key row holds the plaintext key: {text}"
            );
        }
    }
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
