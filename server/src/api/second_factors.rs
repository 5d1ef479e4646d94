//! `/api/me/second-factors`, `/api/me/totp`, `/api/me/totp/confirm`,
//! `/api/me/recovery-codes`, `/api/me/reauthenticate`, `/api/me/passkeys…`,
//! `/api/login/passkey…`, `/api/login/second-factor/passkey…` and
//! `/api/users/{id}/second-factors`: adapters over `SecondFactors`, the service the
//! security page's server functions call. (Sign-in's second step with a code is in
//! `auth`.) The browser's passkey script (`public/passkeys.js`) calls the passkey
//! endpoints here directly: WebAuthn needs JavaScript whatever the page is built with.

use super::ApiJson;
use super::openapi::{
    CallerRefused, EmptyEnvelope, ErrorEnvelope, JsonBodyRejected, PasskeyAddedEnvelope, PasskeyChallengeEnvelope,
    PasskeyInfoEnvelope, PasskeyListEnvelope, ReauthenticatedEnvelope, RecoveryCodesEnvelope,
    SecondFactorStatusEnvelope, TotpEnrolmentEnvelope, UserEnvelope,
};
use app::error::AppError;
use app::model::{
    PasskeyChallenge, PasskeyInfo, PasskeyList, Reauthenticated, RecoveryCodes, SecondFactorStatus, TotpEnrolment,
    UserData,
};
use app::ssr::caller::{Caller, ClientMeta, SessionCookie};
use app::ssr::http::Envelope;
use app::ssr::state::AppState;
use app::validation::{FactorCodeInput, PasskeyNameInput, PasskeyResponseInput, ProofInput};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
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
        .route("/me/passkeys", get(list_passkeys))
        .route("/me/passkeys/register/start", post(start_passkey_registration))
        .route("/me/passkeys/register/finish", post(finish_passkey_registration))
        .route("/me/passkeys/{id}", put(rename_passkey).delete(remove_passkey))
        .route("/login/passkey/start", post(start_passkey_sign_in))
        .route("/login/passkey/finish", post(finish_passkey_sign_in))
        .route("/login/second-factor/passkey/start", post(start_passkey_second_step))
        .route("/login/second-factor/passkey/finish", post(finish_passkey_second_step))
        .route("/me/reauthenticate/passkey/start", post(start_passkey_reauthentication))
        .route(
            "/me/reauthenticate/passkey/finish",
            post(finish_passkey_reauthentication),
        )
}

fn parse_id(raw: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::try_parse(raw).map_err(|_| AppError::NotFound)
}

/// The caller's passkeys.
#[utoipa::path(get, path = "/api/me/passkeys", tag = "second factors",
    responses(
        (status = 200, description = "Name, when added, when last used", body = PasskeyListEnvelope),
        CallerRefused,
    ))]
pub async fn list_passkeys(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Envelope<PasskeyList>>, AppError> {
    let passkeys = state.second_factors.list_passkeys(&caller).await?;
    Ok(Json(Envelope::ok(PasskeyList { passkeys })))
}

/// Start registering a passkey (needs a recent proof): `options` for
/// `navigator.credentials.create` (a discoverable credential, user verification
/// required), and the `challenge_id` to send back within 5 minutes.
#[utoipa::path(post, path = "/api/me/passkeys/register/start", tag = "second factors",
    responses(
        (status = 200, description = "The ceremony's first half", body = PasskeyChallengeEnvelope),
        CallerRefused,
        (status = 401, description = "reauthentication_required", body = ErrorEnvelope),
    ))]
pub async fn start_passkey_registration(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Envelope<PasskeyChallenge>>, AppError> {
    Ok(Json(Envelope::ok(
        state.second_factors.start_passkey_registration(&caller).await?,
    )))
}

/// Finish registering: the authenticator's answer (`credential.toJSON()`) and a name.
/// The account's first second factor also answers its ten recovery codes, shown once.
#[utoipa::path(post, path = "/api/me/passkeys/register/finish", tag = "second factors",
    request_body(content = PasskeyResponseInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Registered", body = PasskeyAddedEnvelope),
        JsonBodyRejected,
        CallerRefused,
        (status = 401, description = "passkey_refused: the answer does not check out, or the ceremony is unknown, expired or used; reauthentication_required", body = ErrorEnvelope),
        (status = 409, description = "conflict: this passkey is registered already", body = ErrorEnvelope),
        (status = 422, description = "validation_failed: a name over 100 characters", body = ErrorEnvelope),
    ))]
