//! Extractors that turn request problems into `AppError`s, so even a rejected
//! request gets the JSON envelope. (Who is calling is `app::ssr::caller::Caller`,
//! shared with the server functions.)

use app::error::AppError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use http::StatusCode;
use http::request::Parts;
use serde::de::DeserializeOwned;

/// Deepest JSON nesting accepted. Real requests here are flat; deep nesting only
/// serves to exhaust a parser.
pub const MAX_JSON_DEPTH: usize = 16;

/// A JSON body with envelope errors: not JSON → 415, too large → 413, nested too
/// deeply → 422, malformed → 400.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(AppError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge
            } else {
                AppError::bad_request(rejection.body_text())
            }
        })?;
        if json_depth(&bytes) > MAX_JSON_DEPTH {
            return Err(AppError::invalid_field(
                "body",
                format!("JSON may nest at most {MAX_JSON_DEPTH} levels."),
            ));
        }
        serde_json::from_slice(&bytes)
            .map(Self)
            .map_err(|e| match e.classify() {
                serde_json::error::Category::Data => AppError::bad_request(format!("Unexpected JSON shape: {e}")),
                _ => AppError::bad_request(format!("Malformed JSON: {e}")),
            })
    }
}

/// A query string with envelope errors: one that does not parse is a 400.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(value) = Query::<T>::from_request_parts(parts, state)
            .await
            .map_err(|e| AppError::bad_request(format!("Invalid query string: {}", e.body_text())))?;
        Ok(Self(value))
    }
}

/// The deepest nesting of arrays and objects, ignoring brackets inside strings.
fn json_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::json_depth;

    #[test]
    fn measures_nesting_outside_strings() {
        assert_eq!(json_depth(br#"{"a": 1}"#), 1);
        assert_eq!(json_depth(br#"{"a": [[{"b": []}]]}"#), 5);
        assert_eq!(json_depth(br#"{"a": "[[[[{{{{\"]]]"}"#), 1);
        assert_eq!(json_depth(b"[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]"), 20);
    }
}
