//! Cache headers for the files under /pkg. A file whose name carries a content hash
//! (`roster.<hash>.wasm`, from release builds with hashed file names) never changes,
//! so browsers may keep it for a year without asking; anything else is revalidated
//! on every use (a cheap 304 thanks to Last-Modified).

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;
use http::header::CACHE_CONTROL;

const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

pub async fn cache_headers(request: Request, next: Next) -> Response {
    let policy = request
        .uri()
        .path()
        .strip_prefix("/pkg/")
        .map(|file| if has_content_hash(file) { IMMUTABLE } else { REVALIDATE });
    let mut response = next.run(request).await;
    if let Some(policy) = policy
        && (response.status().is_success() || response.status() == http::StatusCode::NOT_MODIFIED)
    {
        response.headers_mut().insert(CACHE_CONTROL, policy);
    }
    response
}

/// cargo-leptos names hashed files `name.<22 base64url characters>.ext`. Unhashed
/// builds name the split loader with 22 underscores in that place
/// (`__wasm_split.______________________.js`): not a hash.
fn has_content_hash(file: &str) -> bool {
    let parts: Vec<&str> = file.split('.').collect();
    parts.len() >= 3
        && parts[1..parts.len() - 1].iter().any(|p| {
            p.len() == 22
                && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && p.bytes().any(|b| b.is_ascii_alphanumeric())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hashed_names_count_as_immutable() {
        assert!(has_content_hash("roster.mdZ8a1Ue-9S_vq3GBl2xXw.wasm"));
        assert!(has_content_hash("roster.mdZ8a1Ue-9S_vq3GBl2xXw.css"));
        assert!(!has_content_hash("roster.wasm"));
        assert!(!has_content_hash("roster_bg.wasm"));
        assert!(!has_content_hash("roster.short.js"));
        assert!(!has_content_hash("snippets/x/inline0.js"));
        assert!(!has_content_hash("__wasm_split.______________________.js"));
        assert!(has_content_hash("__wasm_split.Qm9ndXNfaGFzaF9fMTIzNA.js"));
    }
}
