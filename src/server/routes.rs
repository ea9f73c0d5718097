//! The route registry: each resource module declares each of its routes once, as its handler
//! (whose `#[utoipa::path]` gives the method, path and OpenAPI operation) and its [`Access`].
//! The router ([`super::router`]), the OpenAPI document ([`super::openapi`]) and authorization
//! (the rules bound to each path by the router) are all derived from [`all`], so a route cannot
//! be served without its rule and its documentation.

use axum::http::Method;
use axum::routing::MethodRouter;
use utoipa::openapi::RefOr;
use utoipa::openapi::path::{Operation, PathItem, Paths};
use utoipa::openapi::schema::Schema;
use utoipa_axum::router::UtoipaMethodRouter;

pub use super::authz::Access;
use super::handlers::{
    api_keys, bulk, cas, cohorts, configs, device_certs, device_status, devices, events, firmware,
    meta, products, stats,
};
use super::state::AppState;

/// How a route reads its request body, which decides the layers in front of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// JSON (or nothing) under the service's body limit, behind the access layer:
    /// authentication, authorization and idempotency.
    Json,
    /// JSON under the larger bulk body limit, behind the same access layer.
    Bulk,
    /// Raw bytes the handler streams (firmware parts): authentication and authorization only,
    /// since the idempotency step would buffer the body under the JSON limit.
    Stream,
}

/// One declared route. Built by [`route!`]; the only way to put a handler in the router.
pub struct Route {
    pub access: Access,
    pub body: Body,
    /// The handler's documented operation (one path, one method).
    pub paths: Paths,
    /// The schemas its operation refers to, for the document's components.
    pub schemas: Vec<(String, RefOr<Schema>)>,
    pub handler: MethodRouter<AppState>,
}

/// `route!(handler, access)`: the handler, which must carry `#[utoipa::path]` (its method,
/// path and operation are read from there), and its [`Access`], which cannot be left out.
macro_rules! route {
    ($handler:path, $access:expr $(,)?) => {
        $crate::server::routes::Route::new(utoipa_axum::routes!($handler), $access)
    };
}
pub(crate) use route;

impl Route {
    pub fn new(declared: UtoipaMethodRouter<AppState>, access: Access) -> Route {
        let (schemas, paths, handler) = declared;
        Route {
            access,
            body: Body::Json,
            paths,
            schemas,
            handler,
        }
    }

    /// Reads its JSON body under the bulk limit.
    pub fn bulk(self) -> Route {
        Route {
            body: Body::Bulk,
            ..self
        }
    }

    /// Streams its body itself.
    pub fn streamed(self) -> Route {
        Route {
            body: Body::Stream,
            ..self
        }
    }

    /// Every (path, method, operation) the route serves: exactly one for a sound declaration.
    pub fn operations(&self) -> Vec<(&str, Method, &Operation)> {
        self.paths
            .paths
            .iter()
            .flat_map(|(path, item)| {
                operations_of(item)
                    .into_iter()
                    .map(move |(method, op)| (path.as_str(), method, op))
            })
            .collect()
    }

    /// Like [`Route::operations`], mutably: for the document to add what the registry knows.
    pub fn operations_mut(&mut self) -> Vec<(&str, Method, &mut Operation)> {
        self.paths
            .paths
            .iter_mut()
            .flat_map(|(path, item)| {
                operations_of_mut(item)
                    .into_iter()
                    .map(move |(method, op)| (path.as_str(), method, op))
            })
            .collect()
    }
}

fn operations_of(item: &PathItem) -> Vec<(Method, &Operation)> {
    [
        (Method::GET, &item.get),
        (Method::PUT, &item.put),
        (Method::POST, &item.post),
        (Method::DELETE, &item.delete),
        (Method::OPTIONS, &item.options),
        (Method::HEAD, &item.head),
        (Method::PATCH, &item.patch),
        (Method::TRACE, &item.trace),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.as_ref().map(|op| (method, op)))
    .collect()
}

fn operations_of_mut(item: &mut PathItem) -> Vec<(Method, &mut Operation)> {
    [
        (Method::GET, &mut item.get),
        (Method::PUT, &mut item.put),
        (Method::POST, &mut item.post),
        (Method::DELETE, &mut item.delete),
        (Method::OPTIONS, &mut item.options),
        (Method::HEAD, &mut item.head),
        (Method::PATCH, &mut item.patch),
        (Method::TRACE, &mut item.trace),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.as_mut().map(|op| (method, op)))
    .collect()
}

