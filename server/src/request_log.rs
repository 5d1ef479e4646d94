//! A request id on every request (the caller's `X-Request-Id` if it is sane, else a
//! new one), returned in the response, attached to every log line the request
//! produces, and one access-log line per request.

use app::policy::Actor;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use tracing::Instrument;

pub const REQUEST_ID: &str = "x-request-id";

#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Ids from outside are kept only if short and plain, so they cannot forge log lines.
fn sane(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

pub async fn request_log(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Builder::from_random_bytes(rand::random()).into_uuid().to_string());
    request.extensions_mut().insert(RequestId(id.clone()));
    // Filled in by whoever resolves the request's caller (`app::ssr::caller`).
    let caller: Arc<OnceLock<Actor>> = Arc::default();
    request.extensions_mut().insert(caller.clone());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let span = tracing::info_span!("request", request_id = %id);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed().as_secs_f64();
    let route = route_label(&path, status);
    metrics::counter!("http_requests_total", "method" => method.to_string(), "route" => route.clone(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method.to_string(), "route" => route.clone())
        .record(elapsed);
    span.in_scope(|| {
        tracing::info!(
            target: "roster::access",
            %method,
            %route,
            %path,
            status,
            latency_ms = elapsed * 1000.0,
            user_id = caller.get().and_then(|actor| actor.id()).map(|id| id.to_string()),
            "request"
        )
    });
    response.headers_mut().insert(
        REQUEST_ID,
        HeaderValue::from_str(&id).expect("sane ids are valid headers"),
    );
    response
}

/// A bounded label for a path: ids become `{id}`, and anything that matched no
/// route is one label, so random URLs cannot blow up the metric's cardinality.
fn route_label(path: &str, status: u16) -> String {
    if status == 404 {
        return "unmatched".to_owned();
    }
    if path.starts_with("/pkg/") {
        return "/pkg/*".to_owned();
    }
    path.split('/')
        .map(|segment| {
            if uuid::Uuid::try_parse(segment).is_ok() {
                "{id}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
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
