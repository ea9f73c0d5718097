//! The router, built from the route registry ([`super::routes`]), and the layers around it:
//! request tracing, panic capture, body limit, each path's access layer (authentication,
//! authorization against the path's declared rules, idempotency), and JSON for every error the
//! framework itself produces.

use std::any::Any;
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use super::authz::{Guard, PathRules};
use super::error::ApiError;
use super::routes::{self, Access, Body as BodyKind};
use super::state::AppState;
use super::{access, auth, authz};

pub fn build(state: AppState) -> Router {
    build_with(state, Router::new())
}

/// [`build`] with `extra` routes under the same outer layers (tracing, errors, body limit) but
/// none of the registry's access layers: for the benchmark server ([`super::bench`]) only.
pub fn build_with(state: AppState, extra: Router<AppState>) -> Router {
    let max_body = state.max_body_bytes;
    let mut router = Router::new();
    for (path, declared) in by_path(routes::all()) {
        router = router.route(&path, guarded(&state, path.clone(), declared));
    }
    router
        .merge(extra)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn(json_errors))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

/// The routes of one path: one middleware guards them all, so a method the path does not
/// serve is answered (405) after authentication, like the others.
struct PathRoutes {
    body: BodyKind,
    rules: Vec<(Method, Access)>,
    handler: MethodRouter<AppState>,
}

fn by_path(routes: Vec<routes::Route>) -> BTreeMap<String, PathRoutes> {
    let mut paths: BTreeMap<String, PathRoutes> = BTreeMap::new();
    for route in routes {
        let operations: Vec<(String, Method)> = route
            .operations()
            .into_iter()
            .map(|(path, method, _)| (path.to_owned(), method))
            .collect();
        let Some((path, _)) = operations.first() else {
            continue;
        };
        let rules = operations
            .iter()
            .map(|(_, method)| (method.clone(), route.access));
        match paths.entry(path.clone()) {
            Entry::Occupied(mut entry) => {
                let existing = entry.get_mut();
                existing.rules.extend(rules);
                let handler = std::mem::replace(&mut existing.handler, MethodRouter::new());
                existing.handler = handler.merge(route.handler);
            }
            Entry::Vacant(entry) => {
                entry.insert(PathRoutes {
                    body: route.body,
                    rules: rules.collect(),
                    handler: route.handler,
                });
            }
        }
    }
    paths
}

/// A path's handlers behind the layers its declarations ask for, bound to its access rules.
fn guarded(state: &AppState, path: String, declared: PathRoutes) -> MethodRouter<AppState> {
    let PathRoutes {
        body,
        rules,
        handler,
    } = declared;
    if rules.iter().all(|(_, access)| *access == Access::Public) {
        return handler;
    }
    let rules = Arc::new(PathRules {
        path,
        methods: rules,
    });
    match body {
        BodyKind::Json => handler.layer(middleware::from_fn_with_state(
            Guard {
                state: state.clone(),
                rules,
            },
            access::layer,
        )),
        // Bulk bodies may be far larger than other requests': their handlers and the
        // idempotency step read them under the bulk limit.
        BodyKind::Bulk => {
            let bulk_state = state.with_max_body_bytes(state.bulk.max_body_bytes);
            let guard = Guard {
                state: bulk_state.clone(),
                rules,
            };
            handler
                .with_state(bulk_state)
                .layer(middleware::from_fn_with_state(guard, access::layer))
        }
        // A part PUT is idempotent by itself (same number, same bytes, same result).
        BodyKind::Stream => {
            let guard = Guard {
                state: state.clone(),
                rules,
            };
            handler
                .layer(middleware::from_fn_with_state(guard, authz::authorize))
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    auth::require_key,
                ))
        }
    }
}

async fn not_found(request: Request) -> ApiError {
    let path = request.uri().path();
    let hint = if path.starts_with("/v1/v1/") {
        // A base URL given with its /v1 (`--api-url http://host:4040/v1`).
        "the path has /v1 twice: leave /v1 out of the base URL (`--api-url http://HOST:PORT`)"
    } else {
        "the API lives under /v1; see /v1/openapi.json"
    };
    ApiError::not_found(format!("no route for {} {path}", request.method())).with_hint(hint)
}

/// Replaces any error response that is not already JSON (axum's own 405, for one) with the JSON
/// error shape, keeping its status and headers such as `Allow`.
pub(super) async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let body = ApiError::from_status(status).into_response();
    let (body_parts, body) = body.into_parts();
    for (name, value) in &body_parts.headers {
        parts.headers.insert(name, value.clone());
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, body)
}

pub(super) fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "handler panicked");
    let mut response = ApiError::internal().into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
