//! `/api/audit`: the audit log, for administrators.

use super::ApiQuery;
use super::openapi::{AuditPageEnvelope, CallerRefused, ErrorEnvelope};
use app::error::AppError;
use app::model::{AuditPage, AuditQuery};
use app::ssr::caller::Caller;
use app::ssr::http::Envelope;
use app::ssr::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/audit", get(list_audit))
        .route("/me/activity", get(own_activity))
}

/// The audit log, newest first (admin).
#[utoipa::path(get, path = "/api/audit", tag = "audit", params(AuditQuery),
    responses(
        (status = 200, description = "One page of events", body = AuditPageEnvelope),
        (status = 400, description = "bad_request: malformed query string", body = ErrorEnvelope),
        CallerRefused,
        (status = 422, description = "validation_failed: bad action, limit or cursor", body = ErrorEnvelope),
    ))]
pub async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<Envelope<AuditPage>>, AppError> {
    Ok(Json(Envelope::ok(state.audit.list(&caller, &query).await?)))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct ActivityQuery {
    /// 1–100, default 50.
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// The caller's own events, newest first: sign-ins and refusals, changes to the
/// account, sessions ended, an administrator viewing as them. The IP address is
/// shown only on what the caller did.
#[utoipa::path(get, path = "/api/me/activity", tag = "auth", params(ActivityQuery),
    responses(
        (status = 200, description = "One page of events", body = AuditPageEnvelope),
        (status = 401, description = "unauthenticated", body = ErrorEnvelope),
        (status = 422, description = "validation_failed: bad limit or cursor", body = ErrorEnvelope),
    ))]
pub async fn own_activity(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ActivityQuery>,
) -> Result<Json<Envelope<AuditPage>>, AppError> {
    let page = state.audit.list_own(&caller, query.cursor, query.limit).await?;
    Ok(Json(Envelope::ok(page)))
}
