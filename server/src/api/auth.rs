//! `/api/register`, `/api/login`, `/api/logout`, `/api/me`: adapters over
//! `AuthService`, the same service the server functions call.

use super::users::UserData;
use super::{ApiJson, Caller, Client, SessionCookie};
use app::error::AppError;
use app::ssr::http::Envelope;
use app::ssr::state::AppState;
use app::validation::{LoginInput, RegisterInput};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::StatusCode;
use http::header::SET_COOKIE;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/register", post(register))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/me", get(me))
}

/// Create an account and sign in.
#[utoipa::path(post, path = "/api/register", tag = "auth",
    request_body(content = crate::api::openapi::RegisterRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Created and signed in; sets the session cookie", body = crate::api::openapi::UserEnvelope),
        (status = 400, description = "bad_request: malformed JSON", body = crate::api::openapi::ErrorEnvelope),
        (status = 409, description = "email_taken", body = crate::api::openapi::ErrorEnvelope),
        (status = 413, description = "payload_too_large", body = crate::api::openapi::ErrorEnvelope),
        (status = 415, description = "unsupported_media_type", body = crate::api::openapi::ErrorEnvelope),
        (status = 422, description = "validation_failed", body = crate::api::openapi::ErrorEnvelope),
    ))]
pub async fn register(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(input): ApiJson<RegisterInput>,
) -> Result<Response, AppError> {
    let (user, token) = state.auth.register(&input, &client).await?;
    let cookie = state.cookies.set(&token);
    Ok((
        StatusCode::CREATED,
        [(SET_COOKIE, cookie)],
        Json(Envelope::ok(UserData { user })),
    )
        .into_response())
}

/// Sign in: a new session; the one the client held before is ended.
#[utoipa::path(post, path = "/api/login", tag = "auth",
    request_body(content = crate::api::openapi::LoginRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Signed in; sets a new session cookie", body = crate::api::openapi::UserEnvelope),
        (status = 400, description = "bad_request", body = crate::api::openapi::ErrorEnvelope),
        (status = 401, description = "invalid_credentials (same answer for unknown email and wrong password)", body = crate::api::openapi::ErrorEnvelope),
        (status = 403, description = "account_disabled", body = crate::api::openapi::ErrorEnvelope),
        (status = 413, description = "payload_too_large", body = crate::api::openapi::ErrorEnvelope),
        (status = 415, description = "unsupported_media_type", body = crate::api::openapi::ErrorEnvelope),
        (status = 429, description = "rate_limited: too many failed sign-ins; see Retry-After", body = crate::api::openapi::ErrorEnvelope),
        (status = 422, description = "validation_failed", body = crate::api::openapi::ErrorEnvelope),
    ))]
pub async fn login(
    State(state): State<AppState>,
    Client(client): Client,
    SessionCookie(previous): SessionCookie,
    ApiJson(input): ApiJson<LoginInput>,
) -> Result<Response, AppError> {
    let (user, token) = state.auth.login(&input, &client, previous.as_ref()).await?;
    let cookie = state.cookies.set(&token);
    Ok(([(SET_COOKIE, cookie)], Json(Envelope::ok(UserData { user }))).into_response())
}

/// Sign out: the session is deleted server-side and the cookie cleared. Always 200:
/// signing out of a session that is already gone is not an error.
#[utoipa::path(post, path = "/api/logout", tag = "auth",
    responses((status = 200, description = "Signed out", body = crate::api::openapi::EmptyEnvelope)))]
pub async fn logout(
    State(state): State<AppState>,
    Client(client): Client,
    SessionCookie(token): SessionCookie,
) -> Result<Response, AppError> {
    state.auth.logout(token.as_ref(), &client).await?;
    Ok((
        [(SET_COOKIE, state.cookies.clear())],
        Json(Envelope::ok(serde_json::Value::Null)),
    )
        .into_response())
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/me", tag = "auth",
    responses(
        (status = 200, description = "The signed-in user", body = crate::api::openapi::UserEnvelope),
        (status = 401, description = "unauthenticated", body = crate::api::openapi::ErrorEnvelope),
    ))]
pub async fn me(caller: Caller) -> Result<Json<Envelope<UserData>>, AppError> {
    let user = caller.user.ok_or(AppError::Unauthenticated)?;
    Ok(Json(Envelope::ok(UserData { user })))
}
