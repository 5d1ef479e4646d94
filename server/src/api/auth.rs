//! `/api/register`, `/api/login`, `/api/login/code`, `/api/login/code/verify`,
//! `/api/login/second-factor`, `/api/logout`, `/api/me`: adapters over
//! `AuthService`, `SignInCodes`, `SecondFactors` and `SessionService`, the services
//! the server functions call.

use super::ApiJson;
use super::openapi::{EmptyEnvelope, ErrorEnvelope, JsonBodyRejected, LoginOutcomeEnvelope, UserEnvelope};
use app::error::AppError;
use app::model::UserData;
use app::ssr::caller::{Caller, ClientMeta, SessionCookie};
use app::ssr::http::Envelope;
use app::ssr::state::AppState;
use app::validation::{CodeSignInInput, EmailInput, FactorCodeInput, LoginInput, RegistrationRequest};
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
        .route("/login/code", post(request_code))
        .route("/login/code/verify", post(sign_in_with_code))
        .route("/login/second-factor", post(second_factor))
        .route("/logout", post(logout))
        .route("/me", get(me))
}

/// Create an account and sign in (for this browser session). A link that proves the
/// address is mailed to it (not when an invitation mailed to it is used). With
/// `ROSTER_REQUIRE_VERIFIED_EMAIL` no session starts (no cookie) until that link is
/// followed. `ROSTER_REGISTRATION` decides who may: `invite` needs `"invitation"`
/// (the token of the invitation link, for this address); under `approval` the
/// account waits (`"approval_pending": true`) until an administrator approves it.
#[utoipa::path(post, path = "/api/register", tag = "auth",
    request_body(content = RegistrationRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; signed in (sets the session cookie) unless sign-in waits for a proven address", body = UserEnvelope),
        JsonBodyRejected,
        (status = 400, description = "invitation_invalid: unknown, used, withdrawn or expired", body = ErrorEnvelope),
        (status = 403, description = "registration_closed: ROSTER_REGISTRATION is closed, or invite and no invitation was given", body = ErrorEnvelope),
        (status = 409, description = "email_taken", body = ErrorEnvelope),
        (status = 422, description = "validation_failed", body = ErrorEnvelope),
    ))]
pub async fn register(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(input): ApiJson<RegistrationRequest>,
) -> Result<Response, AppError> {
    let (user, session) = state
        .auth
        .register(&input.account, input.invitation.as_deref(), &client)
        .await?;
    let response = (StatusCode::CREATED, Json(Envelope::ok(UserData { user }))).into_response();
    Ok(match session {
        Some(session) => super::with_sign_in_cookies(response, &state, &session),
        None => response,
    })
}

/// Sign in: a new session; the one the client held before is ended. With
/// `"remember": true` the cookie outlives the browser for `ROSTER_SESSION_TTL`;
/// without it, it ends with the browser and the session after `ROSTER_SESSION_SHORT_TTL`.
#[utoipa::path(post, path = "/api/login", tag = "auth",
    request_body(content = LoginInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Signed in (`{\"user\"}`, sets a new session cookie); or, for an account with a second factor, `{\"second_factor_required\": true, \"methods\"}` and a 5-minute pending cookie for `/api/login/second-factor`", body = LoginOutcomeEnvelope),
        JsonBodyRejected,
        (status = 401, description = "invalid_credentials (same answer for unknown email and wrong password)", body = ErrorEnvelope),
        (status = 403, description = "account_disabled, or email_unverified (with ROSTER_REQUIRE_VERIFIED_EMAIL)", body = ErrorEnvelope),
        (status = 429, description = "rate_limited: too many failed sign-ins; see Retry-After", body = ErrorEnvelope),
        (status = 422, description = "validation_failed", body = ErrorEnvelope),
    ))]
pub async fn login(
    State(state): State<AppState>,
    client: ClientMeta,
    SessionCookie(previous): SessionCookie,
    ApiJson(input): ApiJson<LoginInput>,
) -> Result<Response, AppError> {
    let step = state.auth.login(&input, &client, previous.as_ref()).await?;
    Ok(super::first_step_answer(&state, step))
}

/// Ask for a sign-in code by mail. The same answer whether or not an account has
/// this address; the code (8 digits, 10 minutes, 5 tries, once) goes out only if
/// an active one does. A newer code voids the older.
#[utoipa::path(post, path = "/api/login/code", tag = "auth",
    request_body(content = EmailInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Accepted: a code is mailed if an active account has this address", body = EmptyEnvelope),
        JsonBodyRejected,
        (status = 422, description = "validation_failed: not an email address", body = ErrorEnvelope),
        (status = 429, description = "rate_limited: too many mails to this address or from this IP; see Retry-After", body = ErrorEnvelope),
    ))]
