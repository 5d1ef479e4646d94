//! What operators rely on: health checks and request ids.

use crate::helpers::{Backend, spawn_app, spawn_app_with};
use crate::on_both_backends;
use sea_orm::ConnectionTrait;

on_both_backends!(
    liveness_and_readiness,
    every_response_carries_a_request_id,
    prometheus_metrics_are_scraped
);

async fn liveness_and_readiness(backend: Backend) {
    let app = spawn_app(backend).await;
    let r = app.get("/healthz", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "ok");
    let r = app.get("/readyz", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["checks"]["database"], "ok");
    assert_eq!(r.body["checks"]["migrations"], "ok");
    assert_eq!(r.body["checks"]["session_store"], "ok");
    // A pending migration (as after deploying a binary without migrating) makes it not ready.
    app.db
        .execute_unprepared("DELETE FROM seaql_migrations WHERE version = 'm20261125_000005_audit_events'")
        .await
        .unwrap();
    let r = app.get("/readyz", None).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.body["status"], "not_ready");
    assert_eq!(r.body["checks"]["migrations"], "failing");
    assert_eq!(r.body["checks"]["database"], "ok");
    assert_eq!(app.get("/healthz", None).await.status, 200, "alive, just not ready");
}

async fn every_response_carries_a_request_id(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = |r: &crate::helpers::Reply| r.headers["x-request-id"].to_str().unwrap().to_owned();
    let a = app.me(None).await;
    let b = app.get("/", None).await;
    assert_eq!(id(&a).len(), 36, "a generated UUID");
    assert_ne!(id(&a), id(&b));
    let given = app
        .send(
            app.http
                .get(app.url("/api/nope"))
                .header("x-request-id", "trace-42.abc"),
        )
        .await;
    assert_eq!(id(&given), "trace-42.abc", "the caller's id is kept");
    let forged = app
        .send(app.http.get(app.url("/api/me")).header("x-request-id", "a b\tc"))
        .await;
    assert_ne!(id(&forged), "a b\tc", "unsafe ids are replaced");
    let refused = app
        .send(
            app.http
                .post(app.url("/api/logout"))
                .header("sec-fetch-site", "cross-site")
                .header("x-request-id", "r1"),
        )
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(id(&refused), "r1", "refusals carry it too");
}

async fn boom() -> &'static str {
    panic!("deliberate test panic")
}

/// The production middleware stack around a handler that panics: the caller gets
/// the 500 envelope with a request id, and the server keeps serving.
#[tokio::test]
async fn a_panicking_handler_becomes_a_500_envelope_and_the_server_keeps_serving() {
    use axum::routing::get;
    let settings = roster::configuration::Cli::try_parse_flags_only(["roster"])
        .unwrap()
        .settings;
    let routes = axum::Router::new()
        .route("/boom", get(boom))
        .route("/fine", get(|| async { "fine" }));
    let app = roster::startup::with_middleware(routes, &settings, None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::new();
    let boom = http
        .get(format!("{base}/boom"))
        .header("x-request-id", "panic-1")
        .send()
        .await
        .unwrap();
    assert_eq!(boom.status(), 500);
    assert_eq!(boom.headers()["x-request-id"], "panic-1");
    let body: serde_json::Value = boom.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert_eq!(body["error"]["code"], "internal");
    assert!(
        !body.to_string().contains("deliberate"),
        "the panic message is logged, not sent"
    );
    for _ in 0..3 {
        let fine = http.get(format!("{base}/fine")).send().await.unwrap();
        assert_eq!(fine.status(), 200, "still serving after the panic");
    }
}

/// `name{labels} value` lines of the Prometheus text format, as (series, value).
fn parse_metrics(text: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("series and value");
            (series.to_owned(), value.parse().expect("a number"))
        })
        .collect()
}

fn value(metrics: &[(String, f64)], series_prefix: &str, contains: &[&str]) -> f64 {
    metrics
        .iter()
        .filter(|(s, _)| s.starts_with(series_prefix) && contains.iter().all(|c| s.contains(c)))
        .map(|(_, v)| v)
        .sum()
}

