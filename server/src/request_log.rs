//! A request id on every request (the caller's `X-Request-Id` if it is sane, else a
//! new one), returned in the response, attached to every log line the request
//! produces; request metrics; and one access-log line per request.
//!
//! What the request's own task pays is kept small: metric handles are resolved once
//! per (method, route, status) and reused, and the access-log line is formatted and
//! written by a logger task, handed over through a bounded channel (a full channel
//! drops the line and counts it in `roster_access_log_dropped_total` rather than
//! slowing requests down).

use app::policy::Actor;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderValue, Method};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Instant;
use tokio::sync::mpsc;
use tracing::Instrument;
use uuid::Uuid;

pub const REQUEST_ID: &str = "x-request-id";

/// Access-log lines waiting for the logger task; beyond this, lines are dropped.
const ACCESS_LOG_BACKLOG: usize = 16_384;

#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Which of this layer's per-request features are on (all of them, except when a
/// benchmark switches one off to measure it).
#[derive(Clone)]
pub struct RequestLog {
    request_ids: bool,
    metrics: Option<Arc<MetricHandles>>,
    access_log: Option<mpsc::Sender<AccessLine>>,
    /// Lines the full queue refused (exported from the start, so it reads 0, not absent).
    dropped: metrics::Counter,
    /// Each request gets its own Sentry scope (`error_tracking.rs`).
    error_tracking: bool,
}

impl RequestLog {
    /// Starts the logger task when the access log is on: call inside the runtime.
    pub fn new(request_ids: bool, metrics: bool, access_log: bool) -> Self {
        Self {
            request_ids,
            metrics: metrics.then(Arc::default),
            access_log: access_log.then(spawn_access_logger),
            dropped: metrics::counter!("roster_access_log_dropped_total"),
            error_tracking: false,
        }
    }

    /// Tags error events raised during a request with its id and route.
    pub fn tracking_errors(self, on: bool) -> Self {
        Self {
            error_tracking: on,
            ..self
        }
    }
}

/// One request, as the access log records it.
struct AccessLine {
    request_id: Option<String>,
    method: Method,
    route: String,
    path: String,
    status: u16,
    latency_ms: f64,
    user_id: Option<Uuid>,
}

fn spawn_access_logger() -> mpsc::Sender<AccessLine> {
    let (lines, mut queue) = mpsc::channel::<AccessLine>(ACCESS_LOG_BACKLOG);
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(256);
        while queue.recv_many(&mut batch, 256).await > 0 {
            for line in batch.drain(..) {
                tracing::info!(
                    target: "roster::access",
                    request_id = line.request_id.as_deref(),
                    method = %line.method,
                    route = %line.route,
                    path = %line.path,
                    status = line.status,
                    latency_ms = line.latency_ms,
                    user_id = line.user_id.map(|id| id.to_string()),
                    "request"
                );
            }
        }
    });
    lines
}

/// `http_requests_total` and `http_request_duration_seconds` handles by method,
/// route and status, so a request does no label formatting or registry lookup.
#[derive(Default)]
struct MetricHandles(RwLock<HashMap<(Method, u16), HashMap<Box<str>, (metrics::Counter, metrics::Histogram)>>>);

impl MetricHandles {
    fn record(&self, method: &Method, route: &str, status: u16, seconds: f64) {
        let key = (method.clone(), status);
        let found = self
            .0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .and_then(|routes| routes.get(route).cloned());
        let (count, duration) = match found {
            Some(handles) => handles,
            None => {
                let handles = (
                    metrics::counter!("http_requests_total", "method" => method.to_string(), "route" => route.to_owned(), "status" => status.to_string()),
                    metrics::histogram!("http_request_duration_seconds", "method" => method.to_string(), "route" => route.to_owned()),
                );
                self.0
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(key)
                    .or_default()
                    .insert(route.into(), handles.clone());
                handles
            }
        };
        count.increment(1);
        duration.record(seconds);
    }
}

/// Ids from outside are kept only if short and plain, so they cannot forge log lines.
fn sane(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

pub async fn request_log(State(config): State<RequestLog>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = config.request_ids.then(|| {
        request
            .headers()
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|v| sane(v))
            .map(str::to_owned)
            .unwrap_or_else(|| uuid::Builder::from_random_bytes(rand::random()).into_uuid().to_string())
    });
    if let Some(id) = &id {
        request.extensions_mut().insert(RequestId(id.clone()));
    }
    // Filled in by whoever resolves the request's caller (`app::ssr::caller`).
    let caller: Arc<OnceLock<Actor>> = Arc::default();
    request.extensions_mut().insert(caller.clone());
    let method = request.method().clone();
    let path = (config.metrics.is_some() || config.access_log.is_some()).then(|| request.uri().path().to_owned());
    let route_for_errors = config
        .error_tracking
        .then(|| route_label(request.uri().path(), 200).into_owned());
    let handle = async {
        match &id {
            Some(id) => {
                let span = tracing::info_span!("request", request_id = %id);
                next.run(request).instrument(span).await
            }
            None => next.run(request).await,
        }
    };
    let mut response = match &route_for_errors {
        Some(route) => crate::error_tracking::in_request_scope(id.as_deref(), route, handle).await,
        None => handle.await,
    };
    let status = response.status().as_u16();
    if let Some(path) = path {
        let elapsed = started.elapsed();
        let route = route_label(&path, status);
        if let Some(metrics) = &config.metrics {
            metrics.record(&method, &route, status, elapsed.as_secs_f64());
        }
        if let Some(lines) = &config.access_log {
            let line = AccessLine {
                request_id: id.clone(),
                method,
                route: route.into_owned(),
                path,
                status,
                latency_ms: elapsed.as_secs_f64() * 1000.0,
                user_id: caller.get().and_then(|actor| actor.id()),
            };
            if lines.try_send(line).is_err() {
                config.dropped.increment(1);
            }
        }
    }
    if let Some(id) = id {
        response.headers_mut().insert(
            REQUEST_ID,
            HeaderValue::from_str(&id).expect("sane ids are valid headers"),
        );
    }
    response
}

/// A bounded label for a path: ids become `{id}`, and anything that matched no
/// route is one label, so random URLs cannot blow up the metric's cardinality.
fn route_label(path: &str, status: u16) -> Cow<'_, str> {
    if status == 404 {
        return Cow::Borrowed("unmatched");
    }
    if path.starts_with("/pkg/") {
        return Cow::Borrowed("/pkg/*");
    }
    if !path.split('/').any(|segment| Uuid::try_parse(segment).is_ok()) {
        return Cow::Borrowed(path);
    }
    Cow::Owned(
        path.split('/')
            .map(|segment| {
                if Uuid::try_parse(segment).is_ok() {
                    "{id}"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/"),
    )
}

#[cfg(test)]
mod tests {
    use super::{route_label, sane};

    #[test]
    fn route_labels_are_bounded() {
        assert_eq!(
            route_label("/api/users/0193a1b2-0000-7000-8000-000000000001", 200),
            "/api/users/{id}"
        );
        assert_eq!(route_label("/anything/at/all", 404), "unmatched");
        assert_eq!(route_label("/pkg/roster.wasm", 200), "/pkg/*");
        assert_eq!(route_label("/api/me", 401), "/api/me");
    }

    #[test]
    fn only_plain_short_ids_are_accepted() {
        assert!(sane("abc-123_x.y"));
        assert!(!sane(""));
        assert!(!sane(&"a".repeat(65)));
        assert!(!sane("evil\nline"));
        assert!(!sane("a b"));
    }
}
