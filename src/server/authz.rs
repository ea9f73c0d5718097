//! Authorization: every route carries its [`Access`] (declared beside its handler in the route
//! registry, [`super::routes`]): the least role it needs and whether product-scoped keys may use
//! it at all. The router binds each path's rules to the middleware in front of it, which
//! enforces them and also keeps scoped keys out of other products' resources named in the path
//! (`{product}`, `{device}`), answering 404 so their existence does not leak. Handlers only
//! filter lists and check products named in request bodies
//! ([`super::auth::Principal::check_writable`]).
//!
//! A method with no rule on a guarded path is refused (fail closed), and a route cannot be
//! declared without its access, so none can silently skip authorization.

use std::sync::Arc;

use axum::extract::{FromRequestParts as _, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::auth::Principal;
use super::domain::audit::record_denial;
use super::error::ApiError;
use super::not_found::{unknown_device, unknown_product};
use super::state::AppState;
use super::store;
use crate::api::{ErrorCode, ProductId, Role};

/// Who may use a route with a product-scoped key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Scoped keys may: path resources are checked here, lists and bodies by the handler.
    Products,
    /// Org-level by nature (creating or deleting products): scoped keys get 403.
    OrgWide,
}

/// What a route demands of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No API key at all: liveness and the OpenAPI document.
    Public,
    /// An API key of at least `role`; `scope` says whether product-scoped keys may use it.
    Key { role: Role, scope: Scope },
}

impl Access {
    pub const fn public() -> Access {
        Access::Public
    }

    /// Any key; scoped keys see their own products.
    pub const fn read() -> Access {
        Access::Key {
            role: Role::Read,
            scope: Scope::Products,
        }
    }

    pub const fn write() -> Access {
        Access::Key {
            role: Role::Write,
            scope: Scope::Products,
        }
    }

    pub const fn admin() -> Access {
        Access::Key {
            role: Role::Admin,
            scope: Scope::Products,
        }
    }

    /// The same role, refused to product-scoped keys.
    pub const fn org_wide(self) -> Access {
        match self {
            Access::Public => Access::Public,
            Access::Key { role, .. } => Access::Key {
                role,
                scope: Scope::OrgWide,
            },
        }
    }
}

/// The access rules of one routed path, by method, as the registry declared them.
#[derive(Debug)]
pub struct PathRules {
    /// The route exactly as the router spells it.
    pub path: String,
    pub methods: Vec<(Method, Access)>,
}

impl PathRules {
    /// The rule for `method`; HEAD is treated as GET.
    pub fn rule_for(&self, method: &Method) -> Option<Access> {
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        self.methods
            .iter()
            .find(|(m, _)| m == method)
            .map(|(_, access)| *access)
    }
}

/// The state of a guarded path's middleware: the service, and the rules it enforces.
#[derive(Clone)]
pub struct Guard {
    pub state: AppState,
    pub rules: Arc<PathRules>,
}

/// Middleware, inside authentication: applies the path's rules to the request.
pub async fn authorize(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    // Taken out and put back rather than cloned: the path parameters below need `&mut parts`.
    let Some(principal) = parts.extensions.remove::<Principal>() else {
        return ApiError::unauthorized("missing API key").into_response();
    };
    match check(&guard, &principal, &mut parts).await {
        Ok(()) => {
            parts.extensions.insert(principal);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(response) => response,
    }
}

/// Applies the path's rule for the request's method to `principal`: `Err` is the refusal
/// (403, 404, 405).
pub(super) async fn check(
    guard: &Guard,
    principal: &Principal,
    parts: &mut Parts,
) -> Result<(), Response> {
    let (state, rules) = (&guard.state, &guard.rules);
    let method = &parts.method;
    let route = rules.path.as_str();
    let (role, scope) = match rules.rule_for(method) {
        Some(Access::Key { role, scope }) => (role, scope),
        Some(Access::Public) => return Ok(()),
        None => return Err(method_not_allowed(rules)),
    };
    if principal.role < role {
        let details = denial_details(parts, principal, 403, "role");
        record_denial(&state.pool, principal, None, details).await;
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            format!(
                "this API key has role `{}`; {method} {route} needs `{}`",
                principal.role, role
            ),
        )
        .with_hint("use a key with a higher role (`fleet whoami` shows this one)")
        .into_response());
    }
    if principal.scope().is_none() {
        return Ok(());
    }
    if scope == Scope::OrgWide {
        let details = denial_details(parts, principal, 403, "scope");
        record_denial(&state.pool, principal, None, details).await;
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
            record_denial(&state.pool, principal, product.as_ref(), details).await;
            Err(not_found.into_response())
        }
        Err(err) => Err(err.into_response()),
    }
}

/// The path is routed but not for this method: axum's 405 would come next; answer it here,
/// from the rules, so a method served without a rule is refused too.
fn method_not_allowed(rules: &PathRules) -> Response {
    let allowed: Vec<&str> = rules.methods.iter().map(|(m, _)| m.as_str()).collect();
    let mut response = ApiError::from_status(StatusCode::METHOD_NOT_ALLOWED).into_response();
    if let Ok(value) = axum::http::HeaderValue::try_from(allowed.join(",")) {
        response
            .headers_mut()
            .insert(axum::http::header::ALLOW, value);
    }
    if allowed.is_empty() {
        tracing::error!(
            route = rules.path,
            "guarded route has no access rule; refusing it"
        );
        return ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "this route has no access rule, so no key may use it",
        )
        .into_response();
    }
    response
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
            unknown_product(value)
        } else {
            unknown_device(value)
        };
        return Ok(Some((Some(product), not_found)));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_head_reads_as_get() {
        assert!(Role::Read < Role::Write && Role::Write < Role::Admin);
        let rules = PathRules {
            path: "/v1/products".to_owned(),
            methods: vec![
                (Method::GET, Access::read()),
                (Method::POST, Access::write().org_wide()),
            ],
        };
        assert_eq!(rules.rule_for(&Method::HEAD), Some(Access::read()));
        assert_eq!(
            rules.rule_for(&Method::POST),
            Some(Access::Key {
                role: Role::Write,
                scope: Scope::OrgWide
            })
        );
        assert!(rules.rule_for(&Method::PUT).is_none());
    }
}
