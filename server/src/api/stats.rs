//! `/api/admin/stats`: the dashboard's figures over `StatsService`.

use super::ApiQuery;
use super::openapi::{AdminStatsEnvelope, CallerRefused, ErrorEnvelope};
use app::error::AppError;
use app::ssr::caller::Caller;
use app::ssr::http::Envelope;
use app::ssr::state::AppState;
use app::stats::{AdminStats, StatsRange};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/stats", get(admin_stats))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct StatsQuery {
    /// `24h`, `7d` (default) or `30d`.
    pub range: Option<String>,
}

/// The admin dashboard's figures (admin): sign-ups per hour (24h) or day, sign-ins
/// and refused sign-ins per hour, active sessions, accounts by role and state, the
/// mail outbox and the newest audit events.
#[utoipa::path(get, path = "/api/admin/stats", tag = "users", params(StatsQuery),
    responses(
        (status = 200, description = "The figures", body = AdminStatsEnvelope),
        CallerRefused,
        (status = 422, description = "validation_failed: an unknown range", body = ErrorEnvelope),
    ))]
pub async fn admin_stats(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<StatsQuery>,
) -> Result<Json<Envelope<AdminStats>>, AppError> {
    let range = match query.range.as_deref() {
        None | Some("") => StatsRange::default(),
        Some(raw) => {
            StatsRange::parse(raw).ok_or_else(|| AppError::invalid_field("range", "The range is 24h, 7d or 30d."))?
        }
    };
    Ok(Json(Envelope::ok(state.stats.admin_stats(&caller, range).await?)))
}
