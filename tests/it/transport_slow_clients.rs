//! Slow clients cannot exhaust the service: heads and bodies that never finish are timed out,
//! and at the connection cap idle connections make room for new clients.

use std::time::Duration;

use reqwest::Method;
use tokio::io::AsyncWriteExt as _;

use crate::api_support::Api;
use crate::common::server::TestServer;
use crate::transport_support::{EVENTUALLY, closed_by_server, connect, read_response};

const SHORT: Duration = Duration::from_millis(300);
const LONG: Duration = Duration::from_secs(600);

#[tokio::test]
async fn a_head_that_never_completes_is_cut_off_after_the_header_timeout() {
    let server = TestServer::start_with(|config| {
        config.transport.header_timeout = SHORT;
        config.transport.idle_timeout = LONG;
    });
    let mut stream = connect(&server).await;
    stream
        .write_all(b"GET /v1/health HTTP/1.1\r\nHost: fleet\r\n")
        .await
        .expect("send half a head");
    // Keep bytes moving, so only the header timeout (not the idle timeout) can end it.
    let (mut reader, mut writer) = stream.into_split();
    let trickle = tokio::spawn(async move {
        for i in 0.. {
            let line = format!("X-Slow-{i}: 1\r\n");
            if writer.write_all(line.as_bytes()).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let closed = tokio::time::timeout(EVENTUALLY, async {
        use tokio::io::AsyncReadExt as _;
        let mut buf = [0u8; 1024];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    trickle.abort();
    assert!(
        closed.is_ok(),
        "a head trickling in forever was never cut off"
    );
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_idle_timeout() {
    let server = TestServer::start_with(|config| {
        config.transport.header_timeout = LONG;
        config.transport.idle_timeout = SHORT;
    });
    let mut stream = connect(&server).await;
    assert!(
        closed_by_server(&mut stream).await,
        "an idle connection was never closed"
    );
}

#[tokio::test]
async fn a_client_arriving_after_a_quiet_spell_longer_than_the_idle_timeout_is_served() {
    // The accept loop holds a place for the next client; its idle clock must start when the
    // client comes, or the first request after a quiet spell is closed unread as "idle".
    const IDLE: Duration = Duration::from_secs(2);
    let server = TestServer::start_with(|config| {
        config.transport.header_timeout = LONG;
        config.transport.idle_timeout = IDLE;
    });
    tokio::time::sleep(IDLE + Duration::from_secs(1)).await;
    let mut stream = connect(&server).await;
    // As a real client does, connect first and send a moment later, so the service looks at
    // the new connection before its request is there.
    tokio::time::sleep(Duration::from_millis(200)).await;
    stream
        .write_all(b"GET /v1/health HTTP/1.1\r\nHost: fleet\r\n\r\n")
        .await
        .expect("send the request");
    let response = read_response(&mut stream).await;
    assert_eq!(response.status, 200, "{}", response.raw);
}

#[tokio::test]
async fn a_stalled_body_gets_a_json_408() {
    let server = TestServer::start_with(|config| config.transport.body_timeout = SHORT);
    let mut stream = connect(&server).await;
    let head = format!(
        "POST /v1/products HTTP/1.1\r\nHost: fleet\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\":",
        server.api_key
    );
    stream.write_all(head.as_bytes()).await.expect("send");
    let response = read_response(&mut stream).await;
    response.assert_json_error(408, "request_timeout");
    assert!(
        response.headers.iter().any(|h| h == "connection: close"),
        "{}",
        response.raw
    );
    // Nothing was created from the half body.
    let api = Api::with_server(server);
    let products = api.get("/v1/products").await;
    assert_eq!(products.status, 200);
    assert_eq!(
        products.body["data"],
        serde_json::json!([]),
        "{}",
        products.body
    );
}

#[tokio::test]
async fn at_the_cap_an_idle_connection_makes_room_for_a_new_client() {
    const CAP: usize = 4;
    let server = TestServer::start_with(|config| {
        config.transport.max_connections = Some(CAP);
        config.transport.header_timeout = LONG;
        config.transport.idle_timeout = LONG;
    });
    let mut idle = Vec::new();
    for _ in 0..CAP {
        idle.push(connect(&server).await);
    }
    let api = Api::with_server(server);
    let health = tokio::time::timeout(
        EVENTUALLY,
        api.send(api.anonymous(Method::GET, "/v1/health")),
    )
    .await
    .expect("a new client is served while the cap is full of idle connections");
    assert_eq!(health.status, 200);
    // Room was made by closing one of the idle connections.
    let closed = futures_util::future::join_all(idle.iter_mut().map(closed_by_server_soon))
        .await
        .into_iter()
        .filter(|closed| *closed)
        .count();
    assert!(closed >= 1, "no idle connection was closed at the cap");
}

#[tokio::test]
async fn requests_are_answered_while_many_half_open_connections_are_held() {
    const CAP: usize = 8;
    const HELD: usize = 60;
    let server = TestServer::start_with(|config| {
        config.transport.max_connections = Some(CAP);
        config.transport.header_timeout = LONG;
        config.transport.idle_timeout = LONG;
    });
    let mut held = Vec::new();
    for _ in 0..HELD {
        let mut stream = connect(&server).await;
        stream
            .write_all(b"GET /v1/health HTTP/1.1\r\n")
            .await
            .expect("send half a head");
        held.push(stream);
    }
    let api = Api::with_server(server);
    for _ in 0..3 {
        let health = tokio::time::timeout(
            EVENTUALLY,
            api.send(api.anonymous(Method::GET, "/v1/health")),
        )
        .await
        .expect("a normal request is answered while half-open connections are held");
        assert_eq!(health.status, 200);
    }
    // The service holds at most CAP connections: the others were closed to make room.
    let closed = futures_util::future::join_all(held.iter_mut().map(closed_by_server_soon))
        .await
        .into_iter()
        .filter(|closed| *closed)
        .count();
    assert!(
        closed >= HELD - CAP,
        "only {closed} of {HELD} half-open connections were closed with a cap of {CAP}"
    );
}

/// Like [`closed_by_server`] with a short wait: for connections of which only some are expected
/// to close (the others would use up the whole wait).
async fn closed_by_server_soon(stream: &mut tokio::net::TcpStream) -> bool {
    use tokio::io::AsyncReadExt as _;
    let mut buf = [0u8; 1024];
    matches!(
        tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test]
async fn shutdown_does_not_wait_for_heads_that_never_complete() {
    let server = TestServer::start_with(|config| {
        config.transport.header_timeout = LONG;
        config.transport.idle_timeout = LONG;
    });
    let mut stream = connect(&server).await;
    stream
        .write_all(b"GET /v1/health HTTP/1.1\r\n")
        .await
        .expect("send half a head");
    // A request in progress would be answered first; this one never became a request.
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        drop(server);
        let _ = done_tx.send(());
    });
    let stopped = tokio::task::spawn_blocking(move || done_rx.recv_timeout(EVENTUALLY))
        .await
        .expect("join");
    assert!(stopped.is_ok(), "shutdown waited for a half-sent head");
    drop(stream);
}
