//! `/api/me/second-factors`, `/api/me/totp`, `/api/me/totp/confirm`,
//! `/api/me/recovery-codes`, `/api/me/reauthenticate` and
//! `/api/users/{id}/second-factors`: adapters over `SecondFactors`, the service the
//! security page's server functions call. (Sign-in's second step is in `auth`.)

use super::ApiJson;
use super::openapi::{
    CallerRefused, EmptyEnvelope, ErrorEnvelope, JsonBodyRejected, ReauthenticatedEnvelope, RecoveryCodesEnvelope,
    SecondFactorStatusEnvelope, TotpEnrolmentEnvelope,
};
use app::error::AppError;
use app::model::{Reauthenticated, RecoveryCodes, SecondFactorStatus, TotpEnrolment};
use app::ssr::caller::Caller;
use app::ssr::http::Envelope;
use app::ssr::state::AppState;
use app::validation::{FactorCodeInput, ProofInput};
use axum::extract::{Path, State};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::Value;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me/second-factors", get(status))
        .route("/me/totp", post(begin_totp).delete(disable_totp))
        .route("/me/totp/confirm", post(confirm_totp))
        .route("/me/recovery-codes", post(regenerate_recovery_codes))
        .route("/me/reauthenticate", post(reauthenticate))
        .route("/users/{id}/second-factors", delete(reset_for_user))
}

/// The caller's second factors: whether an authenticator app guards sign-in, and
/// how many recovery codes are left. Never a secret.
#[utoipa::path(get, path = "/api/me/second-factors", tag = "second factors",
    responses(
        (status = 200, description = "The caller's factors", body = SecondFactorStatusEnvelope),
        CallerRefused,
    ))]
pub async fn status(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Envelope<SecondFactorStatus>>, AppError> {
    Ok(Json(Envelope::ok(state.second_factors.status(&caller).await?)))
}

/// Start setting up an authenticator app: its secret (base 32) and `otpauth://` URI.
/// Nothing changes at sign-in until `/api/me/totp/confirm`. Needs a recent proof
/// (`/api/me/reauthenticate`, or a sign-in within `ROSTER_REAUTH_WINDOW`).
#[utoipa::path(post, path = "/api/me/totp", tag = "second factors",
    responses(
        (status = 200, description = "A new secret to set up (replaces an unfinished setup)", body = TotpEnrolmentEnvelope),
        CallerRefused,
        (status = 401, description = "reauthentication_required: no proof within the window", body = ErrorEnvelope),
        (status = 409, description = "conflict: an authenticator app is already set up", body = ErrorEnvelope),
    ))]
pub async fn begin_totp(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Envelope<TotpEnrolment>>, AppError> {
    Ok(Json(Envelope::ok(state.second_factors.begin_totp(&caller).await?)))
}

/// Finish setting up with the app's current code: from now on sign-in asks for a
/// code. Answers the first ten recovery codes, shown this once.
#[utoipa::path(post, path = "/api/me/totp/confirm", tag = "second factors",
    request_body(content = FactorCodeInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Set up; the recovery codes", body = RecoveryCodesEnvelope),
        JsonBodyRejected,
        CallerRefused,
        (status = 401, description = "reauthentication_required", body = ErrorEnvelope),
        (status = 409, description = "conflict: no setup waiting (never started, or over 15 minutes old)", body = ErrorEnvelope),
        (status = 422, description = "validation_failed: not 6 digits, or not the app's current code", body = ErrorEnvelope),
        (status = 429, description = "rate_limited; see Retry-After", body = ErrorEnvelope),
    ))]
pub async fn confirm_totp(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<FactorCodeInput>,
) -> Result<Json<Envelope<RecoveryCodes>>, AppError> {
    Ok(Json(Envelope::ok(
        state.second_factors.confirm_totp(&caller, &input).await?,
    )))
}

/// Turn the authenticator app off (its recovery codes go too): with the password or
/// a code in the body. The owner is told by mail.
#[utoipa::path(delete, path = "/api/me/totp", tag = "second factors",
    request_body(content = ProofInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Turned off", body = EmptyEnvelope),
        JsonBodyRejected,
        CallerRefused,
        (status = 409, description = "conflict: no authenticator app is set up", body = ErrorEnvelope),
        (status = 422, description = "validation_failed: no proof, or a wrong password or code", body = ErrorEnvelope),
        (status = 429, description = "rate_limited; see Retry-After", body = ErrorEnvelope),
    ))]
pub async fn disable_totp(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<ProofInput>,
) -> Result<Json<Envelope<Value>>, AppError> {
    state.second_factors.disable_totp(&caller, &input).await?;
    Ok(Json(Envelope::ok(Value::Null)))
}

/// Ten new recovery codes; the old set stops working. Needs a recent proof.
#[utoipa::path(post, path = "/api/me/recovery-codes", tag = "second factors",
    responses(
        (status = 200, description = "The new codes, shown this once", body = RecoveryCodesEnvelope),
        CallerRefused,
        (status = 401, description = "reauthentication_required", body = ErrorEnvelope),
        (status = 409, description = "conflict: no authenticator app is set up", body = ErrorEnvelope),
    ))]
pub async fn regenerate_recovery_codes(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Envelope<RecoveryCodes>>, AppError> {
    Ok(Json(Envelope::ok(
        state.second_factors.regenerate_recovery_codes(&caller).await?,
    )))
}

/// Prove again who holds this session, with the password or a code: sensitive
/// changes are then allowed until `reauthenticated_until`.
#[utoipa::path(post, path = "/api/me/reauthenticate", tag = "second factors",
    request_body(content = ProofInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Proven", body = ReauthenticatedEnvelope),
        JsonBodyRejected,
        (status = 401, description = "unauthenticated", body = ErrorEnvelope),
        (status = 422, description = "validation_failed: no proof, or a wrong password or code", body = ErrorEnvelope),
        (status = 429, description = "rate_limited; see Retry-After", body = ErrorEnvelope),
    ))]
pub async fn reauthenticate(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<ProofInput>,
) -> Result<Json<Envelope<Reauthenticated>>, AppError> {
    Ok(Json(Envelope::ok(
        state.second_factors.reauthenticate(&caller, &input).await?,
    )))
}

/// Remove an account's second factors (admin; the owner is told by mail): for an
/// owner who lost both the app and the codes. Needs a recent proof.
#[utoipa::path(delete, path = "/api/users/{id}/second-factors", tag = "users",
    params(("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "Removed (or there were none)", body = EmptyEnvelope),
        CallerRefused,
        (status = 401, description = "reauthentication_required", body = ErrorEnvelope),
        (status = 404, description = "not_found", body = ErrorEnvelope),
    ))]
pub async fn reset_for_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Envelope<Value>>, AppError> {
    let id = uuid::Uuid::try_parse(&id).map_err(|_| AppError::NotFound)?;
    state.second_factors.reset_for(&caller, id).await?;
    Ok(Json(Envelope::ok(Value::Null)))
}
