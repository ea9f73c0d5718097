//! A full disk: writes answer 507 `insufficient_storage` with a hint and reads keep working;
//! once space is freed, writes work again on the same server, with no restart.
//!
//! The data dir lives on a small tmpfs mounted for the test, which needs root (or
//! CAP_SYS_ADMIN); without it the test says `skipped:` on stderr and passes.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::api_support::{Api, Resp};
use crate::common::server::TestServer;

/// Room for the database, its WAL and a few parts; small enough to fill in a moment.
const TMPFS_SIZE: &str = "16m";
/// Writes tried at most before the disk must have said it is full.
const MAX_WRITES: usize = 20_000;

/// A tmpfs mounted on a temp dir, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount() -> Result<Tmpfs, String> {
        let dir = tempfile::tempdir().map_err(|err| format!("no temp dir: {err}"))?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={TMPFS_SIZE},mode=0700")])
            .arg("tmpfs")
            .arg(dir.path())
            .output()
            .map_err(|err| format!("could not run mount: {err}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed (needs root): {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(self.dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            // Something still holds a file open: detach it now, it goes when released.
            let _ = Command::new("umount")
                .arg("-l")
                .arg(self.dir.path())
                .status();
        }
    }
}

/// Writes zeros to `path` until the file system refuses with ENOSPC.
fn fill(path: &Path) {
    let mut file = std::fs::File::create(path).expect("create the filler");
    let chunk = vec![0u8; 64 * 1024];
    loop {
        match file.write(&chunk) {
            Ok(0) => break,
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::StorageFull => break,
            Err(err) => panic!("filling the disk failed otherwise: {err}"),
        }
    }
    let _ = file.sync_all();
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn create_device(api: &Api, n: usize) -> Resp {
    // A long description makes each write take pages, so the disk says it is full soon.
    api.post(
        "/v1/devices",
        json!({ "identifier": format!("dev-{n}"), "product": "p", "description": "x".repeat(1000) }),
    )
    .await
}

#[track_caller]
fn assert_disk_full(resp: &Resp) {
    resp.assert_error(507, "insufficient_storage");
    let hint = resp.body["hint"].as_str().unwrap_or_default();
    assert!(hint.contains("free space"), "{}", resp.body);
}

#[tokio::test]
async fn full_disk_gives_507_and_recovers_without_restart_needs_root_to_mount_tmpfs() {
    let name = "full_disk_gives_507_and_recovers_without_restart";
    // The tmpfs holds the data dir, which holds the database only when it is SQLite, and the
    // blobs only when they are local.
    if !crate::common::backend::sqlite_only(&format!("{name}: the database file on a full disk"))
        || !crate::common::backend::local_blobs(name)
    {
        return;
    }
    let tmpfs = match Tmpfs::mount() {
        Ok(tmpfs) => tmpfs,
        Err(why) => {
            // Said on stderr so a run without root shows what it did not test.
            let _ = writeln!(
                std::io::stderr(),
                "skipped: full_disk_gives_507_and_recovers_without_restart: {why}"
            );
            return;
        }
    };
    let data_dir: PathBuf = tmpfs.path().join("data");
    let server_dir = data_dir.clone();
    let api = Api::with_server(TestServer::start_with(move |config| {
        config.data_dir = server_dir;
        config.part_size_bytes = 64 * 1024;
    }));
    api.product("p").await;
    let part = vec![7u8; 64 * 1024];
    let digest = sha256(&part);
    let base = "/v1/products/p/artifacts";
    assert_eq!(api.post(base, json!({ "name": "app" })).await.status, 201);
    let versions = format!("{base}/app/versions");
    assert_eq!(
        api.post(&versions, json!({ "version": "1.0" }))
            .await
            .status,
        201
    );
    let declared = api
        .post(
            &format!("{versions}/1.0/binaries"),
            json!({ "target": "armv7", "size": part.len(), "sha256": digest }),
        )
        .await;
    assert_eq!(declared.status, 201, "{}", declared.body);
    let binary = declared.body["binary"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let put_part = || {
        api.request(Method::PUT, &format!("/v1/binaries/{binary}/parts/1"))
            .header("x-fleet-part-sha256", &digest)
            .body(part.clone())
    };

    let filler = tmpfs.path().join("filler");
    fill(&filler);
    // SQLite reuses WAL space it already has, so the first writes may still fit.
    let mut written = 0;
    let refused = loop {
        let resp = create_device(&api, written).await;
        if resp.status != 201 {
            break resp;
        }
        written += 1;
        assert!(written < MAX_WRITES, "the full disk never refused a write");
    };
    assert_disk_full(&refused);
    assert_disk_full(&create_device(&api, written).await);
    assert_disk_full(&api.send(put_part()).await);

    let devices = api.get("/v1/devices?limit=1000").await;
    assert_eq!(
        devices.status, 200,
        "reads work on a full disk: {}",
        devices.body
    );
    assert_eq!(devices.body["data"].as_array().map(Vec::len), Some(written));
    assert_eq!(api.get("/v1/products/p").await.status, 200);

    std::fs::remove_file(&filler).expect("free the space");
    let created = create_device(&api, written).await;
    assert_eq!(
        created.status, 201,
        "writes work again at once: {}",
        created.body
    );
    let stored = api.send(put_part()).await;
    assert_eq!(stored.status, 200, "{}", stored.body);
    let shown: Value = api.get(&format!("/v1/devices/dev-{written}")).await.body;
    assert_eq!(shown["identifier"], json!(format!("dev-{written}")));
    drop(api);
}