pub async fn request_code(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(input): ApiJson<EmailInput>,
) -> Result<Json<Envelope<serde_json::Value>>, AppError> {
    state.sign_in_code.request(&input, &client).await?;
    Ok(Json(Envelope::ok(serde_json::Value::Null)))
}

/// Sign in with the code mailed to the address: a new session, as for `/api/login`
/// (`remember` likewise). Proves the address.
#[utoipa::path(post, path = "/api/login/code/verify", tag = "auth",
    request_body(content = CodeSignInInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Signed in, or a second factor required, as for `/api/login`", body = LoginOutcomeEnvelope),
        JsonBodyRejected,
        (status = 401, description = "invalid_code: wrong, used, expired or out of tries (the same answer for an unknown address)", body = ErrorEnvelope),
        (status = 403, description = "account_disabled", body = ErrorEnvelope),
        (status = 422, description = "validation_failed: not an email address, or not 8 digits", body = ErrorEnvelope),
        (status = 429, description = "rate_limited: too many failed sign-ins; see Retry-After", body = ErrorEnvelope),
    ))]
pub async fn sign_in_with_code(
    State(state): State<AppState>,
    client: ClientMeta,
    SessionCookie(previous): SessionCookie,
    ApiJson(input): ApiJson<CodeSignInInput>,
) -> Result<Response, AppError> {
    let step = state.sign_in_code.sign_in(&input, &client, previous.as_ref()).await?;
    Ok(super::first_step_answer(&state, step))
}

/// Sign-in's second step, with the pending cookie `/api/login` set: a code from the
/// authenticator app, or a recovery code (used up). A new session starts; five wrong
/// codes end the pending sign-in.
#[utoipa::path(post, path = "/api/login/second-factor", tag = "auth",
    request_body(content = FactorCodeInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Signed in; sets a new session cookie and clears the pending one", body = UserEnvelope),
        JsonBodyRejected,
        (status = 401, description = "invalid_code: not a current code of the account (replayed codes and used recovery codes included); unauthenticated: no pending sign-in (expired after 5 minutes, out of its 5 tries, or never started)", body = ErrorEnvelope),
        (status = 403, description = "account_disabled", body = ErrorEnvelope),
        (status = 422, description = "validation_failed: neither 6 digits nor a recovery code", body = ErrorEnvelope),
        (status = 429, description = "rate_limited: too many failed attempts; see Retry-After", body = ErrorEnvelope),
    ))]
pub async fn second_factor(
    State(state): State<AppState>,
    client: ClientMeta,
    SessionCookie(previous): SessionCookie,
    headers: http::HeaderMap,
    ApiJson(input): ApiJson<FactorCodeInput>,
) -> Result<Response, AppError> {
    let pending = state.cookies.pending_sign_in(&headers);
    let result = state
        .second_factors
        .complete_sign_in(pending.as_ref(), &input, &client, previous.as_ref())
        .await;
    super::second_step_answer(&state, result)
}

/// Sign out: the session is deleted server-side and the cookie cleared. Always 200:
/// signing out of a session that is already gone is not an error.
#[utoipa::path(post, path = "/api/logout", tag = "auth",
    responses((status = 200, description = "Signed out", body = EmptyEnvelope)))]
pub async fn logout(
    State(state): State<AppState>,
    client: ClientMeta,
    SessionCookie(token): SessionCookie,
    headers: http::HeaderMap,
) -> Result<Response, AppError> {
    let view_as = state.cookies.view_as(&headers);
    state
        .sessions
        .sign_out(token.as_ref(), view_as.as_ref(), &client)
        .await?;
    // Appended, not inserted: two cookies are cleared.
    let cookies = axum::response::AppendHeaders([
        (SET_COOKIE, state.cookies.clear()),
        (SET_COOKIE, state.cookies.clear_view_as()),
    ]);
    Ok((
        cookies,
        [app::ssr::cookie::CLEAR_SITE_DATA],
        Json(Envelope::ok(serde_json::Value::Null)),
    )
        .into_response())
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/me", tag = "auth",
    responses(
        (status = 200, description = "The signed-in user", body = UserEnvelope),
        (status = 401, description = "unauthenticated", body = ErrorEnvelope),
    ))]
pub async fn me(caller: Caller) -> Result<Json<Envelope<UserData>>, AppError> {
    let user = caller.user.ok_or(AppError::Unauthenticated)?;
    Ok(Json(Envelope::ok(UserData { user })))
}
