//! Helpers for the `transport_*` tests: raw TCP clients that send exactly the bytes a test
//! wants (half a head, a stalled body, a malformed request line) and read what comes back.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::common::server::TestServer;

/// How long a test waits for something that must happen "eventually"; far above any timeout the
/// tests configure, so only a server that never does it fails.
pub const EVENTUALLY: Duration = Duration::from_secs(20);

/// `host:port` of a test server.
pub fn addr(server: &TestServer) -> String {
    server.url.trim_start_matches("http://").to_owned()
}

pub async fn connect(server: &TestServer) -> TcpStream {
    TcpStream::connect(addr(server)).await.expect("connect")
}

/// Whether the server closes `stream` (EOF or reset) within [`EVENTUALLY`], reading and
/// discarding anything it sends first.
pub async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    tokio::time::timeout(EVENTUALLY, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await
    .is_ok()
}

/// A response read off a raw connection.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    /// Lowercased header lines, `name: value`.
    pub headers: Vec<String>,
    pub body: Value,
    pub raw: String,
}

impl RawResponse {
    #[track_caller]
    pub fn assert_json_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.raw);
        assert!(
            self.headers
                .iter()
                .any(|h| h.starts_with("content-type: application/json")),
            "no JSON content type: {}",
            self.raw
        );
        assert_eq!(self.body["code"], code, "{}", self.raw);
        assert!(
            self.body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{}",
            self.raw
        );
    }
}

/// Sends `request` on a new connection, then reads one response (until the connection closes
/// or the declared body is complete), within [`EVENTUALLY`].
pub async fn exchange(server: &TestServer, request: &[u8]) -> RawResponse {
    let mut stream = connect(server).await;
    // The server may answer and close before reading everything (a too-large head).
    let _ = stream.write_all(request).await;
    read_response(&mut stream).await
}

/// Reads one response from `stream`, within [`EVENTUALLY`].
pub async fn read_response(stream: &mut TcpStream) -> RawResponse {
    let mut data = Vec::new();
    let read = tokio::time::timeout(EVENTUALLY, async {
        let mut buf = [0u8; 8192];
        loop {
            if let Some(response) = parse(&data) {
                return Some(response);
            }
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return parse(&data),
                Ok(n) => data.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    match read {
        Ok(Some(response)) => response,
        Ok(None) => panic!(
            "no complete response before the connection closed: {:?}",
            String::from_utf8_lossy(&data)
        ),
        Err(_) => panic!(
            "no response within {EVENTUALLY:?}: {:?}",
            String::from_utf8_lossy(&data)
        ),
    }
}

/// A complete response with a `content-length` body, or `None` while more is needed.
fn parse(data: &[u8]) -> Option<RawResponse> {
    let text = String::from_utf8_lossy(data).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<String> = lines.map(str::to_ascii_lowercase).collect();
    let length: usize = headers
        .iter()
        .find_map(|h| h.strip_prefix("content-length: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    if rest.len() < length {
        return None;
    }
    let body = if length == 0 {
        Value::Null
    } else {
        serde_json::from_str(&rest[..length]).unwrap_or(Value::String(rest[..length].to_owned()))
    };
    Some(RawResponse {
        status,
        headers,
        body,
        raw: text,
    })
}
