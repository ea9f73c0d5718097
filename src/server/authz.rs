//! Authorization: one table says, for every authenticated route, the least role it needs and
//! whether product-scoped keys may use it at all; one middleware enforces it, and also keeps
//! scoped keys out of other products' resources named in the path (`{product}`, `{device}`),
//! answering 404 so their existence does not leak. Handlers only filter lists and check
//! products named in request bodies ([`super::auth::Principal::check_writable`]).
//!
//! A route missing from [`RULES`] is refused (fail closed), and tests compare the table with the
//! OpenAPI document, so a new route cannot silently skip authorization.

use axum::extract::{FromRequestParts as _, MatchedPath, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::auth::Principal;
use super::error::ApiError;
use super::state::AppState;
use super::store;
use crate::api::{AuditAction, ErrorCode, OrgId, ProductId, Role};

/// Who may use a route with a product-scoped key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Scoped keys may: path resources are checked here, lists and bodies by the handler.
    Products,
    /// Org-level by nature (creating or deleting products): scoped keys get 403.
    OrgWide,
}

#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub method: &'static str,
    /// The route exactly as the router spells it.
    pub path: &'static str,
    pub role: Role,
    pub scope: Scope,
}

const fn rule(method: &'static str, path: &'static str, role: Role, scope: Scope) -> Rule {
    Rule {
        method,
        path,
        role,
        scope,
    }
}

use Role::{Admin, Read, Write};
use Scope::{OrgWide, Products};

/// Every authenticated route. API-key routes are `Products` because a scoped admin manages keys
/// within its own products; the handlers narrow that further.
pub const RULES: &[Rule] = &[
    rule("GET", "/v1/whoami", Read, Products),
    rule("GET", "/v1/products", Read, Products),
    rule("POST", "/v1/products", Write, OrgWide),
    rule("GET", "/v1/products/{product}", Read, Products),
    rule("PATCH", "/v1/products/{product}", Write, Products),
    rule("DELETE", "/v1/products/{product}", Write, OrgWide),
    rule("GET", "/v1/products/{product}/cohorts", Read, Products),
    rule("POST", "/v1/products/{product}/cohorts", Write, Products),
    rule(
        "GET",
        "/v1/products/{product}/cohorts/{cohort}",
        Read,
        Products,
    ),
    rule(
        "PATCH",
        "/v1/products/{product}/cohorts/{cohort}",
        Write,
        Products,
    ),
    rule(
        "DELETE",
        "/v1/products/{product}/cohorts/{cohort}",
        Write,
        Products,
    ),
    rule("GET", "/v1/cohorts", Read, Products),
    rule("GET", "/v1/devices", Read, Products),
    rule("POST", "/v1/devices", Write, Products),
    rule("GET", "/v1/devices/{device}", Read, Products),
    rule("PATCH", "/v1/devices/{device}", Write, Products),
    rule("DELETE", "/v1/devices/{device}", Write, Products),
    rule("GET", "/v1/events", Read, Products),
    rule("GET", "/v1/api-keys", Admin, Products),
    rule("POST", "/v1/api-keys", Admin, Products),
    rule("GET", "/v1/api-keys/{key}", Admin, Products),
    rule("POST", "/v1/api-keys/{key}/revoke", Admin, Products),
    // Bulk operations (issue 3): write role; every product and device they touch is checked
    // against the scope by their handlers.
    rule("POST", "/v1/bulk/move", Write, Products),
    rule("POST", "/v1/bulk/assign", Write, Products),
    rule("POST", "/v1/bulk/unassign", Write, Products),
    rule("POST", "/v1/bulk/import", Write, Products),
    // Firmware (issue 4). Binary routes name no product in the path: their handlers check the
    // binary's product against the scope. Signing keys are organization-wide.
    rule("GET", "/v1/products/{product}/artifacts", Read, Products),
    rule("POST", "/v1/products/{product}/artifacts", Write, Products),
    rule(
        "GET",
        "/v1/products/{product}/artifacts/{artifact}",
        Read,
        Products,
    ),
    rule(
        "GET",
        "/v1/products/{product}/artifacts/{artifact}/versions",
        Read,
        Products,
    ),
    rule(
        "POST",
        "/v1/products/{product}/artifacts/{artifact}/versions",
        Write,
        Products,
    ),
    rule(
        "GET",
        "/v1/products/{product}/artifacts/{artifact}/versions/{version}",
        Read,
        Products,
    ),
    rule(
        "POST",
        "/v1/products/{product}/artifacts/{artifact}/versions/{version}/binaries",
        Write,
        Products,
    ),
    rule(
        "GET",
        "/v1/products/{product}/firmware-policy",
        Read,
        Products,
    ),
    rule(
        "PUT",
        "/v1/products/{product}/firmware-policy",
        Admin,
        Products,
    ),
    rule("GET", "/v1/products/{product}/bundles", Read, Products),
    rule("POST", "/v1/products/{product}/bundles", Write, Products),
    rule(
        "GET",
        "/v1/products/{product}/bundles/{bundle}",
        Read,
        Products,
    ),
    rule("GET", "/v1/products/{product}/releases", Read, Products),
    rule("POST", "/v1/products/{product}/releases", Write, Products),
    rule(
        "GET",
        "/v1/products/{product}/releases/{release}",
        Read,
        Products,
    ),
    rule(
        "PATCH",
        "/v1/products/{product}/releases/{release}",
        Write,
        Products,
    ),
    rule("GET", "/v1/binaries", Read, Products),
    rule("GET", "/v1/binaries/{binary}", Read, Products),
    rule("GET", "/v1/binaries/{binary}/parts", Read, Products),
    rule(
        "PUT",
        "/v1/binaries/{binary}/parts/{number}",
        Write,
        Products,
    ),
    rule("POST", "/v1/binaries/{binary}/complete", Write, Products),
    rule("GET", "/v1/binaries/{binary}/download", Read, Products),
    rule("POST", "/v1/binaries/{binary}/signatures", Write, Products),
    rule("GET", "/v1/signing-keys", Read, Products),
    rule("POST", "/v1/signing-keys", Write, OrgWide),
    rule("GET", "/v1/signing-keys/{key}", Read, Products),
    rule("DELETE", "/v1/signing-keys/{key}", Admin, OrgWide),
];

