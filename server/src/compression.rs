//! Compressing dynamic text responses (HTML pages, JSON envelopes) with gzip for
//! clients that accept it. Static files are not compressed here: the release build
//! ships them precompressed with brotli and gzip, served as they are (`static_cache`).
//!
//! Gzip, not brotli, for content made per request: measured on the release build
//! (docs/PERFORMANCE.md), `/login` served from the page cache ran at 5,473 pages/s
//! with brotli 4 and 33,817 with gzip 4 (89,154 uncompressed), for 2,059 against
//! 2,163 bytes: about 340 µs of CPU per page for brotli against 37 µs for gzip.
//! Small bodies are sent as they are: under a kilobyte the framing and the CPU are
//! not paid back.

use http::{HeaderMap, header};
use tower_http::compression::{CompressionLayer, CompressionLevel, predicate::Predicate};

/// Bodies smaller than this go out uncompressed.
pub const MIN_BYTES: u16 = 1024;

/// The quality used for every encoding.
const LEVEL: i32 = 4;

pub fn layer() -> CompressionLayer<TextAboveMinimum> {
    CompressionLayer::new()
        .br(false)
        .gzip(true)
        .quality(CompressionLevel::Precise(LEVEL))
        .compress_when(TextAboveMinimum)
}

/// Compresses HTML, JSON and plain-text bodies of at least [`MIN_BYTES`]; a body of
/// unknown length (streamed) counts as large.
#[derive(Debug, Clone, Copy)]
pub struct TextAboveMinimum;

impl Predicate for TextAboveMinimum {
    fn should_compress<B>(&self, response: &http::Response<B>) -> bool
    where
        B: http_body::Body,
    {
        is_dynamic_text(response.headers())
            && response
                .body()
                .size_hint()
                .exact()
                .is_none_or(|len| len >= u64::from(MIN_BYTES))
    }
}

fn is_dynamic_text(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = content_type.split(';').next().unwrap_or("").trim();
    matches!(essence, "text/html" | "application/json" | "text/plain")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(content_type: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, content_type.parse().unwrap());
        headers
    }

    #[test]
    fn pages_json_and_text_are_compressible() {
        assert!(is_dynamic_text(&headers("text/html; charset=utf-8")));
        assert!(is_dynamic_text(&headers("application/json")));
        assert!(is_dynamic_text(&headers("text/plain; version=0.0.4")));
    }

    #[test]
    fn binary_and_static_types_are_not() {
        assert!(!is_dynamic_text(&headers("application/wasm")));
        assert!(!is_dynamic_text(&headers("image/png")));
        assert!(!is_dynamic_text(&headers("text/event-stream")));
        assert!(!is_dynamic_text(&HeaderMap::new()));
    }
}
