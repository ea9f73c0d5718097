//! Helpers for the `api_*` tests: an authenticated reqwest client against a `TestServer`, and
//! responses decoded to status + headers + JSON.

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::common::server::TestServer;

pub struct Api {
    pub server: TestServer,
    client: reqwest::Client,
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    /// `Value::Null` for an empty body.
    pub body: Value,
}

impl Resp {
    /// The `code` of an error body.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("<no code>")
    }

    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or("<no message>")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an error response: status, JSON content type and `code`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        assert!(
            self.header("content-type")
                .is_some_and(|ct| ct.starts_with("application/json")),
            "error without a JSON content type: {:?}",
            self.headers
        );
        assert_eq!(self.code(), code, "unexpected code; body: {}", self.body);
        assert!(!self.message().is_empty());
    }
}

impl Api {
    pub fn start() -> Api {
        Api {
            server: TestServer::start(),
            client: reqwest::Client::new(),
        }
    }

    /// Like [`Api::start`], against a server started with its own settings.
    #[allow(dead_code)]
    pub fn with_server(server: TestServer) -> Api {
        Api {
            server,
            client: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url)
    }

    /// A request with the admin key; add a body or headers, then `send` it.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(&self.server.api_key)
    }

    pub fn anonymous(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path))
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Resp {
        let response = request.send().await.expect("send the request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("read the body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|err| {
                panic!(
                    "status {status}: body is not JSON ({err}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.request(Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(self.request(Method::POST, path).json(&body))
            .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.send(self.request(Method::PATCH, path).json(&body))
            .await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(self.request(Method::DELETE, path)).await
    }

    /// Creates a product and returns it, asserting 201.
    pub async fn product(&self, name: &str) -> Value {
        let resp = self
            .post("/v1/products", serde_json::json!({ "name": name }))
            .await;
        assert_eq!(resp.status, 201, "create product `{name}`: {}", resp.body);
        resp.body
    }

    /// Creates a cohort in `product` and returns it, asserting 201.
    pub async fn cohort(&self, product: &str, name: &str) -> Value {
        let resp = self
            .post(
                &format!("/v1/products/{product}/cohorts"),
                serde_json::json!({ "name": name }),
            )
            .await;
        assert_eq!(resp.status, 201, "create cohort `{name}`: {}", resp.body);
        resp.body
    }

    /// Creates a device from a full request body and returns it, asserting 201.
    pub async fn device(&self, body: Value) -> Value {
        let resp = self.post("/v1/devices", body.clone()).await;
        assert_eq!(resp.status, 201, "create device {body}: {}", resp.body);
        resp.body
    }

    /// The `name`s (or `identifier`s) of a list page, in order.
    pub async fn names(&self, path: &str, field: &str) -> Vec<String> {
        let resp = self.get(path).await;
        assert_eq!(resp.status, 200, "list {path}: {}", resp.body);
        resp.body["data"]
            .as_array()
            .expect("data array")
            .iter()
            .map(|item| item[field].as_str().expect("string field").to_owned())
            .collect()
    }
}
