//! Brute-force protection behind a reverse proxy: with `--trusted-proxy`, each client named by
//! `X-Forwarded-For` has its own failure budget; from other peers the header is ignored; and a
//! valid key is never refused because of invalid ones from the same address.

use reqwest::Method;

use crate::api_support::{Api, Resp};
use crate::common::server::TestServer;

const BUDGET: u32 = 3;

fn start(trusted: &'static [&'static str]) -> Api {
    Api::with_server(TestServer::start_with(move |config| {
        config.auth_failures_per_minute = BUDGET;
        config.transport.trusted_proxies = trusted
            .iter()
            .map(|range| fleet::server::parse_trusted_proxy(range).expect("range"))
            .collect();
    }))
}

async fn bad_key_from(api: &Api, forwarded_for: &str) -> Resp {
    api.send(
        api.anonymous(Method::GET, "/v1/products")
            .bearer_auth("fleet_not-a-real-key")
            .header("X-Forwarded-For", forwarded_for),
    )
    .await
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() {
    // The tests connect from 127.0.0.1: that is the proxy.
    let api = start(&["127.0.0.0/8"]);
    for _ in 0..BUDGET {
        bad_key_from(&api, "198.51.100.1")
            .await
            .assert_error(401, "unauthorized");
    }
    bad_key_from(&api, "198.51.100.1")
        .await
        .assert_error(429, "rate_limited");
    // Another client behind the same proxy is not locked out, nor is one that put the
    // locked-out address first (the proxy appends the real one on the right).
    bad_key_from(&api, "198.51.100.2")
        .await
        .assert_error(401, "unauthorized");
    bad_key_from(&api, "198.51.100.1, 198.51.100.3")
        .await
        .assert_error(401, "unauthorized");
}

#[tokio::test]
async fn from_an_untrusted_peer_a_forwarded_address_changes_nothing() {
    // Some proxy range is trusted, but not the peer the requests come from.
    let api = start(&["10.0.0.0/8"]);
    for i in 0..BUDGET {
        bad_key_from(&api, &format!("198.51.100.{i}"))
            .await
            .assert_error(401, "unauthorized");
    }
    bad_key_from(&api, "198.51.100.99")
        .await
        .assert_error(429, "rate_limited");
}

#[tokio::test]
async fn a_valid_key_works_from_an_address_over_its_failure_budget() {
    let api = start(&[]);
    for _ in 0..BUDGET {
        bad_key_from(&api, "")
            .await
            .assert_error(401, "unauthorized");
    }
    bad_key_from(&api, "")
        .await
        .assert_error(429, "rate_limited");
    let valid = api.get("/v1/products").await;
    assert_eq!(valid.status, 200, "{}", valid.body);
    // Invalid keys from there are still refused.
    bad_key_from(&api, "")
        .await
        .assert_error(429, "rate_limited");
}
