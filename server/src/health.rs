//! Liveness and readiness for load balancers and orchestrators.
//! `/healthz`: the process answers. `/readyz`: it can do real work — the database
//! answers, no migration is pending, the session store answers, and the process has
//! not been told to stop (`draining`).

use crate::draining::Draining;
use app::ssr::state::AppState;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use migration::{Migrator, MigratorTrait};
use serde_json::json;

pub fn router(draining: Draining) -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route(
        "/readyz",
        get(move |State(state): State<AppState>| readyz(state, draining.clone())),
    )
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// The answer `/readyz` gives, also exported as `roster_ready` at every scrape so an
/// alert sees an instance the load balancer has stopped sending traffic to.
pub struct Readiness {
    pub checks: [(&'static str, Result<(), String>); 3],
}

impl Readiness {
    pub async fn check(state: &AppState) -> Self {
        let database = state.db.ping().await.map_err(|e| e.to_string());
        let migrations = match &database {
            Ok(()) => match Migrator::get_pending_migrations(&state.db).await {
                Ok(pending) if pending.is_empty() => Ok(()),
                Ok(pending) => Err(format!("{} pending", pending.len())),
                Err(e) => Err(e.to_string()),
            },
            Err(_) => Err("database unreachable".to_owned()),
        };
        let sessions = state.sessions.ping().await.map_err(|e| e.to_string());
        Self {
            checks: [
                ("database", database),
                ("migrations", migrations),
                ("session_store", sessions),
            ],
        }
    }

    pub fn ready(&self) -> bool {
        self.checks.iter().all(|(_, r)| r.is_ok())
    }
}

async fn readyz(state: AppState, draining: Draining) -> Response {
    if draining.is_draining() {
        let body = json!({ "status": "draining" });
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    }
    let readiness = Readiness::check(&state).await;
    let ready = readiness.ready();
    for (name, result) in &readiness.checks {
        if let Err(problem) = result {
            tracing::warn!(check = name, problem = %problem, "not ready");
        }
    }
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "checks": readiness.checks.iter().map(|(name, r)| (name.to_string(), json!(if r.is_ok() { "ok" } else { "failing" }))).collect::<serde_json::Map<_, _>>(),
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}
