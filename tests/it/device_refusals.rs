//! What the device listener refuses, with the reason the device reads, and the audit event:
//! unknown CA, expired certificate, revoked certificate, disabled CA, a moved device's old
//! certificate; and that a revocation, a disabled CA or a move reaches connections that are
//! already open, from their next request on.

use fleet::api::device_api::PING_PATH;

use crate::common::backend;
use crate::common::cli::Cli;
use crate::common::device::{self, Answer, Jitp, TestCa, events, ping_as, refusals};
use crate::common::server::TestServer;

fn setup(jitp: bool) -> (TestServer, TestCa) {
    let server = TestServer::start_with_devices(|_| {});
    Cli::against(&server)
        .run(&["product", "create", "sensor"])
        .success();
    let ca = TestCa::new("sensor factory");
    device::insert_ca_fixture(
        &server.storage,
        "sensor",
        &ca,
        &Jitp {
            enabled: jitp,
            ..Jitp::default()
        },
    );
    (server, ca)
}

#[track_caller]
fn assert_refused(answer: &Answer, status: u16, reason: &str) {
    assert_eq!(answer.status, status, "{answer:?}");
    let message = answer.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.contains(&format!("device refused: {reason}:")),
        "the reason `{reason}` in {message:?}"
    );
    assert_eq!(answer.header("connection"), Some("close"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_of_an_unknown_ca_is_refused() {
    let (server, _) = setup(true);
    let stranger = TestCa::new("someone else");
    let identity = stranger.issue("sn-1");
    assert_refused(&ping_as(&server, Some(&identity)).await, 401, "unknown CA");
    let refused = refusals(&server, "unknown CA");
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["result"], "denied");
    assert_eq!(refused[0]["details"]["fingerprint"], identity.fingerprint);
    // A CA with the registered CA's name but another key is just as unknown.
    let impostor = TestCa::new("sensor factory").issue("sn-2");
    assert_refused(&ping_as(&server, Some(&impostor)).await, 401, "unknown CA");
    assert!(backend::rows(&server.storage, "SELECT id FROM devices").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_certificate_is_refused() {
    let (server, ca) = setup(true);
    let expired = ca.issue_with("sn-old", |params| device::set_validity(params, -30, -2));
    assert_refused(&ping_as(&server, Some(&expired)).await, 401, "expired");
    let early = ca.issue_with("sn-early", |params| device::set_validity(params, 2, 30));
    assert_refused(&ping_as(&server, Some(&early)).await, 401, "expired");
    assert_eq!(refusals(&server, "expired").len(), 2);
    assert!(backend::rows(&server.storage, "SELECT id FROM devices").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_certificate_is_refused_even_on_an_open_connection() {
    let (server, ca) = setup(true);
    let identity = ca.issue("sn-1");
    let (addr, fingerprint) = device::endpoint(&server);
    let mut open = device::connect(addr, &fingerprint, Some(&identity))
        .await
        .expect("connect");
    assert_eq!(open.get(PING_PATH).await.expect("ping").status, 204);
    assert_eq!(open.get(PING_PATH).await.expect("ping").status, 204);
    backend::execute(
        &server.storage,
        &format!(
            "UPDATE device_certificates SET revoked_at = '2020-01-01T00:00:00Z', \
             revoked_reason = 'key leaked' WHERE fingerprint = '{}'",
            identity.fingerprint
        ),
    );
    // The very next request on the connection that was admitted before.
    assert_refused(&open.get(PING_PATH).await.expect("answer"), 401, "revoked");
    assert!(
        open.get(PING_PATH).await.is_err(),
        "the refused connection was closed"
    );
    assert_refused(&ping_as(&server, Some(&identity)).await, 401, "revoked");
    let refused = refusals(&server, "revoked");
    assert_eq!(
        refused.len(),
        1,
        "one event a minute per certificate: {refused:?}"
    );
    assert!(
        refused[0]["details"]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("key leaked")),
        "{refused:?}"
    );
    let device_id = &backend::rows(&server.storage, "SELECT id FROM devices")[0][0];
    assert_eq!(refused[0]["resource_id"].as_str(), device_id.as_deref());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_ca_refuses_its_devices_even_on_an_open_connection() {
    let (server, ca) = setup(true);
    let identity = ca.issue("sn-1");
    let (addr, fingerprint) = device::endpoint(&server);
    let mut open = device::connect(addr, &fingerprint, Some(&identity))
        .await
        .expect("connect");
    assert_eq!(open.get(PING_PATH).await.expect("ping").status, 204);
    backend::execute(
        &server.storage,
        "UPDATE certificate_authorities SET enabled = FALSE",
    );
    assert_refused(
        &open.get(PING_PATH).await.expect("answer"),
        403,
        "CA disabled",
    );
    let other = ca.issue("sn-2");
    assert_refused(&ping_as(&server, Some(&other)).await, 403, "CA disabled");
    assert_eq!(
        refusals(&server, "CA disabled").len(),
        2,
        "two certificates"
    );
    let devices = backend::rows(&server.storage, "SELECT identifier FROM device_records");
    assert_eq!(
        devices,
        vec![vec![Some("sn-1".to_owned())]],
        "no JITP while disabled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_device_needs_a_certificate_under_a_ca_of_its_new_product() {
    let (server, old_ca) = setup(true);
    let cli = Cli::against(&server);
    cli.run(&["product", "create", "gateway"]).success();
    let new_ca = TestCa::new("gateway factory");
    device::insert_ca_fixture(&server.storage, "gateway", &new_ca, &Jitp::default());
    let old = old_ca.issue("sn-1");
    let (addr, fingerprint) = device::endpoint(&server);
    let mut open = device::connect(addr, &fingerprint, Some(&old))
        .await
        .expect("connect");
    assert_eq!(open.get(PING_PATH).await.expect("ping").status, 204);

    cli.run(&["device", "move", "sn-1", "--to-product", "gateway", "--yes"])
        .success();
    let moved = cli
        .run(&["device", "show", "sn-1", "-o", "json"])
        .success()
        .json();
    assert_eq!(moved["needs_provisioning"], true);
    // The move revoked the device's certificates, so the old one is refused as revoked.
    assert_refused(&open.get(PING_PATH).await.expect("answer"), 401, "revoked");
    assert_refused(&ping_as(&server, Some(&old)).await, 401, "revoked");

    let new = new_ca.issue("sn-1");
    assert_eq!(ping_as(&server, Some(&new)).await.status, 204);
    let provisioned = cli
        .run(&["device", "show", "sn-1", "-o", "json"])
        .success()
        .json();
    assert_eq!(provisioned["needs_provisioning"], false);
    assert_eq!(provisioned["product"], "gateway");
    let events = events(&server, "device.provisioned");
    assert_eq!(
        events.len(),
        2,
        "JITP, then the re-provisioning: {events:?}"
    );
    assert_eq!(events[1]["details"]["fingerprint"], new.fingerprint);
    assert_eq!(events[1]["details"]["created"], false);
    assert_eq!(events[1]["product_id"], provisioned["product_id"]);
    // The old certificate stays refused after the device is provisioned again.
    assert_refused(&ping_as(&server, Some(&old)).await, 401, "revoked");
}

/// A moved device that comes back to its first product is not let in with a certificate it
/// had before the move: the move revoked its credentials.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_revokes_the_certificates_the_device_had() {
    let (server, ca) = setup(true);
    let cli = Cli::against(&server);
    cli.run(&["product", "create", "gateway"]).success();
    let old = ca.issue("sn-1");
    assert_eq!(ping_as(&server, Some(&old)).await.status, 204);
    cli.run(&["device", "move", "sn-1", "--to-product", "gateway", "--yes"])
        .success();
    cli.run(&["device", "move", "sn-1", "--to-product", "sensor", "--yes"])
        .success();
    assert_refused(&ping_as(&server, Some(&old)).await, 401, "revoked");
    let fresh = ca.issue("sn-1");
    assert_eq!(ping_as(&server, Some(&fresh)).await.status, 204);
}

/// A device that retries a refused certificate adds one event a minute, not one per try.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_refusals_are_recorded_once() {
    let (server, ca) = setup(false);
    let identity = ca.issue("sn-unregistered");
    for _ in 0..5 {
        assert_refused(
            &ping_as(&server, Some(&identity)).await,
            403,
            "not registered",
        );
    }
    assert_eq!(refusals(&server, "not registered").len(), 1);
    // The limit is per certificate: another one is recorded.
    let other = ca.issue("sn-other");
    assert_refused(&ping_as(&server, Some(&other)).await, 403, "not registered");
    assert_eq!(refusals(&server, "not registered").len(), 2);
    let slots = backend::rows(
        &server.storage,
        "SELECT subject FROM device_refusals ORDER BY subject",
    );
    assert_eq!(slots.len(), 2, "{slots:?}");
}

/// A certificate the service never saw, under the CA of the product a device has left, is
/// refused because the device now belongs to another product (nothing recorded it to revoke).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unseen_certificate_of_the_old_product_is_refused_after_a_move() {
    let (server, ca) = setup(false);
    let cli = Cli::against(&server);
    cli.run(&["product", "create", "gateway"]).success();
    cli.run(&["device", "create", "sn-7", "--product", "sensor"])
        .success();
    cli.run(&["device", "move", "sn-7", "--to-product", "gateway", "--yes"])
        .success();
    let unseen = ca.issue("sn-7");
    assert_refused(
        &ping_as(&server, Some(&unseen)).await,
        403,
        "device in another product",
    );
    assert_eq!(refusals(&server, "device in another product").len(), 1);
}