/// The rule for a matched route; HEAD is treated as GET.
pub fn rule_for(method: &Method, path: &str) -> Option<&'static Rule> {
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    RULES
        .iter()
        .find(|rule| rule.method == method && rule.path == path)
}

/// Middleware, inside authentication: applies [`RULES`] to the matched route.
pub async fn authorize(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    // Taken out and put back rather than cloned: the path parameters below need `&mut parts`.
    let Some(principal) = parts.extensions.remove::<Principal>() else {
        return ApiError::unauthorized("missing API key").into_response();
    };
    match check(&state, &principal, &mut parts).await {
        Ok(()) => {
            parts.extensions.insert(principal);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(response) => response,
    }
}

/// Applies the matched route's rule to `principal`: `Err` is the refusal (403, 404, 405).
pub(super) async fn check(
    state: &AppState,
    principal: &Principal,
    parts: &mut Parts,
) -> Result<(), Response> {
    let method = &parts.method;
    let route = parts
        .extensions
        .get::<MatchedPath>()
        .map_or("", MatchedPath::as_str);
    let Some(rule) = rule_for(method, route) else {
        // The path is routed but not for this method: axum's 405 would come next; answer it
        // here, from the rules, so a method added without a rule is refused too.
        let allowed: Vec<&str> = RULES
            .iter()
            .filter(|r| r.path == route)
            .map(|r| r.method)
            .collect();
        if !allowed.is_empty() {
            let mut response =
                ApiError::from_status(StatusCode::METHOD_NOT_ALLOWED).into_response();
            if let Ok(value) = axum::http::HeaderValue::try_from(allowed.join(",")) {
                response
                    .headers_mut()
                    .insert(axum::http::header::ALLOW, value);
            }
            return Err(response);
        }
        tracing::error!(%method, route, "route has no access rule; refusing it");
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "this route has no access rule, so no key may use it",
        )
        .into_response());
    };
    if principal.role < rule.role {
        let details = denial_details(parts, principal, 403, "role");
        record_denial(state, &principal.org_id, principal.actor(), None, details).await;
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            format!(
                "this API key has role `{}`; {method} {route} needs `{}`",
                principal.role, rule.role
            ),
        )
        .with_hint("use a key with a higher role (`fleet whoami` shows this one)")
        .into_response());
    }
    if principal.scope().is_none() {
        return Ok(());
    }
    if rule.scope == OrgWide {
        let details = denial_details(parts, principal, 403, "scope");
        record_denial(state, &principal.org_id, principal.actor(), None, details).await;
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            format!("{method} {route} is an organization-wide operation; this API key is limited to some products"),
        )
        .with_hint("use a key without a product scope")
        .into_response());
    }
    // Only scoped keys need the path parameters.
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(IntoResponse::into_response)?;
    match hidden_path_resource(state, principal, &params).await {
        Ok(None) => Ok(()),
        Ok(Some((product, not_found))) => {
            let details = denial_details(parts, principal, 404, "scope");
            let (org, actor) = (&principal.org_id, principal.actor());
            record_denial(state, org, actor, product.as_ref(), details).await;
            Err(not_found.into_response())
        }
        Err(err) => Err(err.into_response()),
    }
}

