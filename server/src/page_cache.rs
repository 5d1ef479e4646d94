//! Signed-out visitors all get the same sign-in, registration and home pages, so
//! each is rendered once and then served from memory. The only per-response part
//! of such a page is its CSP nonce, which is swapped for this response's own.
//!
//! A request is answered from the cache only if it is a plain `GET` of one of
//! those pages, with no query string (form errors travel in it) and no session
//! token (a signed-in page is never cached or served from here). Only complete
//! `200 text/html` responses without `Set-Cookie` are kept. Pages change only with
//! a new binary, so entries live as long as the process.

use app::paths;
use app::ssr::cookie::CookieConfig;
use app::ssr::csp::CspNonce;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderMap, Method, StatusCode, header};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// The pages whose signed-out rendering is the same for everyone.
const CACHEABLE: &[&str] = &[paths::HOME, paths::LOGIN, paths::REGISTER];

/// Pages are tens of kilobytes; this only bounds a runaway one.
const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

struct Page {
    headers: HeaderMap,
    body: String,
    /// The nonce the page was rendered with.
    nonce: String,
}

#[derive(Clone)]
pub struct PageCache {
    cookies: CookieConfig,
    pages: Arc<RwLock<HashMap<&'static str, Arc<Page>>>>,
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    hits: AtomicU64,
    misses: AtomicU64,
}

/// Requests this cache answered from memory, and cacheable ones it had to render.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageCacheStats {
    pub hits: u64,
    pub misses: u64,
}

impl PageCache {
    pub fn new(cookies: CookieConfig) -> Self {
        Self {
            cookies,
            pages: Arc::default(),
            counts: Arc::default(),
        }
    }

    pub fn stats(&self) -> PageCacheStats {
        PageCacheStats {
            hits: self.counts.hits.load(Ordering::Relaxed),
            misses: self.counts.misses.load(Ordering::Relaxed),
        }
    }

    /// The cache key, if this request may be answered from the cache.
    fn key(&self, request: &Request) -> Option<&'static str> {
        if request.method() != Method::GET || request.uri().query().is_some() {
            return None;
        }
        if self.cookies.token(request.headers()).is_some() {
            return None;
        }
        CACHEABLE.iter().copied().find(|p| *p == request.uri().path())
    }
}

pub async fn serve_cached(State(cache): State<PageCache>, request: Request, next: Next) -> Response {
    let Some(key) = cache.key(&request) else {
        return next.run(request).await;
    };
    let Some(nonce) = request.extensions().get::<CspNonce>().map(|n| n.value().to_owned()) else {
        return next.run(request).await;
    };
    let cached = cache.pages.read().unwrap_or_else(|e| e.into_inner()).get(key).cloned();
    if let Some(page) = cached {
        metrics::counter!("roster_page_cache_total", "outcome" => "hit").increment(1);
        cache.counts.hits.fetch_add(1, Ordering::Relaxed);
        let mut response = Response::new(Body::from(page.body.replace(&page.nonce, &nonce)));
        *response.headers_mut() = page.headers.clone();
        return response;
    }
    metrics::counter!("roster_page_cache_total", "outcome" => "miss").increment(1);
    cache.counts.misses.fetch_add(1, Ordering::Relaxed);
    let response = next.run(request).await;
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    if response.status() != StatusCode::OK || !html || response.headers().contains_key(header::SET_COOKIE) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_PAGE_BYTES).await {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::error!(error = %err, page = key, "rendering a page failed");
            return axum::response::IntoResponse::into_response(app::error::AppError::Internal);
        }
    };
    if let Ok(text) = std::str::from_utf8(&bytes)
        && text.contains(&nonce)
    {
        let page = Page {
            headers: parts.headers.clone(),
            body: text.to_owned(),
            nonce,
        };
        cache
            .pages
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, Arc::new(page));
    }
    Response::from_parts(parts, Body::from(bytes))
}
