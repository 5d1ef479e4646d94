//! Extractors that turn request problems into `AppError`s, so even a rejected
//! request gets the JSON envelope.

use app::error::AppError;
use app::ssr::auth::ClientMeta;
use app::ssr::session::SessionToken;
use app::ssr::state::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use http::StatusCode;
use http::request::Parts;
use serde::de::DeserializeOwned;

/// `axum::Json` with envelope errors: malformed → 400, too large → 413, not JSON → 415.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(map_json_rejection(rejection)),
        }
    }
}

fn map_json_rejection(rejection: JsonRejection) -> AppError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => AppError::UnsupportedMediaType,
        JsonRejection::JsonSyntaxError(e) => AppError::bad_request(format!("Malformed JSON: {}", e.body_text())),
        JsonRejection::JsonDataError(e) => AppError::bad_request(format!("Unexpected JSON shape: {}", e.body_text())),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
        other => AppError::bad_request(other.body_text()),
    }
}

/// The session token from the cookie, if any (not yet checked against the store).
pub struct SessionCookie(pub Option<SessionToken>);

impl FromRequestParts<AppState> for SessionCookie {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self(state.cookies.token(&parts.headers)))
    }
}

/// Who is calling: user agent and IP, recorded on new sessions.
pub struct Client(pub ClientMeta);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(ClientMeta::from_parts(parts)))
    }
}

/// The caller as the policy sees them, resolved once from the session cookie.
pub struct Caller {
    pub actor: app::policy::Actor,
    pub token: Option<SessionToken>,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = state.cookies.token(&parts.headers);
        let actor = state.auth.actor(token.as_ref()).await?;
        Ok(Self { actor, token })
    }
}
