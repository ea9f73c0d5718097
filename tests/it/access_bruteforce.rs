//! Brute-force protection: a client that keeps presenting invalid keys gets 429 with
//! Retry-After for them (a valid key still works), while requests without a key are not counted.

use reqwest::Method;

use crate::api_support::Api;

#[tokio::test]
async fn repeated_bad_keys_are_slowed_down() {
    let api = Api::start();
    for _ in 0..3 {
        let resp = api.send(api.anonymous(Method::GET, "/v1/products")).await;
        resp.assert_error(401, "unauthorized");
    }
    for i in 0..10 {
        let resp = api
            .send(
                api.anonymous(Method::GET, "/v1/products")
                    .bearer_auth(format!("fleet_guess{i}")),
            )
            .await;
        resp.assert_error(401, "unauthorized");
    }
    let blocked = api
        .send(
            api.anonymous(Method::GET, "/v1/products")
                .bearer_auth("fleet_guess-more"),
        )
        .await;
    blocked.assert_error(429, "rate_limited");
    let wait: u64 = blocked
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&wait), "{wait}");
    // A valid key still works from that address (it may be another client behind the same
    // NAT); only its invalid keys are refused.
    let valid = api.get("/v1/products").await;
    assert_eq!(valid.status, 200, "{}", valid.body);
    // Unauthenticated endpoints still answer.
    assert_eq!(
        api.send(api.anonymous(Method::GET, "/v1/health"))
            .await
            .status,
        200
    );
}