/// The `auth.denied` details of a request refused by a rule (`reason`: `role` or `scope`).
fn denial_details(
    parts: &Parts,
    principal: &Principal,
    status: u16,
    reason: &str,
) -> serde_json::Value {
    json!({
        "status": status, "reason": reason, "method": parts.method.as_str(),
        "path": parts.uri.path(), "role": principal.role.as_str(),
    })
}

/// For a scoped key: the first `{product}` or `{device}` in the path that exists outside its
/// scope, with the 404 a missing one would get. Missing ones pass (the handler says 404).
async fn hidden_path_resource(
    state: &AppState,
    principal: &Principal,
    params: &RawPathParams,
) -> Result<Option<(Option<ProductId>, ApiError)>, ApiError> {
    for (name, value) in params {
        let product = match name {
            "product" => match ProductId::parse(value) {
                // An ID outside the scope needs no lookup.
                Some(id) => Some(id),
                None => {
                    let mut conn = state.pool.acquire().await?;
                    store::api_keys::product_id_of(&mut conn, &principal.org_id, value).await?
                }
            },
            "device" => {
                let mut conn = state.pool.acquire().await?;
                store::api_keys::device_product_of(&mut conn, &principal.org_id, value).await?
            }
            _ => continue,
        };
        let Some(product) = product.filter(|p| !principal.sees(p)) else {
            continue;
        };
        let not_found = if name == "product" {
            super::handlers::unknown_product(value)
        } else {
            super::handlers::unknown_device(value)
        };
        return Ok(Some((Some(product), not_found)));
    }
    Ok(None)
}

/// Appends an `auth.denied` event in a transaction of its own (the request changes nothing
/// else). A failure is logged, never turned into an error: the client gets its denial anyway.
pub async fn record_denial(
    state: &AppState,
    org_id: &OrgId,
    actor: store::events::Actor<'_>,
    product: Option<&ProductId>,
    details: serde_json::Value,
) {
    let result = async {
        let mut tx = store::begin_write(&state.pool).await?;
        store::events::AuditEvent::new(org_id, actor, AuditAction::AuthDenied, details)
            .product(product)
            .denied()
            .record(&mut tx)
            .await?;
        tx.commit().await
    }
    .await;
    if let Err(err) = result {
        tracing::warn!(error = %err, "could not record a denied request");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation the OpenAPI document lists, apart from the public ones, has exactly one
    /// rule, and every rule documents a real operation: the table cannot drift from the API.
    #[test]
    fn rules_match_the_documented_routes() {
        let doc = serde_json::to_value(super::super::openapi::document()).expect("document");
        let paths = doc["paths"].as_object().expect("paths");
        let mut documented = Vec::new();
        for (path, ops) in paths {
            for (method, op) in ops.as_object().expect("operations") {
                let public = op["security"].as_array().is_some_and(|s| {
                    s.iter()
                        .all(|r| r.as_object().is_some_and(|o| o.is_empty()))
                });
                if !public {
                    documented.push((method.to_uppercase(), path.clone()));
                }
            }
        }
        for (method, path) in &documented {
            let matching = RULES
                .iter()
                .filter(|r| r.method == method && r.path == path)
                .count();
            assert_eq!(matching, 1, "{method} {path} needs exactly one access rule");
        }
        for rule in RULES {
            let known = documented
                .iter()
                .any(|(m, p)| m == rule.method && p == rule.path);
            assert!(
                known,
                "rule {} {} has no such route",
                rule.method, rule.path
            );
        }
    }

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Read < Role::Write && Role::Write < Role::Admin);
        assert_eq!(
            rule_for(&Method::HEAD, "/v1/products").map(|r| r.role),
            Some(Role::Read)
        );
        assert!(rule_for(&Method::PUT, "/v1/products").is_none());
    }
}
