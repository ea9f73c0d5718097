//! Each request on its way from hyper to the router: refused when its head is past the limits,
//! tagged with the peer and client address, its body under the stall timeout (408 when it
//! stops arriving), and its response body tracked so the connection counts as busy until it is
//! sent.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderValue, Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use tokio::time::Sleep;
use tower::ServiceExt as _;

use super::activity::Activity;
use super::client_ip::{self, ClientIp};
use super::connection::Settings;
use super::head_limits;
use crate::api::ErrorCode;
use crate::server::error::ApiError;

#[derive(Clone)]
pub struct RequestService {
    pub app: axum::Router,
    pub peer: SocketAddr,
    pub activity: Arc<Activity>,
    pub settings: Arc<Settings>,
    /// What the connection's handshake attached (the device listener's peer certificate),
    /// given to each request.
    pub extensions: Extensions,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl hyper::service::Service<Request<Incoming>> for RequestService {
    type Response = Response<TrackedBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let busy = self.activity.start_handling();
        let service = self.clone();
        Box::pin(async move {
            let response = service.handle(request).await;
            service.activity.start_responding();
            drop(busy);
            Ok(response.map(|body| TrackedBody {
                inner: body,
                activity: service.activity,
            }))
        })
    }
}

impl RequestService {
    async fn handle(&self, request: Request<Incoming>) -> Response<Body> {
        if let Some(refusal) = head_limits::check(&request) {
            return refusal;
        }
        let client = client_ip::resolve(
            self.peer.ip(),
            request.headers(),
            &self.settings.trusted_proxies,
        );
        let (mut parts, body) = request.into_parts();
        parts.extensions.insert(ConnectInfo(self.peer));
        parts.extensions.insert(ClientIp(client));
        parts.extensions.extend(self.extensions.clone());
        let stalled = Arc::new(AtomicBool::new(false));
        let body = Body::new(StallTimeout {
            inner: body,
            timeout: self.settings.body_timeout,
            sleep: None,
            armed: false,
            stalled: Arc::clone(&stalled),
        });
        let response = match self
            .app
            .clone()
            .oneshot(Request::from_parts(parts, body))
            .await
        {
            Ok(response) => response,
            Err(never) => match never {},
        };
        if stalled.load(Ordering::Acquire) {
            return body_timed_out(self.settings.body_timeout);
        }
        response
    }
}

/// 408 for a request whose body stopped arriving; whatever the handler made of the broken body
/// is dropped. The connection closes: the rest of that body would be read as the next request.
fn body_timed_out(timeout: Duration) -> Response<Body> {
    let mut response = ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        ErrorCode::RequestTimeout,
        format!(
            "the request body stopped arriving: no data for {}",
            humantime::format_duration(timeout)
        ),
    )
    .with_hint("check the client's connection and send the request again")
    .into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A request body that fails once no data has arrived for `timeout` while the handler waits
/// for it.
struct StallTimeout {
    inner: Incoming,
    timeout: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
    armed: bool,
    stalled: Arc<AtomicBool>,
}

#[derive(Debug, thiserror::Error)]
#[error("no request body data arrived within the body timeout")]
struct BodyStalled;

impl http_body::Body for StallTimeout {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            this.armed = false;
            return Poll::Ready(frame.map(|result| result.map_err(BoxError::from)));
        }
        let deadline = tokio::time::Instant::now() + this.timeout;
        let sleep = match &mut this.sleep {
            Some(sleep) => {
                if !this.armed {
                    sleep.as_mut().reset(deadline);
                }
                sleep
            }
            None => this
                .sleep
                .insert(Box::pin(tokio::time::sleep_until(deadline))),
        };
        this.armed = true;
        if sleep.as_mut().poll(cx).is_ready() {
            this.stalled.store(true, Ordering::Release);
            return Poll::Ready(Some(Err(BodyStalled.into())));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        http_body::Body::is_end_stream(&self.inner)
    }

    fn size_hint(&self) -> SizeHint {
        http_body::Body::size_hint(&self.inner)
    }
}

/// A response body; the connection is busy answering until it is dropped (sent or abandoned).
pub struct TrackedBody {
    inner: Body,
    activity: Arc<Activity>,
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        http_body::Body::is_end_stream(&self.inner)
    }

    fn size_hint(&self) -> SizeHint {
        http_body::Body::size_hint(&self.inner)
    }
}

impl Drop for TrackedBody {
    fn drop(&mut self) {
        self.activity.finish_responding();
    }
}
