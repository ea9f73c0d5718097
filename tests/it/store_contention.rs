//! Reads never wait behind writes: with one write transaction held open inside the service and
//! more writes queued behind it, `GET /v1/devices` still answers, before any write does.

use std::sync::Arc;

use fleet::server::WriteGate;
use serde_json::json;

use crate::api_support::Api;
use crate::common::server::TestServer;

/// More writers than the service has connections of any kind, so on one shared pool they would
/// take every connection while they wait for the write lock.
const QUEUED_WRITERS: usize = 16;

struct OpenOnDrop(Arc<WriteGate>);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.open();
    }
}

#[tokio::test]
async fn reads_answer_while_a_write_transaction_is_open_and_writers_queue() {
    let gate = Arc::new(WriteGate::new());
    let server_gate = gate.clone();
    let api = Arc::new(Api::with_server(TestServer::start_with(move |config| {
        config.write_gate = Some(server_gate);
    })));
    api.product("p").await;
    // Authenticate once up front, so the requests below are only what they look like.
    assert_eq!(api.get("/v1/devices").await.status, 200);

    gate.close();
    // A failing assertion must not leave the held write (and so the server's shutdown) waiting.
    let _reopen = OpenOnDrop(gate.clone());
    let create = |n: usize| {
        let api = api.clone();
        tokio::spawn(async move {
            api.post(
                "/v1/devices",
                json!({ "identifier": format!("dev-{n}"), "product": "p" }),
            )
            .await
        })
    };
    let mut writers = vec![create(0)];
    // The first write holds the write lock inside its transaction until the gate opens.
    gate.inside(1).await;
    writers.extend((1..=QUEUED_WRITERS).map(create));
    gate.arrived(1 + QUEUED_WRITERS).await;

    let read = api.get("/v1/devices").await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(
        read.body["data"],
        json!([]),
        "a read sees only committed writes"
    );
    let finished = writers.iter().filter(|w| w.is_finished()).count();
    assert_eq!(
        finished, 0,
        "the read answered only after {finished} writes gave up or went through: it waited \
         behind them"
    );

    gate.open();
    for writer in writers {
        let created = writer.await.expect("writer task");
        assert_eq!(created.status, 201, "{}", created.body);
    }
    let all = api.get("/v1/devices?limit=100").await;
    assert_eq!(
        all.body["data"].as_array().map(Vec::len),
        Some(1 + QUEUED_WRITERS)
    );
}
