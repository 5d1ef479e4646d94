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

#[cfg(test)]
mod tests {
    //! The cache in front of stand-in pages that print their own path, so a page
    //! served under the wrong key, or a response that should not have been kept,
    //! shows in the body and in the counters.
    use super::*;
    use axum::Router;
    use axum::response::{Html, IntoResponse};
    use axum::routing::get;
    use tower::ServiceExt;

    /// A page carrying its path and the request's nonce, as a rendered page does.
    async fn page(request: Request) -> Html<String> {
        let nonce = request.extensions().get::<CspNonce>().unwrap().value().to_owned();
        Html(format!(
            "<script nonce=\"{nonce}\"></script>page {}",
            request.uri().path()
        ))
    }

    async fn with_nonce(mut request: Request, next: Next) -> Response {
        request.extensions_mut().insert(CspNonce::generate());
        next.run(request).await
    }

    fn served(routes: Router, cache: &PageCache) -> Router {
        routes
            .layer(axum::middleware::from_fn_with_state(cache.clone(), serve_cached))
            .layer(axum::middleware::from_fn(with_nonce))
    }

    async fn get_page(app: &Router, path: &str) -> (StatusCode, String) {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    fn new_cache() -> PageCache {
        PageCache::new(CookieConfig::new(false, 3600))
    }

    #[tokio::test]
    async fn each_page_is_kept_under_its_own_path_and_no_other_page_is_kept() {
        let cache = new_cache();
        let routes = Router::new()
            .route(paths::HOME, get(page))
            .route(paths::LOGIN, get(page))
            .route(paths::REGISTER, get(page))
            .route("/account", get(page));
        let app = served(routes, &cache);
        for round in 0..2 {
            for path in [paths::LOGIN, paths::REGISTER, paths::HOME] {
                let (status, body) = get_page(&app, path).await;
                assert_eq!(status, StatusCode::OK);
                assert!(
                    body.ends_with(&format!("page {path}")),
                    "round {round}: {path} got {body}"
                );
            }
        }
        assert_eq!(cache.stats(), PageCacheStats { hits: 3, misses: 3 });
        let (_, body) = get_page(&app, "/account").await;
        assert!(body.ends_with("page /account"));
        assert_eq!(
            cache.stats(),
            PageCacheStats { hits: 3, misses: 3 },
            "a page outside the list is neither read from nor counted by the cache"
        );
    }

    #[tokio::test]
    async fn a_failed_render_a_page_setting_a_cookie_and_a_non_page_are_never_kept() {
        let cache = new_cache();
        let failed = |request: Request| async move { (StatusCode::INTERNAL_SERVER_ERROR, page(request).await) };
        let with_cookie = |request: Request| async move { ([(header::SET_COOKIE, "a=b")], page(request).await) };
        let not_html = |request: Request| async move { page(request).await.0.into_response() };
        let routes = Router::new()
            .route(paths::LOGIN, get(failed))
            .route(paths::REGISTER, get(with_cookie))
            .route(paths::HOME, get(not_html));
        let app = served(routes, &cache);
        for _ in 0..2 {
            assert_eq!(get_page(&app, paths::LOGIN).await.0, StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(get_page(&app, paths::REGISTER).await.0, StatusCode::OK);
            assert_eq!(get_page(&app, paths::HOME).await.0, StatusCode::OK);
        }
        assert_eq!(
            cache.stats(),
            PageCacheStats { hits: 0, misses: 6 },
            "every request rendered again"
        );
    }

    #[tokio::test]
    async fn a_page_up_to_the_size_limit_is_kept_and_a_larger_one_is_an_error() {
        let cache = new_cache();
        let sized = |size: usize| {
            move |request: Request| async move {
                let mut html = page(request).await.0;
                html.push_str(&"x".repeat(size - html.len()));
                Html(html)
            }
        };
        let routes = Router::new()
            .route(paths::LOGIN, get(sized(MAX_PAGE_BYTES)))
            .route(paths::REGISTER, get(sized(MAX_PAGE_BYTES + 1)))
            // A megabyte, far beyond any real page (they are a few kilobytes): kept.
            .route(paths::HOME, get(sized(1 << 20)));
        let app = served(routes, &cache);
        for _ in 0..2 {
            let (status, body) = get_page(&app, paths::LOGIN).await;
            assert_eq!((status, body.len()), (StatusCode::OK, MAX_PAGE_BYTES));
        }
        assert_eq!(cache.stats(), PageCacheStats { hits: 1, misses: 1 });
        let (status, body) = get_page(&app, paths::HOME).await;
        assert_eq!((status, body.len()), (StatusCode::OK, 1 << 20));
        let (status, _) = get_page(&app, paths::REGISTER).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
