//! `/api/audit`: the audit log, for administrators.

use super::Caller;
use app::error::AppError;
use app::model::AuditPage;
use app::ssr::audit::AuditQuery;
use app::ssr::http::Envelope;
use app::ssr::state::AppState;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(list_audit))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AuditParams {
    /// One action, e.g. `sign_in_failed`.
    action: Option<String>,
    /// Substring of the actor's or target's email.
    q: Option<String>,
    /// 1–100, default 50.
    limit: Option<u32>,
    /// `next_cursor` from the previous page.
    cursor: Option<String>,
}

/// The audit log, newest first (admin).
#[utoipa::path(get, path = "/api/audit", tag = "audit", params(AuditParams),
    responses(
        (status = 200, description = "One page of events", body = crate::api::openapi::AuditPageEnvelope),
        (status = 400, description = "bad_request: malformed query string", body = crate::api::openapi::ErrorEnvelope),
        (status = 401, description = "unauthenticated", body = crate::api::openapi::ErrorEnvelope),
        (status = 403, description = "forbidden", body = crate::api::openapi::ErrorEnvelope),
        (status = 422, description = "validation_failed: bad action, limit or cursor", body = crate::api::openapi::ErrorEnvelope),
    ))]
pub async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<AuditParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Envelope<AuditPage>>, AppError> {
    let Query(p) = params.map_err(|e| AppError::bad_request(format!("Invalid query string: {}", e.body_text())))?;
    let query = AuditQuery {
        action: p.action,
        q: p.q,
        cursor: p.cursor,
        limit: p.limit,
    };
    Ok(Json(Envelope::ok(state.auth.audit().list(caller.actor, &query).await?)))
}
