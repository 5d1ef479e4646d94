//! The moments between SIGTERM and closing the listener.
//!
//! A load balancer keeps idle HTTP/1.1 connections open to every instance. If an
//! instance closed its idle connections the instant it was told to stop, a request
//! the balancer had just written to one of them would meet a closed socket, and the
//! balancer may not resend it elsewhere (a POST could already have run). So for a
//! short drain the instance keeps serving, answers every request with `Connection:
//! close` (the balancer drops each connection after its answer instead of reusing
//! it), and reports itself not ready (an orchestrator's health check takes it out).
//! Only then does the listener close and the in-flight requests finish.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::header::CONNECTION;
use axum::middleware::Next;
use axum::response::Response;

/// Whether this process has been told to stop; shared by the router and the
/// shutdown sequence.
#[derive(Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    pub fn begin(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// While draining, no connection is kept for another request: hyper closes the
/// connection after writing a response that says `Connection: close`.
pub async fn close_connections_while_draining(
    State(draining): State<Draining>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    if draining.is_draining() {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    async fn connection_header(draining: &Draining) -> Option<String> {
        let app = Router::new()
            .route("/", get(|| async { "ok" }))
            .layer(axum::middleware::from_fn_with_state(
                draining.clone(),
                close_connections_while_draining,
            ));
        let response = app
            .oneshot(Request::builder().uri("/").body(Body::empty()).unwrap())
            .await
            .unwrap();
        response
            .headers()
            .get(CONNECTION)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    #[tokio::test]
    async fn connections_are_kept_until_the_drain_begins() {
        let draining = Draining::default();
        assert_eq!(connection_header(&draining).await, None);
        draining.begin();
        assert_eq!(connection_header(&draining).await.as_deref(), Some("close"));
    }
}
