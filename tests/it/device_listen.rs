//! The device listener: mutual TLS on `--device-listen`, its server certificate, and what it
//! admits: a device certificate under a registered CA of the device's product (JITP creates
//! unknown devices when the CA allows), never an API key, never a request without a
//! certificate; a forwarded certificate only from a trusted proxy.

use fleet::api::device_api::PING_PATH;

use crate::common::backend;
use crate::common::cli::Cli;
use crate::common::device::{self, Jitp, TestCa, escaped_pem, events, ping_as, refusals};
use crate::common::server::TestServer;

fn product(server: &TestServer, name: &str) {
    Cli::against(server)
        .run(&["product", "create", name])
        .success();
}

fn jitp() -> Jitp {
    Jitp {
        enabled: true,
        ..Jitp::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jitp_creates_the_device_with_the_cas_defaults() {
    let server = TestServer::start_with_devices(|_| {});
    product(&server, "sensor");
    Cli::against(&server)
        .run(&["cohort", "create", "canary", "--product", "sensor"])
        .success();
    let ca = TestCa::new("sensor factory");
    device::insert_ca_fixture(
        &server.storage,
        "sensor",
        &ca,
        &Jitp {
            enabled: true,
            cohort: Some("canary".to_owned()),
            tags: vec!["site:lab".to_owned()],
            target: Some("aarch64-unknown-linux-gnu".to_owned()),
            description: "provisioned by JITP".to_owned(),
        },
    );
    let identity = ca.issue("sn-0001");
    let answer = ping_as(&server, Some(&identity)).await;
    assert_eq!(answer.status, 204, "{answer:?}");

    let shown = Cli::against(&server)
        .run(&["device", "show", "sn-0001", "-o", "json"])
        .success()
        .json();
    assert_eq!(shown["product"], "sensor");
    assert_eq!(shown["cohort"], "canary");
    assert_eq!(shown["tags"], serde_json::json!(["site:lab"]));
    assert_eq!(shown["target"], "aarch64-unknown-linux-gnu");
    assert_eq!(shown["description"], "provisioned by JITP");
    assert_eq!(shown["needs_provisioning"], false);
    let provisioned = events(&server, "device.provisioned");
    assert_eq!(provisioned.len(), 1, "{provisioned:?}");
    assert_eq!(provisioned[0]["resource_id"], shown["id"]);
    assert_eq!(provisioned[0]["product_id"], shown["product_id"]);
    assert_eq!(
        provisioned[0]["details"]["fingerprint"],
        identity.fingerprint
    );
    let certs = backend::rows(
        &server.storage,
        &format!(
            "SELECT device_id, source FROM device_certificates WHERE fingerprint = '{}'",
            identity.fingerprint
        ),
    );
    assert_eq!(
        certs,
        vec![vec![
            shown["id"].as_str().map(str::to_owned),
            Some("presented".to_owned())
        ]]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_without_jitp_admits_registered_devices_only() {
    let server = TestServer::start_with_devices(|_| {});
    product(&server, "sensor");
    Cli::against(&server)
        .run(&["device", "create", "sn-known", "--product", "sensor"])
        .success();
    let ca = TestCa::new("sensor factory");
    device::insert_ca_fixture(&server.storage, "sensor", &ca, &Jitp::default());

    let known = ca.issue("sn-known");
    assert_eq!(ping_as(&server, Some(&known)).await.status, 204);
    let recorded = backend::rows(
        &server.storage,
        &format!(
            "SELECT source FROM device_certificates WHERE fingerprint = '{}'",
            known.fingerprint
        ),
    );
    assert_eq!(recorded, vec![vec![Some("presented".to_owned())]]);

    let unknown = ca.issue("sn-unknown");
    let answer = ping_as(&server, Some(&unknown)).await;
    assert_eq!(answer.status, 403, "{answer:?}");
    assert_eq!(answer.json()["code"], "forbidden");
    assert!(
        answer.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("not registered")),
        "{answer:?}"
    );
    let shown = Cli::against(&server).run(&["device", "show", "sn-unknown"]);
    assert_ne!(shown.code, 0, "no device was created: {shown:?}");
    let refused = refusals(&server, "not registered");
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["result"], "denied");
    assert_eq!(refused[0]["details"]["fingerprint"], unknown.fingerprint);
    assert_eq!(refused[0]["details"]["identifier"], "sn-unknown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_first_connections_of_one_identifier_create_one_device() {
    let server = TestServer::start_with_devices(|_| {});
    product(&server, "sensor");
    let ca = TestCa::new("sensor factory");
    device::insert_ca_fixture(&server.storage, "sensor", &ca, &jitp());
    // Eight certificates for one identifier (a device re-flashed several times), all
    // presented at once: one device, each certificate recorded for it.
    let identities: Vec<_> = (0..8).map(|_| ca.issue("sn-race")).collect();
    let answers =
        futures_util::future::join_all(identities.iter().map(|id| ping_as(&server, Some(id))))
            .await;
    assert!(answers.iter().all(|a| a.status == 204), "{answers:?}");
    let devices = backend::rows(
        &server.storage,
        "SELECT id FROM device_records WHERE identifier = 'sn-race'",
    );
    assert_eq!(devices.len(), 1, "{devices:?}");
    let certs = backend::rows(
        &server.storage,
        "SELECT CAST(COUNT(*) AS TEXT) FROM device_certificates",
    );
    assert_eq!(certs, vec![vec![Some("8".to_owned())]]);
    assert_eq!(events(&server, "device.provisioned").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_are_refused_on_the_device_api() {
    let server = TestServer::start_with_devices(|_| {});
    product(&server, "sensor");
    let ca = TestCa::new("sensor factory");
    device::insert_ca_fixture(&server.storage, "sensor", &ca, &jitp());
    let identity = ca.issue("sn-1");
    let (addr, fingerprint) = device::endpoint(&server);
    let bearer = format!("Bearer {}", server.api_key);
    // With a valid device certificate too: the key is refused, not ignored.
    for identity in [Some(&identity), None] {
        let mut conn = device::connect(addr, &fingerprint, identity)
            .await
            .expect("connect");
        let answer = conn
            .request("GET", PING_PATH, &[("authorization", &bearer)], "")
            .await
            .expect("answer");
        assert_eq!(answer.status, 401, "{answer:?}");
        let message = answer.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(message.contains("does not accept API keys"), "{message}");
    }
    assert_eq!(
        refusals(&server, "API key").len(),
        1,
        "one event per client a minute"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_without_a_certificate_is_refused() {
    let server = TestServer::start_with_devices(|_| {});
    let answer = ping_as(&server, None).await;
    assert_eq!(answer.status, 401, "{answer:?}");
    assert_eq!(answer.json()["code"], "unauthorized");
    assert!(
        answer.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("no client certificate")),
        "{answer:?}"
    );
    assert_eq!(answer.header("connection"), Some("close"));
    // Unknown paths too: nothing of the device API answers before authentication.
    let (addr, fingerprint) = device::endpoint(&server);
    let mut conn = device::connect(addr, &fingerprint, None)
        .await
        .expect("connect");
    let answer = conn.get("/v1/device/nothing-here").await.expect("answer");
    assert_eq!(answer.status, 401, "{answer:?}");
    assert_eq!(refusals(&server, "no client certificate").len(), 1);
}

/// The admin listener has no idea of device certificates: a forwarded one is no credential
/// there, even from a trusted proxy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_refuses_device_certificates() {
    let server = TestServer::start_with_devices(|config| {
        config.transport.trusted_proxies =
            vec![fleet::server::parse_trusted_proxy("127.0.0.1").expect("proxy")];
    });
    product(&server, "sensor");
    let ca = TestCa::new("sensor factory");
    device::insert_ca_fixture(&server.storage, "sensor", &ca, &jitp());
    let identity = ca.issue("sn-1");
    assert_eq!(ping_as(&server, Some(&identity)).await.status, 204);
    let response = reqwest::Client::new()
        .get(format!("{}/v1/products", server.url))
        .header(
            fleet::server::FORWARDED_CERT_HEADER,
            escaped_pem(&identity.cert_pem),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_certificate_counts_only_from_a_trusted_proxy() {
    for trusted in [true, false] {
        let server = TestServer::start_with_devices(move |config| {
            if trusted {
                config.transport.trusted_proxies =
                    vec![fleet::server::parse_trusted_proxy("127.0.0.0/8").expect("proxy")];
            }
        });
        product(&server, "sensor");
        let ca = TestCa::new("sensor factory");
        device::insert_ca_fixture(&server.storage, "sensor", &ca, &jitp());
        let identity = ca.issue("sn-behind-proxy");
        let escaped = escaped_pem(&identity.cert_pem);
        let (addr, fingerprint) = device::endpoint(&server);
        // The proxy's own connection presents no certificate.
        let mut conn = device::connect(addr, &fingerprint, None)
            .await
            .expect("connect");
        let answer = conn
            .request(
                "GET",
                PING_PATH,
                &[(fleet::server::FORWARDED_CERT_HEADER, &escaped)],
                "",
            )
            .await
            .expect("answer");
        if trusted {
            assert_eq!(answer.status, 204, "{answer:?}");
            let device = Cli::against(&server)
                .run(&["device", "show", "sn-behind-proxy", "-o", "json"])
                .success()
                .json();
            assert_eq!(device["product"], "sensor");
        } else {
            assert_eq!(answer.status, 401, "{answer:?}");
            assert!(answer.body.contains("no client certificate"), "{answer:?}");
        }
    }
}

/// A connection's own certificate wins over a forwarded one, even from a trusted proxy: a
/// device cannot pose as another by adding the header.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_with_a_certificate_cannot_forward_another() {
    let server = TestServer::start_with_devices(|config| {
        config.transport.trusted_proxies =
            vec![fleet::server::parse_trusted_proxy("127.0.0.0/8").expect("proxy")];
    });
    product(&server, "sensor");
    let ca = TestCa::new("sensor factory");
    device::insert_ca_fixture(&server.storage, "sensor", &ca, &Jitp::default());
    Cli::against(&server)
        .run(&["device", "create", "sn-victim", "--product", "sensor"])
        .success();
    let victim = ca.issue("sn-victim");
    let intruder = ca.issue("sn-intruder");
    let (addr, fingerprint) = device::endpoint(&server);
    let mut conn = device::connect(addr, &fingerprint, Some(&intruder))
        .await
        .expect("connect");
    let answer = conn
        .request(
            "GET",
            PING_PATH,
            &[(
                fleet::server::FORWARDED_CERT_HEADER,
                &escaped_pem(&victim.cert_pem),
            )],
            "",
        )
        .await
        .expect("answer");
    assert_eq!(answer.status, 403, "{answer:?}");
    assert!(answer.body.contains("not registered"), "{answer:?}");
}

#[test]
fn the_self_signed_certificate_is_generated_once_and_reused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let open = || {
        let path = dir.path().to_path_buf();
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(async move {
                    let mut config = fleet::server::ServerConfig::new(path);
                    config.device_tls = Some(fleet::server::DeviceTls::SelfSigned);
                    backend::apply(&mut config);
                    let (server, _) = fleet::server::Server::open(config).await.expect("open");
                    (
                        server.device_tls_fingerprint().map(str::to_owned),
                        server.device_tls_generated(),
                    )
                })
        })
        .join()
        .expect("open thread")
    };
    let (first, generated) = open();
    assert!(generated, "the first start generates it");
    let key = dir.path().join(fleet::server::SELF_SIGNED_KEY);
    let cert = dir.path().join(fleet::server::SELF_SIGNED_CERT);
    let key_pem = std::fs::read_to_string(&key).expect("key file");
    let cert_pem = std::fs::read_to_string(&cert).expect("cert file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key).expect("key").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the key is private");
    }
    let der = rustls::pki_types::CertificateDer::from(
        x509_parser::pem::parse_x509_pem(cert_pem.as_bytes())
            .expect("PEM")
            .1
            .contents,
    );
    assert_eq!(
        first.as_deref(),
        Some(device::sha256_hex(der.as_ref()).as_str()),
        "the fingerprint is the certificate's SHA-256"
    );
    let (second, generated) = open();
    assert!(!generated, "a later start reuses it");
    assert_eq!(second, first);
    assert_eq!(std::fs::read_to_string(&key).expect("key"), key_pem);
    assert_eq!(std::fs::read_to_string(&cert).expect("cert"), cert_pem);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pinned_fingerprint_is_the_served_certificates() {
    let server = TestServer::start_with_devices(|_| {});
    let (addr, _) = device::endpoint(&server);
    let wrong = "0".repeat(64);
    assert!(
        device::connect(addr, &wrong, None).await.is_err(),
        "a client pinning another fingerprint does not connect"
    );
}