pub async fn finish_passkey_registration(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<PasskeyResponseInput>,
) -> Result<Response, AppError> {
    let added = state
        .second_factors
        .finish_passkey_registration(&caller, &input)
        .await?;
    // In a browser the security page shows the first codes after the script reloads
    // it, from the same sealed, short-lived cookie its own forms use.
    let fresh = match &added.recovery_codes {
        Some(codes) => Some(state.second_factors.seal_fresh_codes(caller.user_id()?, codes)?),
        None => None,
    };
    let mut response = Json(Envelope::ok(added)).into_response();
    if let Some(sealed) = fresh {
        response
            .headers_mut()
            .append(http::header::SET_COOKIE, state.cookies.set_fresh_codes(&sealed));
    }
    Ok(response)
}

/// Rename one of the caller's passkeys.
#[utoipa::path(put, path = "/api/me/passkeys/{id}", tag = "second factors",
    params(("id" = String, Path, description = "The passkey's id")),
    request_body(content = PasskeyNameInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Renamed", body = PasskeyInfoEnvelope),
        JsonBodyRejected,
        CallerRefused,
        (status = 404, description = "not_found: no such passkey of the caller's", body = ErrorEnvelope),
        (status = 422, description = "validation_failed: an empty name, or over 100 characters", body = ErrorEnvelope),
    ))]
pub async fn rename_passkey(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PasskeyNameInput>,
) -> Result<Json<Envelope<PasskeyInfo>>, AppError> {
    let id = parse_id(&id)?;
    Ok(Json(Envelope::ok(
        state.second_factors.rename_passkey(&caller, id, &input).await?,
    )))
}

/// Remove one of the caller's passkeys (needs a recent proof; the owner is mailed).
/// With the last second factor gone, the recovery codes go too.
#[utoipa::path(delete, path = "/api/me/passkeys/{id}", tag = "second factors",
    params(("id" = String, Path, description = "The passkey's id")),
    responses(
        (status = 200, description = "Removed", body = EmptyEnvelope),
        CallerRefused,
        (status = 401, description = "reauthentication_required", body = ErrorEnvelope),
        (status = 404, description = "not_found", body = ErrorEnvelope),
    ))]
pub async fn remove_passkey(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Envelope<Value>>, AppError> {
    state.second_factors.remove_passkey(&caller, parse_id(&id)?).await?;
    Ok(Json(Envelope::ok(Value::Null)))
}

/// Start signing in with a passkey alone: `options` for `navigator.credentials.get`
/// with no credentials listed (the device offers the passkeys it holds for this site).
#[utoipa::path(post, path = "/api/login/passkey/start", tag = "auth",
    responses(
        (status = 200, description = "The ceremony's first half", body = PasskeyChallengeEnvelope),
        (status = 429, description = "rate_limited: too many refused answers from this address; see Retry-After", body = ErrorEnvelope),
    ))]
pub async fn start_passkey_sign_in(
    State(state): State<AppState>,
    client: ClientMeta,
) -> Result<Json<Envelope<PasskeyChallenge>>, AppError> {
    Ok(Json(Envelope::ok(
        state.second_factors.start_passkey_sign_in(&client).await?,
    )))
}

/// Finish signing in with a passkey alone: a new session (no second step: the
/// passkey verified its user). `remember` as for `/api/login`.
#[utoipa::path(post, path = "/api/login/passkey/finish", tag = "auth",
    request_body(content = PasskeyResponseInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Signed in; sets a new session cookie", body = UserEnvelope),
        JsonBodyRejected,
        (status = 401, description = "passkey_refused", body = ErrorEnvelope),
        (status = 403, description = "account_disabled", body = ErrorEnvelope),
        (status = 429, description = "rate_limited: too many refused answers from this address; see Retry-After", body = ErrorEnvelope),
    ))]
