//! `/api/users/{id}/impersonate` and `/api/impersonation`: an administrator views
//! the site as a user ("view as", `Impersonations`), in a session of its own kept
//! in the `roster_view_as` cookie beside their own.

use super::openapi::{CallerRefused, EmptyEnvelope, ErrorEnvelope, ImpersonationEnvelope, ImpersonationStatusEnvelope};
use app::error::AppError;
use app::model::ImpersonationInfo;
use app::ssr::caller::Caller;
use app::ssr::http::Envelope;
use app::ssr::impersonation::VIEW_AS_LIFETIME;
use app::ssr::state::AppState;
use axum::extract::{Path, State};
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users/{id}/impersonate", post(start))
        .route("/impersonation", get(status))
        .route("/impersonation/end", post(end))
}

/// View the site as a user (admin): a session of its own for 30 minutes, in the
/// `roster_view_as` cookie; the administrator's own session stays as it is. It may
/// only look (403 `impersonation_restricted` for any change). Needs a recent proof.
#[utoipa::path(post, path = "/api/users/{id}/impersonate", tag = "users",
    params(("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "Viewing as the user; the cookie is set", body = ImpersonationEnvelope),
        CallerRefused,
        (status = 404, description = "not_found", body = ErrorEnvelope),
        (status = 409, description = "conflict: one's own account, or one that cannot sign in", body = ErrorEnvelope),
    ))]
pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = Uuid::try_parse(&id).map_err(|_| AppError::NotFound)?;
    let started = state.impersonations.start(&caller, id).await?;
    let admin = caller.user()?;
    let info = ImpersonationInfo {
        user: started.user,
        admin_id: admin.id,
        admin_email: admin.email.clone(),
        ends_at: started.ends_at,
    };
    let cookie = state
        .cookies
        .set_view_as(&started.token, VIEW_AS_LIFETIME.num_seconds());
    Ok(([(SET_COOKIE, cookie)], Json(Envelope::ok(info))).into_response())
}

/// Whom the caller views the site as, if anyone: `data` null otherwise.
#[utoipa::path(get, path = "/api/impersonation", tag = "users",
    responses(
        (status = 200, description = "The view-as in progress, or null", body = ImpersonationStatusEnvelope),
        (status = 401, description = "unauthenticated", body = ErrorEnvelope),
    ))]
pub async fn status(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Envelope<Option<ImpersonationInfo>>>, AppError> {
    caller.user()?;
    Ok(Json(Envelope::ok(state.impersonations.info(&caller).await?)))
}

/// Back to one's own account: the view-as session ends and its cookie is cleared.
#[utoipa::path(post, path = "/api/impersonation/end", tag = "users",
    responses(
        (status = 200, description = "Ended", body = EmptyEnvelope),
        (status = 401, description = "unauthenticated", body = ErrorEnvelope),
        (status = 409, description = "conflict: not viewing as anyone", body = ErrorEnvelope),
    ))]
pub async fn end(State(state): State<AppState>, caller: Caller) -> Result<Response, AppError> {
    caller.user()?;
    state.impersonations.end(&caller).await?;
    Ok((
        [(SET_COOKIE, state.cookies.clear_view_as())],
        Json(Envelope::ok(serde_json::Value::Null)),
    )
        .into_response())
}
