//! Prometheus metrics at `/metrics`, recorded with the `metrics` crates.
//! Counters and histograms are recorded where things happen (requests, sign-ins,
//! hashing, errors); point-in-time gauges (sessions, pool) are read at scrape time.

use app::ssr::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::DatabaseBackend;
use std::sync::OnceLock;

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder once (tests start many apps in one process).
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), LATENCY_BUCKETS)
                .expect("non-empty buckets")
                // Histograms, not per-process summaries, so they add up across instances.
                .set_buckets_for_metric(
                    Matcher::Full(app::ssr::sessions::metered::LATENCY.into()),
                    LATENCY_BUCKETS,
                )
                .expect("non-empty buckets")
                .build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was installed first; then that one records.
            let _ = metrics::set_global_recorder(recorder);
            metrics::gauge!("roster_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            handle
        })
        .clone()
}

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

async fn scrape(State(state): State<AppState>) -> impl IntoResponse {
    let ready = crate::health::Readiness::check(&state).await.ready();
    metrics::gauge!("roster_ready").set(if ready { 1.0 } else { 0.0 });
    let backend = state.db.get_database_backend();
    // Only a store that counts cheaply (the database) reports it: counting Redis
    // keys or session files on every scrape would cost more than it tells.
    if let Ok(Some(active)) = state.sessions.store().count_live(chrono::Utc::now()).await {
        metrics::gauge!("roster_active_sessions").set(active as f64);
    }
    // The outbox as the database has it: every process's sends, not just this one's.
    if let Ok(counts) = app::ssr::mail::outbox::count_by_state(&state.db).await {
        for name in [
            app::ssr::mail::outbox::QUEUED,
            app::ssr::mail::outbox::SENT,
            app::ssr::mail::outbox::FAILED,
        ] {
            let count = counts.iter().find(|(s, _)| s == name).map_or(0, |(_, n)| *n);
            metrics::gauge!("roster_mail_outbox", "state" => name).set(count as f64);
        }
    }
    let (size, idle) = match backend {
        DatabaseBackend::Postgres => {
            let pool = state.db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => {
            let pool = state.db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
    };
    metrics::gauge!("roster_db_pool_connections", "state" => "open").set(f64::from(size));
    metrics::gauge!("roster_db_pool_connections", "state" => "idle").set(idle as f64);
    metrics::gauge!("roster_db_pool_connections", "state" => "in_use")
        .set(f64::from(size).max(idle as f64) - idle as f64);
    (
        [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        install().render(),
    )
}
