//! The local PKI through the real binary: `fleet ca generate` and `fleet device cert issue`
//! write certificates and 0600 keys and never overwrite; what they make is accepted by
//! `fleet ca add` and `fleet device cert add`; the other `ca` and `device cert` commands.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use crate::common::cli::Cli;
use crate::common::server::TestServer;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn ca_generate_writes_a_private_key_and_never_overwrites() {
    let cli = Cli::new();
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("ca");
    let out_arg = out.to_str().expect("utf-8");
    cli.run(&[
        "ca", "generate", "factory", "--out", out_arg, "--days", "30",
    ])
    .success();
    let (cert, key) = (out.join("ca.pem"), out.join("ca.key"));
    assert_eq!(mode(&key), 0o600);
    let cert_pem = std::fs::read_to_string(&cert).expect("cert");
    let key_pem = std::fs::read_to_string(&key).expect("key");
    assert!(cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(key_pem.contains("PRIVATE KEY"));

    let again = cli
        .run(&["ca", "generate", "factory", "--out", out_arg])
        .failure(2);
    assert!(again.stderr.contains("already exists"), "{again:?}");
    assert_eq!(std::fs::read_to_string(&key).expect("key"), key_pem);
    assert_eq!(std::fs::read_to_string(&cert).expect("cert"), cert_pem);
    // Not even the missing one of the pair is written when the other exists.
    std::fs::remove_file(&cert).expect("rm");
    cli.run(&["ca", "generate", "factory", "--out", out_arg])
        .failure(2);
    assert!(!cert.exists());
}

#[test]
fn an_issued_device_certificate_is_accepted_under_its_registered_ca() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    let dir = tempfile::tempdir().expect("dir");
    let (ca_dir, certs) = (dir.path().join("ca"), dir.path().join("certs"));
    let (ca_arg, certs_arg) = (
        ca_dir.to_str().expect("utf-8"),
        certs.to_str().expect("utf-8"),
    );
    cli.run(&["ca", "generate", "factory", "--out", ca_arg])
        .success();
    cli.run(&["product", "create", "sensor"]).success();
    cli.run(&["device", "create", "sn-0042", "--product", "sensor"])
        .success();
    let ca_pem = ca_dir.join("ca.pem");
    let added = cli
        .run(&[
            "ca",
            "add",
            "factory",
            "--product",
            "sensor",
            "--cert",
            ca_pem.to_str().expect("utf-8"),
            "--jitp",
            "-o",
            "json",
        ])
        .success()
        .json();
    assert_eq!(added["jitp"]["enabled"], true);
    let shown = cli
        .run(&["ca", "show", "factory", "--product", "sensor", "-o", "json"])
        .success()
        .json();
    assert_eq!(shown, added);

    cli.run(&[
        "device", "cert", "issue", "sn-0042", "--ca", ca_arg, "--out", certs_arg,
    ])
    .success();
    let (cert, key) = (certs.join("sn-0042.pem"), certs.join("sn-0042.key"));
    assert_eq!(mode(&key), 0o600);
    let key_pem = std::fs::read_to_string(&key).expect("key");
    cli.run(&[
        "device", "cert", "issue", "sn-0042", "--ca", ca_arg, "--out", certs_arg,
    ])
    .failure(2);
    assert_eq!(std::fs::read_to_string(&key).expect("key"), key_pem);

    let registered = cli
        .run(&[
            "device",
            "cert",
            "add",
            "sn-0042",
            "--cert",
            cert.to_str().expect("utf-8"),
            "-o",
            "json",
        ])
        .success()
        .json();
    assert_eq!(registered["subject"], "CN=sn-0042");
    assert_eq!(registered["ca_id"], added["id"]);
    let listed = cli
        .run(&["device", "cert", "list", "sn-0042", "-o", "json"])
        .success()
        .json();
    assert_eq!(listed, serde_json::json!([registered.clone()]));
    let table = cli.run(&["device", "cert", "list", "sn-0042"]).success();
    let text = &table.stdout;
    assert!(
        text.contains("active") && text.contains(registered["id"].as_str().expect("id")),
        "{text}"
    );

    // Tables fit 80 columns; the certificate ID (needed by `revoke`) stays whole.
    for args in [&["device", "cert", "list", "sn-0042"][..], &["ca", "list"]] {
        let run = cli.run_with_env(args, &[("COLUMNS", "80")]).success();
        for line in run.stdout.lines() {
            assert!(line.chars().count() <= 80, "{args:?}: {line:?}");
        }
        if args[0] == "device" {
            let id = registered["id"].as_str().expect("id");
            assert!(run.stdout.contains(id), "{}", run.stdout);
        }
    }

    let id = registered["id"].as_str().expect("id");
    let revoked = cli
        .run(&[
            "device", "cert", "revoke", "sn-0042", id, "--reason", "lost", "--yes", "-o", "json",
        ])
        .success()
        .json();
    assert_eq!(revoked["revoked_reason"], "lost");

    let updated = cli
        .run(&[
            "ca",
            "update",
            "factory",
            "--product",
            "sensor",
            "--disable",
            "--jitp",
            "off",
            "-o",
            "json",
        ])
        .success()
        .json();
    assert_eq!(
        (&updated["enabled"], &updated["jitp"]["enabled"]),
        (&false.into(), &false.into())
    );
    let list = cli.run(&["ca", "list", "-o", "json"]).success().json();
    assert_eq!(list, serde_json::json!([updated.clone()]));
    cli.run(&["ca", "update", "factory", "--product", "sensor"])
        .failure(2);
    cli.run(&["ca", "delete", "factory", "--product", "sensor", "--yes"])
        .success();
    cli.run(&["ca", "show", "factory", "--product", "sensor"])
        .failure(6);
}