pub async fn finish_passkey_sign_in(
    State(state): State<AppState>,
    client: ClientMeta,
    SessionCookie(previous): SessionCookie,
    ApiJson(input): ApiJson<PasskeyResponseInput>,
) -> Result<Response, AppError> {
    let (user, session) = state
        .second_factors
        .finish_passkey_sign_in(&input, &client, previous.as_ref())
        .await?;
    let response = Json(Envelope::ok(UserData { user })).into_response();
    Ok(super::with_sign_in_cookies(response, &state, &session))
}

/// Sign-in's second step with a passkey, with the pending cookie: `options` listing
/// the account's passkeys.
#[utoipa::path(post, path = "/api/login/second-factor/passkey/start", tag = "auth",
    responses(
        (status = 200, description = "The ceremony's first half", body = PasskeyChallengeEnvelope),
        (status = 401, description = "unauthenticated: no pending sign-in", body = ErrorEnvelope),
        (status = 409, description = "conflict: the account has no passkey", body = ErrorEnvelope),
    ))]
pub async fn start_passkey_second_step(
    State(state): State<AppState>,
    headers: http::HeaderMap,
) -> Result<Json<Envelope<PasskeyChallenge>>, AppError> {
    let pending = state.cookies.pending_sign_in(&headers);
    Ok(Json(Envelope::ok(
        state.second_factors.start_passkey_second_step(pending.as_ref()).await?,
    )))
}

/// Sign-in's second step with a passkey: its answer. A new session, as with a code.
#[utoipa::path(post, path = "/api/login/second-factor/passkey/finish", tag = "auth",
    request_body(content = PasskeyResponseInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Signed in; sets a new session cookie and clears the pending one", body = UserEnvelope),
        JsonBodyRejected,
        (status = 401, description = "invalid_code: the passkey's answer was refused (a try of the pending sign-in's five); unauthenticated: no pending sign-in", body = ErrorEnvelope),
        (status = 429, description = "rate_limited; see Retry-After", body = ErrorEnvelope),
    ))]
pub async fn finish_passkey_second_step(
    State(state): State<AppState>,
    client: ClientMeta,
    SessionCookie(previous): SessionCookie,
    headers: http::HeaderMap,
    ApiJson(input): ApiJson<PasskeyResponseInput>,
) -> Result<Response, AppError> {
    let pending = state.cookies.pending_sign_in(&headers);
    let result = state
        .second_factors
        .finish_passkey_second_step(pending.as_ref(), &input, &client, previous.as_ref())
        .await;
    super::second_step_answer(&state, result)
}

/// Proving oneself again with a passkey: `options` listing the caller's passkeys.
#[utoipa::path(post, path = "/api/me/reauthenticate/passkey/start", tag = "second factors",
    responses(
        (status = 200, description = "The ceremony's first half", body = PasskeyChallengeEnvelope),
        CallerRefused,
        (status = 409, description = "conflict: the account has no passkey", body = ErrorEnvelope),
    ))]
pub async fn start_passkey_reauthentication(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Envelope<PasskeyChallenge>>, AppError> {
    Ok(Json(Envelope::ok(
        state.second_factors.start_passkey_reauthentication(&caller).await?,
    )))
}

/// Proving oneself again with a passkey: its answer.
#[utoipa::path(post, path = "/api/me/reauthenticate/passkey/finish", tag = "second factors",
    request_body(content = PasskeyResponseInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Proven", body = ReauthenticatedEnvelope),
        JsonBodyRejected,
        CallerRefused,
        (status = 401, description = "passkey_refused", body = ErrorEnvelope),
        (status = 429, description = "rate_limited; see Retry-After", body = ErrorEnvelope),
    ))]
pub async fn finish_passkey_reauthentication(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<PasskeyResponseInput>,
) -> Result<Json<Envelope<Reauthenticated>>, AppError> {
    Ok(Json(Envelope::ok(
        state
            .second_factors
            .finish_passkey_reauthentication(&caller, &input)
            .await?,
    )))
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
