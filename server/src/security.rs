//! Request-level protections: refusing cross-site state changes (CSRF) and the
//! security headers on every response, including a per-response CSP nonce for the
//! hydration script.

use app::error::AppError;
use app::ssr::csp::CspNonce;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{self, HeaderValue};
use http::{HeaderMap, Method};

#[derive(Debug, Clone)]
pub struct SecurityConfig {
    /// HSTS only makes sense behind HTTPS: production.
    pub hsts: bool,
    /// The CDN origin the client files come from (`ROSTER_ASSET_BASE_URL`), if any:
    /// pages may load scripts, styles and the WASM from it and from nowhere else.
    pub asset_origin: Option<String>,
}

/// Browsers say where a request comes from (`Sec-Fetch-Site`, `Origin`). A
/// state-changing request a browser labels cross-site is refused; clients that
/// send neither header (curl, SDKs) are not browsers and cannot carry a victim's
/// cookies, so they pass. SameSite=Lax cookies are the second line.
pub fn is_cross_site(method: &Method, headers: &HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE) {
        return false;
    }
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && site.eq_ignore_ascii_case("cross-site")
    {
        return true;
    }
    match headers.get(header::ORIGIN).map(|v| v.to_str().unwrap_or("null")) {
        None => false,
        Some(origin) => {
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
            let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
            origin == "null" || origin_host.is_empty() || !origin_host.eq_ignore_ascii_case(host)
        }
    }
}

pub async fn csrf_guard(request: Request, next: Next) -> Response {
    if is_cross_site(request.method(), request.headers()) {
        tracing::warn!(method = %request.method(), path = %request.uri().path(), "cross-site request refused");
        return AppError::CrossSiteRequest.into_response();
    }
    next.run(request).await
}

/// Every response but a page: nothing may load or frame it.
const CSP_NOT_A_PAGE: HeaderValue = HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'");
const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
const REFERRER_POLICY: HeaderValue = HeaderValue::from_static("strict-origin-when-cross-origin");
const DENY: HeaderValue = HeaderValue::from_static("DENY");
const HSTS: HeaderValue = HeaderValue::from_static("max-age=63072000; includeSubDomains");
/// Pages and API answers depend on who asks: no browser or shared cache keeps them
/// (after sign-out, the back button or a proxy must not show the account again).
const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");

/// A page's policy around this response's nonce: 'wasm-unsafe-eval' lets the page
/// compile the WASM bundle; no inline script runs without the nonce. With a CDN, its
/// origin is allowed for scripts, styles and fetches (the WASM), nothing more.
fn page_csp(nonce: &CspNonce, asset_origin: Option<&str>) -> HeaderValue {
    let assets = asset_origin.map(|origin| format!(" {origin}")).unwrap_or_default();
    let policy = format!(
        "default-src 'self'; script-src 'self'{assets} 'nonce-{}' 'wasm-unsafe-eval'; style-src 'self'{assets}; \
         img-src 'self' data:; connect-src 'self'{assets}; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'",
        nonce.value()
    );
    HeaderValue::try_from(policy).expect("ASCII policy")
}

/// Only a request that may render a page needs a nonce: not the API or static files.
fn may_render_a_page(request: &Request) -> bool {
    let path = request.uri().path();
    !(path.starts_with("/api/") || path.starts_with("/pkg/") || path.starts_with("/rpc/"))
}

pub async fn security_headers(State(config): State<SecurityConfig>, mut request: Request, next: Next) -> Response {
    let nonce = may_render_a_page(&request).then(CspNonce::generate);
    if let Some(nonce) = &nonce {
        request.extensions_mut().insert(nonce.clone());
    }
    let mut response = next.run(request).await;
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let is_html = content_type.starts_with("text/html");
    // Files (the client, the favicon) keep the caching their own layer gave them.
    let is_dynamic = is_html || content_type.starts_with("application/json");
    let csp = match (&nonce, is_html) {
        (Some(nonce), true) => page_csp(nonce, config.asset_origin.as_deref()),
        _ => CSP_NOT_A_PAGE,
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, NOSNIFF);
    // A page may ask for less (a link landing sends none at all: `link_landing`).
    headers.entry(header::REFERRER_POLICY).or_insert(REFERRER_POLICY);
    headers.insert(header::X_FRAME_OPTIONS, DENY);
    if is_dynamic && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, NO_STORE);
    }
    if config.hsts {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn refuses_cross_site_state_changes_only() {
        let cross = headers(&[("sec-fetch-site", "cross-site")]);
        assert!(is_cross_site(&Method::POST, &cross));
        assert!(is_cross_site(&Method::DELETE, &cross));
        assert!(!is_cross_site(&Method::GET, &cross), "GET never changes state");
        assert!(!is_cross_site(
            &Method::POST,
            &headers(&[("sec-fetch-site", "same-origin")])
        ));
        assert!(
            !is_cross_site(&Method::POST, &HeaderMap::new()),
            "non-browser clients pass"
        );
    }

    #[test]
    fn checks_origin_against_host() {
        let same = headers(&[("origin", "http://127.0.0.1:3000"), ("host", "127.0.0.1:3000")]);
        assert!(!is_cross_site(&Method::POST, &same));
        let other = headers(&[("origin", "https://evil.example"), ("host", "127.0.0.1:3000")]);
        assert!(is_cross_site(&Method::PUT, &other));
        let opaque = headers(&[("origin", "null"), ("host", "127.0.0.1:3000")]);
        assert!(is_cross_site(&Method::POST, &opaque));
    }

    /// An origin whose host cannot be read is not the server's own, even when the
    /// request names no host to compare it with (HTTP/2 carries the host elsewhere).
    #[test]
    fn an_origin_without_a_host_is_cross_site() {
        for origin in ["http://", "null", "not-a-url"] {
            assert!(
                is_cross_site(&Method::POST, &headers(&[("origin", origin)])),
                "{origin} without a Host header"
            );
        }
    }
}
