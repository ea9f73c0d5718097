//! Device certificates: registered for a device when they name it and a CA of its product
//! issued them; listed and revoked; revoked for every moved device by `device move`.

use std::io::Write as _;

use serde_json::json;

use crate::access_support::events;
use crate::api_support::Api;
use crate::ident_support::{add_ca, add_cert, ca_dir, device_cert, fields, fingerprint};

#[tokio::test]
async fn a_certificate_under_the_products_ca_is_added_listed_and_revoked() {
    let api = Api::start();
    api.product("sensor").await;
    let device = api
        .device(json!({ "identifier": "sn-1", "product": "sensor" }))
        .await;
    let dir = tempfile::tempdir().expect("dir");
    let factory = ca_dir(dir.path(), "factory");
    let ca = add_ca(&api, "sensor", "factory", &factory.cert_pem).await;
    let pem = device_cert(&factory, "sn-1");

    let cert = add_cert(&api, "sn-1", &pem).await;
    let id = cert["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("dcr_"), "{id}");
    assert_eq!(cert["device"], "sn-1");
    assert_eq!(cert["device_id"], device["id"]);
    assert_eq!(cert["ca_id"], ca["id"]);
    assert_eq!(cert["subject"], "CN=sn-1");
    assert_eq!(cert["fingerprint"], fingerprint(&pem));
    assert_eq!(cert["source"], "registered");
    assert_eq!(cert["revoked_at"], json!(null));

    let listed = api.get("/v1/devices/sn-1/certificates").await;
    assert_eq!(listed.body["data"], json!([cert.clone()]));

    let revoked = api
        .post(
            &format!("/v1/devices/sn-1/certificates/{id}/revoke"),
            json!({ "reason": "key leaked" }),
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert!(revoked.body["revoked_at"].is_string());
    assert_eq!(revoked.body["revoked_reason"], "key leaked");
    // Revoking again changes nothing.
    let again = api
        .post(
            &format!("/v1/devices/sn-1/certificates/{id}/revoke"),
            json!({ "reason": "other" }),
        )
        .await;
    assert_eq!(again.body, revoked.body);
    assert_eq!(
        api.get("/v1/devices/sn-1/certificates").await.body["data"],
        json!([revoked.body.clone()])
    );
    api.post(
        "/v1/devices/sn-1/certificates/dcr_00000000000000000000000000000000/revoke",
        json!({}),
    )
    .await
    .assert_error(404, "not_found");

    let device_id = device["id"].as_str().expect("id");
    let trail = events(&api, &format!("resource={device_id}")).await;
    let count = |action: &str| trail.iter().filter(|e| e["action"] == action).count();
    assert_eq!(count("device_cert.added"), 1, "{trail:?}");
    assert_eq!(count("device_cert.revoked"), 1, "{trail:?}");
}

#[tokio::test]
async fn a_certificate_must_name_its_device_and_come_from_its_products_ca() {
    let api = Api::start();
    api.product("sensor").await;
    api.product("gateway").await;
    api.device(json!({ "identifier": "sn-1", "product": "sensor" }))
        .await;
    api.device(json!({ "identifier": "sn-2", "product": "sensor" }))
        .await;
    let (ours, theirs) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let factory = ca_dir(ours.path(), "factory");
    let other = ca_dir(theirs.path(), "other");
    add_ca(&api, "sensor", "factory", &factory.cert_pem).await;
    add_ca(&api, "gateway", "other", &other.cert_pem).await;

    let wrong_cn = api
        .post(
            "/v1/devices/sn-1/certificates",
            json!({ "certificate": device_cert(&factory, "sn-2") }),
        )
        .await;
    wrong_cn.assert_error(422, "validation_failed");
    assert_eq!(fields(&wrong_cn.body), ["certificate"]);
    assert!(
        wrong_cn.message().contains("`sn-2`") && wrong_cn.message().contains("`sn-1`"),
        "{}",
        wrong_cn.message()
    );

    let foreign = api
        .post(
            "/v1/devices/sn-1/certificates",
            json!({ "certificate": device_cert(&other, "sn-1") }),
        )
        .await;
    foreign.assert_error(422, "validation_failed");
    assert!(
        foreign
            .message()
            .contains("not issued by a CA of product `sensor`"),
        "{}",
        foreign.message()
    );
    assert!(
        foreign.body["hint"]
            .as_str()
            .is_some_and(|h| h.contains("fleet ca add")),
        "{}",
        foreign.body
    );

    let pem = device_cert(&factory, "sn-1");
    add_cert(&api, "sn-1", &pem).await;
    let duplicate = api
        .post(
            "/v1/devices/sn-1/certificates",
            json!({ "certificate": pem }),
        )
        .await;
    duplicate.assert_error(409, "conflict");
    api.post(
        "/v1/devices/sn-1/certificates",
        json!({ "certificate": "garbage" }),
    )
    .await
    .assert_error(422, "validation_failed");
    api.post(
        "/v1/devices/nosuch/certificates",
        json!({ "certificate": pem }),
    )
    .await
    .assert_error(404, "not_found");
}

#[tokio::test]
async fn a_device_move_revokes_the_moved_devices_certificates() {
    let api = Api::start();
    api.product("sensor").await;
    api.product("gateway").await;
    let dir = tempfile::tempdir().expect("dir");
    let factory = ca_dir(dir.path(), "factory");
    add_ca(&api, "sensor", "factory", &factory.cert_pem).await;
    for sn in ["sn-1", "sn-2", "sn-3"] {
        api.device(json!({ "identifier": sn, "product": "sensor" }))
            .await;
        add_cert(&api, sn, &device_cert(&factory, sn)).await;
    }
    let moved = api
        .post(
            "/v1/bulk/move",
            json!({ "selection": { "devices": ["sn-1", "sn-2"] }, "to_product": "gateway" }),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    for sn in ["sn-1", "sn-2"] {
        let certs = api
            .get(&format!("/v1/devices/{sn}/certificates"))
            .await
            .body;
        let cert = &certs["data"][0];
        assert!(cert["revoked_at"].is_string(), "{sn}: {cert}");
        assert_eq!(cert["revoked_reason"], "device moved to another product");
    }
    let stayed = api.get("/v1/devices/sn-3/certificates").await.body;
    assert_eq!(stayed["data"][0]["revoked_at"], json!(null));

    // A dry run changes nothing.
    let dry = api
        .post(
            "/v1/bulk/move",
            json!({ "selection": { "devices": ["sn-3"] }, "to_product": "gateway", "dry_run": true }),
        )
        .await;
    assert_eq!(dry.status, 200, "{}", dry.body);
    let stayed = api.get("/v1/devices/sn-3/certificates").await.body;
    assert_eq!(stayed["data"][0]["revoked_at"], json!(null));
}

/// Certificates made by openssl rather than this tool are accepted the same way.
#[tokio::test]
async fn openssl_made_ca_and_device_certificates_are_accepted() {
    let has_openssl = std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_openssl {
        let _ = writeln!(
            std::io::stderr(),
            "skipped: openssl_made_ca_and_device_certificates_are_accepted needs `openssl` on PATH"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("run openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::write(
        dir.path().join("ext.cnf"),
        "[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n\
         [leaf]\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n",
    )
    .expect("ext");
    run(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-genkey",
        "-noout",
        "-out",
        "ca.key",
    ]);
    run(&[
        "req",
        "-x509",
        "-new",
        "-key",
        "ca.key",
        "-subj",
        "/O=Acme/CN=Acme Factory CA",
        "-days",
        "30",
        "-out",
        "ca.pem",
        "-extensions",
        "ca",
        "-config",
        "ext.cnf",
    ]);
    run(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-genkey",
        "-noout",
        "-out",
        "dev.key",
    ]);
    run(&[
        "req",
        "-new",
        "-key",
        "dev.key",
        "-subj",
        "/CN=sn-ossl",
        "-out",
        "dev.csr",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "dev.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "30",
        "-out",
        "dev.pem",
        "-extfile",
        "ext.cnf",
        "-extensions",
        "leaf",
    ]);
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).expect("read");

    let api = Api::start();
    api.product("sensor").await;
    api.device(json!({ "identifier": "sn-ossl", "product": "sensor" }))
        .await;
    let ca = add_ca(&api, "sensor", "acme", &read("ca.pem")).await;
    assert_eq!(ca["subject"], "CN=Acme Factory CA,O=Acme");
    let cert = add_cert(&api, "sn-ossl", &read("dev.pem")).await;
    assert_eq!(cert["ca_id"], ca["id"]);
}
