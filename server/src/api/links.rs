//! `/api/email/verify`, `/api/email/verify/resend`, `/api/password/forgot`,
//! `/api/password/reset`, `/api/email/change/confirm`, `/api/email/change/revert`:
//! the flows that go through a link sent by mail. Adapters over `EmailVerification`,
//! `PasswordReset` and `EmailChange`, which the server functions call too.

use super::ApiJson;
use super::openapi::{EmptyEnvelope, ErrorEnvelope, JsonBodyRejected, LoginOutcomeEnvelope, UserEnvelope};
use app::error::AppError;
use app::model::UserData;
use app::ssr::caller::{Caller, ClientMeta, SessionCookie};
use app::ssr::http::Envelope;
use app::ssr::state::AppState;
use app::validation::{EmailInput, ResetPasswordInput, VerifyEmailInput};
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::{Json, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/email/verify", post(verify_email))
        .route("/email/verify/resend", post(resend_verification))
        .route("/password/forgot", post(forgot_password))
        .route("/password/reset", post(reset_password))
        .route("/email/change/confirm", post(confirm_email_change))
        .route("/email/change/revert", post(revert_email_change))
}

/// Make the requested new address the account's, with the `token` of the link
/// mailed to it (asked for with `PUT /api/users/:id {"email", "current_password"}`).
/// The old address is mailed a link that undoes the change for 7 days.
#[utoipa::path(post, path = "/api/email/change/confirm", tag = "email",
    request_body(content = VerifyEmailInput, content_type = "application/json"),
    responses(
        (status = 200, description = "The account's address is the new one, proven", body = UserEnvelope),
        JsonBodyRejected,
        (status = 400, description = "invalid_token: unknown, used, expired or void", body = ErrorEnvelope),
        (status = 409, description = "email_taken: another account took the address since", body = ErrorEnvelope),
        (status = 429, description = "rate_limited: too many links that opened nothing from this IP; see Retry-After", body = ErrorEnvelope),
    ))]
pub async fn confirm_email_change(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(input): ApiJson<VerifyEmailInput>,
) -> Result<Json<Envelope<UserData>>, AppError> {
    let user = state.email_change.confirm(&input, &client).await?;
    Ok(Json(Envelope::ok(UserData { user })))
}

/// Undo a change of address with the `token` of the notice mailed to the old
/// address: the old address is back and every session of the account ends.
#[utoipa::path(post, path = "/api/email/change/revert", tag = "email",
    request_body(content = VerifyEmailInput, content_type = "application/json"),
    responses(
        (status = 200, description = "The old address is back; every session ended", body = UserEnvelope),
        JsonBodyRejected,
        (status = 400, description = "invalid_token: unknown, used or expired (7 days)", body = ErrorEnvelope),
        (status = 409, description = "email_taken: another account has the old address now", body = ErrorEnvelope),
        (status = 429, description = "rate_limited: too many links that opened nothing from this IP; see Retry-After", body = ErrorEnvelope),
    ))]
pub async fn revert_email_change(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(input): ApiJson<VerifyEmailInput>,
) -> Result<Json<Envelope<UserData>>, AppError> {
    let user = state.email_change.revert(&input, &client).await?;
    Ok(Json(Envelope::ok(UserData { user })))
}

/// Prove the account's address with the `token` of the link mailed to it. Needs no
/// session: the link is the proof.
#[utoipa::path(post, path = "/api/email/verify", tag = "email",
    request_body(content = VerifyEmailInput, content_type = "application/json"),
    responses(
        (status = 200, description = "The address is proven", body = UserEnvelope),
        JsonBodyRejected,
        (status = 400, description = "invalid_token: unknown, used, expired, or sent to an address the account no longer has", body = ErrorEnvelope),
        (status = 429, description = "rate_limited: too many links that opened nothing from this IP; see Retry-After", body = ErrorEnvelope),
    ))]
pub async fn verify_email(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(input): ApiJson<VerifyEmailInput>,
) -> Result<Json<Envelope<UserData>>, AppError> {
    let user = state.verification.verify(&input, &client).await?;
    Ok(Json(Envelope::ok(UserData { user })))
}

/// Mail a new link to the signed-in user's address; earlier links stop working.
#[utoipa::path(post, path = "/api/email/verify/resend", tag = "email",
    responses(
        (status = 200, description = "A new link is on its way", body = EmptyEnvelope),
        (status = 400, description = "bad_request: the address is proven already", body = ErrorEnvelope),
        (status = 401, description = "unauthenticated", body = ErrorEnvelope),
        (status = 429, description = "rate_limited: too many mails to this address or from this IP; see Retry-After", body = ErrorEnvelope),
    ))]
pub async fn resend_verification(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Envelope<serde_json::Value>>, AppError> {
    state.verification.resend(&caller).await?;
    Ok(Json(Envelope::ok(serde_json::Value::Null)))
}

/// Ask for a link that resets a forgotten password. The same answer whether or not
/// an account has this address; the link goes out only if one does.
#[utoipa::path(post, path = "/api/password/forgot", tag = "email",
    request_body(content = EmailInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Accepted: a link is mailed if an active account has this address", body = EmptyEnvelope),
        JsonBodyRejected,
        (status = 422, description = "validation_failed: not an email address", body = ErrorEnvelope),
        (status = 429, description = "rate_limited: too many requests for this address or from this IP; see Retry-After", body = ErrorEnvelope),
    ))]
pub async fn forgot_password(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(input): ApiJson<EmailInput>,
) -> Result<Json<Envelope<serde_json::Value>>, AppError> {
    state.password_reset.request(&input, &client).await?;
    Ok(Json(Envelope::ok(serde_json::Value::Null)))
}

/// Set a new password with the `token` of a reset link. Every session of the account
/// ends, and a new one starts here (a session cookie for this browser session).
#[utoipa::path(post, path = "/api/password/reset", tag = "email",
    request_body(content = ResetPasswordInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Password set and signed in (sets a new session cookie); for an account with a second factor, `{\"second_factor_required\": true}` and the pending cookie, as for `/api/login`", body = LoginOutcomeEnvelope),
        JsonBodyRejected,
        (status = 400, description = "invalid_token: unknown, used, expired or void (a newer link, a changed password, a disabled account)", body = ErrorEnvelope),
        (status = 422, description = "validation_failed: the new password breaks a rule", body = ErrorEnvelope),
        (status = 429, description = "rate_limited: too many links that opened nothing from this IP; see Retry-After", body = ErrorEnvelope),
    ))]
pub async fn reset_password(
    State(state): State<AppState>,
    client: ClientMeta,
    SessionCookie(previous): SessionCookie,
    ApiJson(input): ApiJson<ResetPasswordInput>,
) -> Result<Response, AppError> {
    let step = state.password_reset.reset(&input, &client, previous.as_ref()).await?;
    Ok(super::first_step_answer(&state, step))
}
