//! Helpers for the `config_*` tests and the access matrix's configuration rows.

use reqwest::Method;
use serde_json::json;

use crate::api_support::Api;

/// Gives product `product`, its cohort `cohort` and device `device` each a configuration
/// document (revision 1 of each), so rollback and diff rows have a revision to name.
pub async fn configure_fixture(api: &Api, product: &str, cohort: &str, device: &str) {
    for path in [
        format!("/v1/products/{product}/config"),
        format!("/v1/products/{product}/cohorts/{cohort}/config"),
        format!("/v1/devices/{device}/config"),
    ] {
        let request = api
            .request(Method::PUT, &path)
            .json(&json!({ "document": { "a": 1 } }));
        let resp = api.send(request).await;
        assert_eq!(resp.status, 200, "PUT {path}: {}", resp.body);
    }
}
