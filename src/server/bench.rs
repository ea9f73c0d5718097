//! Benchmarks only: the service plus one route without access control, so `bench/auth.sh` can
//! measure what authentication and scoping cost against the very same handler in the same
//! server. Served by `bench/auth_bench_server.rs`; the `fleet` binary never serves it.

use anyhow::Context as _;
use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::routing::get;

use super::auth::Principal;
use super::handlers::products;
use super::{Server, router, store};
use crate::api::Role;

/// The unauthenticated twin of `GET /v1/products/{product}`.
pub const NO_AUTH_PRODUCT_ROUTE: &str = "/bench/no-auth/products/{product}";

impl Server {
    /// Like [`Server::serve`], plus [`NO_AUTH_PRODUCT_ROUTE`], which runs the product handler
    /// for organization `default` as an org-wide admin with no key, no rule and no scope check.
    /// Never expose this: it is for measuring on a loopback address.
    #[doc(hidden)]
    pub async fn serve_with_unauthenticated_bench_route(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let org_id = store::orgs::id_by_name(&self.state.pool, store::orgs::DEFAULT_ORG)
            .await?
            .context("the database has no `default` organization")?;
        let principal = Principal {
            org_id,
            key_id: "key_bench".to_owned(),
            key_name: "benchmark (no access control)".to_owned(),
            role: Role::Admin,
            scope: None,
        };
        let open = Router::new()
            .route(NO_AUTH_PRODUCT_ROUTE, get(products::get))
            .route_layer(middleware::from_fn(
                move |mut request: Request, next: Next| {
                    request.extensions_mut().insert(principal.clone());
                    next.run(request)
                },
            ));
        let app = router::build_with(self.state.clone(), open);
        self.serve_app(app, listener, shutdown).await
    }
}