async fn prometheus_metrics_are_scraped(backend: Backend) {
    // The database store, whose series this checks, in every pass of the suite.
    let app = spawn_app_with(backend, &["--session-store", "database"]).await;
    let before = parse_metrics(app.get("/metrics", None).await.body.as_str().unwrap());
    let (_, token) = app.register("Ada", "ada@example.com", "correct horse battery").await;
    app.login_as("ada@example.com", "wrong password", None).await;
    app.login_as("ada@example.com", "correct horse battery", None).await;
    app.me(Some(&token)).await;
    app.me(None).await;
    let r = app.get("/metrics", None).await;
    assert_eq!(r.status, 200);
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("text/plain"));
    let after = parse_metrics(r.body.as_str().unwrap());
    let delta = |prefix: &str, contains: &[&str]| value(&after, prefix, contains) - value(&before, prefix, contains);
    // The recorder is process-wide and other tests run alongside: deltas are lower bounds.
    assert!(delta("http_requests_total", &["route=\"/api/me\"", "status=\"200\""]) >= 1.0);
    assert!(delta("http_requests_total", &["route=\"/api/me\"", "status=\"401\""]) >= 1.0);
    assert!(delta("http_request_duration_seconds_count", &["route=\"/api/login\""]) >= 2.0);
    assert!(delta("roster_sign_ins_total", &["outcome=\"success\""]) >= 1.0);
    assert!(delta("roster_sign_ins_total", &["outcome=\"invalid_credentials\""]) >= 1.0);
    assert!(delta("roster_registrations_total", &[]) >= 1.0);
    assert!(delta("roster_db_query_duration_seconds_count", &["outcome=\"ok\""]) >= 5.0);
    assert!(delta("roster_password_hash_duration_seconds_count", &[]) >= 3.0);
    assert!(delta("roster_errors_total", &["code=\"unauthenticated\""]) >= 1.0);
    for operation in ["insert", "get"] {
        let series = ["store=\"database\"", &format!("operation=\"{operation}\"")];
        assert!(
            delta("roster_session_store_seconds_count", &series) >= 1.0,
            "{operation}"
        );
    }
    // Gauges are process-wide and set at scrape time; parallel tests may scrape in between.
    assert!(after.iter().any(|(s, _)| s.starts_with("roster_active_sessions")));
    assert!(
        after
            .iter()
            .any(|(s, _)| s.starts_with("roster_db_pool_connections{state=\"open\"}"))
    );
    assert_eq!(value(&after, "roster_build_info", &["version=\""]), 1.0);
    assert!(after.iter().any(|(s, _)| s.starts_with("roster_password_hash_waiting")));
}

/// With ROSTER_METRICS_ADDR, `/metrics` moves off the public address.
#[tokio::test]
async fn metrics_can_live_on_a_separate_address() {
    let dir = std::env::temp_dir().join(format!("roster-metrics-{}", uuid::Uuid::new_v4().simple()));
    let url = format!("sqlite://{}/m.db", dir.display());
    let args = [
        "roster",
        "--addr",
        "127.0.0.1:0",
        "--metrics-addr",
        "127.0.0.1:0",
        "--database-url",
        &url,
    ];
    let settings = roster::configuration::Cli::try_parse_flags_only(args).unwrap().settings;
    let app = roster::startup::Application::build(&settings).await.unwrap();
    let public = format!("http://{}", app.local_addr());
    let private = format!("http://{}", app.metrics_addr().expect("a metrics address"));
    tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(format!("{public}/metrics")).send().await.unwrap().status(),
        404
    );
    let scraped = http.get(format!("{private}/metrics")).send().await.unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(scraped.text().await.unwrap().contains("roster_build_info"));
    let _ = std::fs::remove_dir_all(dir);
}

/// PostgreSQL goes away under a running server: `/readyz` says so (the load
/// balancer stops sending traffic) while `/healthz` stays up, and when the database
/// comes back the pool reconnects by itself, with no restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_database_and_the_pool_reconnects() {
    use crate::helpers::{database_name, eventually, postgres_admin};
    // Sessions in the same database: its outage is the session store's too.
    let app = spawn_app_with(Backend::Postgres, &["--session-store", "database"]).await;
    let db = database_name(&app.url).to_owned();
    let (_, token) = app.register("Ada", "ada@example.com", "correct horse battery").await;
    assert_eq!(app.get("/readyz", None).await.status, 200);
    // Every connection dropped, and no new one allowed: the database is down.
    postgres_admin(&format!("ALTER DATABASE {db} ALLOW_CONNECTIONS false")).await;
    postgres_admin(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'"
    ))
    .await;
    eventually(60, "readiness reports the database", || async {
        let r = app.get("/readyz", None).await;
        r.status == 503
            && r.body["checks"]["database"] == "failing"
            && r.body["checks"]["session_store"] == "failing"
            && r.body["status"] == "not_ready"
    })
    .await;
    assert_eq!(app.get("/healthz", None).await.status, 200, "alive, just not ready");
    postgres_admin(&format!("ALTER DATABASE {db} ALLOW_CONNECTIONS true")).await;
    eventually(60, "the pool reconnects", || async {
        app.get("/readyz", None).await.status == 200
    })
    .await;
    assert_eq!(app.me(Some(&token)).await.status, 200, "sessions are served again");
    app.register("Bo", "bo@example.com", "correct horse battery").await;
}

/// `/.well-known/security.txt` (RFC 9116) from the configuration, and only with a
/// contact to name.
#[tokio::test]
async fn security_txt_names_the_configured_contact() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            "--security-contact",
            "mailto:security@example.com",
            "--security-policy-url",
            "https://example.com/policy",
        ],
    )
    .await;
    let r = app.get("/.well-known/security.txt", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "text/plain; charset=utf-8");
    let text = r.body.as_str().unwrap();
    assert!(text.contains("Contact: mailto:security@example.com\n"), "{text}");
    assert!(text.contains("Policy: https://example.com/policy\n"), "{text}");
    let expires = text
        .lines()
        .find_map(|l| l.strip_prefix("Expires: "))
        .expect("an expiry");
    let expires = chrono::DateTime::parse_from_rfc3339(expires).unwrap();
    assert!(expires > chrono::Utc::now() + chrono::Duration::days(300), "{expires}");
    let without = spawn_app(Backend::Sqlite).await;
    assert_eq!(without.get("/.well-known/security.txt", None).await.status, 404);
}
