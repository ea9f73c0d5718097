//! The device listener's keep-alive: a device has proven who it is before any HTTP, so its
//! connection waits for the next check-in as long as `--device-keep-alive` says, not the
//! header and idle timeouts that bound anonymous clients on the admin API.

use std::time::Duration;

use fleet::api::device_api::PING_PATH;

use crate::common::cli::Cli;
use crate::common::device::{self, DeviceConn, Jitp, TestCa, connect, endpoint};
use crate::common::server::TestServer;

/// Short enough to pass many times over while a test waits, long enough for a TLS handshake
/// on a busy machine.
const SHORT: Duration = Duration::from_secs(1);
const LONG: Duration = Duration::from_secs(600);
/// Longer than [`SHORT`] by a wide margin, so a timer of [`SHORT`] has surely fired.
const WAIT: Duration = Duration::from_secs(3);

async fn connected_device(server: &TestServer) -> DeviceConn {
    Cli::against(server)
        .run(&["product", "create", "sensor"])
        .success();
    let ca = TestCa::new("sensor factory");
    let jitp = Jitp {
        enabled: true,
        ..Jitp::default()
    };
    device::insert_ca_fixture(&server.storage, "sensor", &ca, &jitp);
    let identity = ca.issue("sn-0001");
    let (addr, fingerprint) = endpoint(server);
    let mut conn = connect(addr, &fingerprint, Some(&identity))
        .await
        .expect("connect");
    let first = conn.get(PING_PATH).await.expect("first ping");
    assert_eq!(first.status, 204, "{first:?}");
    conn
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_connection_outlives_the_header_and_idle_timeouts() {
    let server = TestServer::start_with_devices(|config| {
        config.transport.header_timeout = SHORT;
        config.transport.idle_timeout = SHORT;
        config.device_keep_alive = Some(LONG);
    });
    let mut conn = connected_device(&server).await;
    tokio::time::sleep(WAIT).await;
    let again = conn
        .get(PING_PATH)
        .await
        .expect("the device's connection was closed before its keep-alive ran out");
    assert_eq!(again.status, 204, "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_connection_is_closed_when_its_keep_alive_runs_out() {
    let server = TestServer::start_with_devices(|config| {
        config.transport.header_timeout = LONG;
        config.transport.idle_timeout = LONG;
        config.device_keep_alive = Some(SHORT);
    });
    let mut conn = connected_device(&server).await;
    tokio::time::sleep(WAIT).await;
    let answer = conn.get(PING_PATH).await;
    assert!(
        answer.is_err(),
        "a connection idle past the keep-alive was still served: {answer:?}"
    );
}