/// Every route of the service, in the order the document lists them.
pub fn all() -> Vec<Route> {
    [
        meta::routes(),
        products::routes(),
        cohorts::routes(),
        configs::routes(),
        devices::routes(),
        device_status::routes(),
        api_keys::routes(),
        events::routes(),
        bulk::routes(),
        firmware::routes(),
        cas::routes(),
        device_certs::routes(),
        stats::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// What makes the registry sound beyond what the types enforce; `Err` lists each violation.
/// Checked by the tests below, so a declaration that breaks one cannot land.
pub fn check(routes: &[Route]) -> Result<(), Vec<String>> {
    use std::collections::{BTreeMap, BTreeSet};

    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    let mut operation_ids = BTreeSet::new();
    let mut path_kinds: BTreeMap<&str, (Body, bool)> = BTreeMap::new();
    for route in routes {
        let operations = route.operations();
        if operations.len() != 1 {
            problems.push(format!(
                "a route declares {} operations, not one: {:?}",
                operations.len(),
                operations
                    .iter()
                    .map(|(p, m, _)| format!("{m} {p}"))
                    .collect::<Vec<_>>()
            ));
        }
        for (path, method, op) in operations {
            let name = format!("{method} {path}");
            if !seen.insert(name.clone()) {
                problems.push(format!("{name} is declared twice"));
            }
            match op.operation_id.as_deref() {
                Some(id) if is_camel_case(id) => {
                    if !operation_ids.insert(id.to_owned()) {
                        problems.push(format!("{name}: operationId `{id}` is not unique"));
                    }
                }
                other => problems.push(format!(
                    "{name}: operationId {other:?} is not a camelCase name like `listDevices`"
                )),
            }
            let public = route.access == Access::Public;
            let kind = (route.body, public);
            if *path_kinds.entry(path).or_insert(kind) != kind {
                problems.push(format!(
                    "{name}: every method of a path needs the same body kind and publicity, \
                     since one middleware guards the path"
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn is_camel_case(id: &str) -> bool {
    id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_is_sound() {
        if let Err(problems) = check(&all()) {
            panic!("the route registry is unsound:\n{}", problems.join("\n"));
        }
    }

    /// Every registered route is in the served document with the same operationId, and the
    /// document has no operation the registry does not serve.
    #[test]
    fn the_document_lists_exactly_the_registry() {
        let doc = serde_json::to_value(super::super::openapi::document()).expect("document");
        let mut documented = std::collections::BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                let id = op["operationId"].as_str().expect("operationId").to_owned();
                documented.insert((method.to_uppercase(), path.clone(), id));
            }
        }
        let registered: std::collections::BTreeSet<_> = all()
            .iter()
            .flat_map(|route| {
                route
                    .operations()
                    .into_iter()
                    .map(|(path, method, op)| {
                        let id = op.operation_id.clone().unwrap_or_default();
                        (method.to_string(), path.to_owned(), id)
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(documented, registered);
    }

    /// Public routes say so in the document (an empty security requirement); every other one
    /// is documented with the errors of authentication and authorization.
    #[test]
    fn the_document_shows_each_routes_access() {
        let doc = serde_json::to_value(super::super::openapi::document()).expect("document");
        for route in all() {
            for (path, method, _) in route.operations() {
                let op = &doc["paths"][path][method.as_str().to_lowercase()];
                let public = op["security"].as_array().is_some_and(|s| {
                    s.iter()
                        .all(|r| r.as_object().is_some_and(|o| o.is_empty()))
                });
                assert_eq!(public, route.access == Access::Public, "{method} {path}");
                for status in ["401", "403"] {
                    let listed = op["responses"].get(status).is_some();
                    assert_eq!(listed, !public, "{method} {path} and {status}");
                }
            }
        }
    }

    #[test]
    fn unsound_declarations_are_reported() {
        let mut twice = all();
        twice.extend(products::routes().into_iter().take(1));
        let problems = check(&twice).expect_err("a duplicate route");
        assert!(
            problems.iter().any(|p| p.contains("declared twice")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("not unique")),
            "{problems:?}"
        );
        assert!(is_camel_case("listDevices") && !is_camel_case("list_devices"));
    }
}
