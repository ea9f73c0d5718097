//! The single middleware of the authenticated JSON routes (core, bulk and firmware):
//! authentication ([`super::auth`]), then authorization ([`super::authz`]), then idempotency
//! ([`super::idempotency`]). One layer instead of three saves two service clones and boxed
//! futures per request, which was a measurable share of a cheap request (see bench/RESULTS.md).
//! Firmware part uploads stack only the first two, as separate layers. The router puts one in
//! front of each guarded path, bound to that path's rules ([`authz::Guard`]).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::{auth, authz, idempotency};

pub async fn layer(State(guard): State<authz::Guard>, request: Request, next: Next) -> Response {
    let state = &guard.state;
    let (mut parts, body) = request.into_parts();
    let principal = match auth::authenticate(state, &parts).await {
        Ok(principal) => principal,
        Err(response) => return response,
    };
    if let Err(response) = authz::check(&guard, &principal, &mut parts).await {
        return response;
    }
    parts.extensions.insert(principal);
    idempotency::run(state, Request::from_parts(parts, body), next).await
}
