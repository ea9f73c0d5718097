//! The client waits longer for a bulk operation than for an ordinary request: a bulk
//! transaction over a whole fleet outlasts the ordinary deadline, and giving up on it only
//! leaves its outcome unknown while the service commits.

use std::time::Duration;

use fleet::api::{AssignCohort, BulkResult};
use fleet::client::{ApiClient, Timeouts};

use crate::common::stub::{self, Step};

const RESULT: &str = r#"{"dry_run":false,"matched":1,"changed":1,"unchanged":0}"#;

/// Both answers come after a second; the ordinary deadline is a fifth of that.
fn client(url: &str) -> ApiClient {
    let timeouts = Timeouts {
        request: Duration::from_millis(200),
        ..Timeouts::default()
    };
    ApiClient::with_timeouts(url, "k", timeouts).expect("client")
}

#[tokio::test]
async fn a_slow_bulk_answer_is_waited_for() {
    let (url, seen) = stub::serve(vec![Step::Late(1000, 200, RESULT)]);
    let body = AssignCohort {
        cohort: "beta".into(),
        product: "sensor".into(),
        ..AssignCohort::default()
    };
    let result: BulkResult = client(&url).bulk().assign(&body).await.expect("assign");
    assert_eq!((result.matched, result.changed), (1, 1));
    assert_eq!(
        seen.lock().expect("lock").len(),
        1,
        "answered on the first attempt"
    );
}

#[tokio::test]
async fn an_ordinary_request_keeps_its_shorter_deadline() {
    let (url, _seen) = stub::serve(vec![Step::Late(1000, 200, "{}")]);
    let err = client(&url)
        .products()
        .get("sensor")
        .await
        .expect_err("the answer comes after the deadline");
    assert_eq!(err.exit_code(), 8, "{err}");
    assert!(err.to_string().contains("did not answer in time"), "{err}");
}
