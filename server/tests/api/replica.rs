//! Reads that tolerate lag (the account list, the audit log) go to a real PostgreSQL
//! streaming replica made by the test, and only while it keeps up: a client that just
//! wrote reads from the primary; a replica whose replay is paused past the lag limit,
//! or that is stopped, is skipped without an error and used again once it recovers.

use crate::helpers::{OwnPostgresPair, TestApp, eventually, spawn_app_on};
use app::ssr::replica::{RECENT_WRITE_COOKIE, ReadCounts};
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

/// The emails on the first page of the account list, and which pool answered.
async fn listed(app: &TestApp, token: &str, cookie_extra: &str) -> (Vec<String>, ReadCounts) {
    let before = app.state.reads.counts();
    let request = app
        .http
        .get(app.url("/api/users?limit=100"))
        .header("cookie", format!("{}={token}{cookie_extra}", app.cookie_name));
    let reply = app.send(request).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let after = app.state.reads.counts();
    let emails = reply.body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_owned())
        .collect();
    (
        emails,
        ReadCounts {
            primary: after.primary - before.primary,
            replica: after.replica - before.replica,
        },
    )
}

const FROM_REPLICA: ReadCounts = ReadCounts { primary: 0, replica: 1 };
const FROM_PRIMARY: ReadCounts = ReadCounts { primary: 1, replica: 0 };

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lag_tolerant_reads_use_the_replica_only_while_it_keeps_up() {
    let pair = tokio::task::spawn_blocking(OwnPostgresPair::start).await.unwrap();
    let replica_url = pair.replica_url();
    let app = spawn_app_on(
        &pair.primary_url(),
        &["--database-replica-url", &replica_url, "--replica-max-lag", "2s"],
    )
    .await;
    app.register("Boss", "boss@example.com", PASSWORD).await;
    app.make_admin("boss@example.com", PASSWORD).await;
    let boss = app.login("boss@example.com", PASSWORD).await;
    eventually(30, "the replica to be in use", || async {
        app.state.reads.replica_usable()
    })
    .await;

    // The list comes from the replica, once it has replayed the registration.
    eventually(30, "the replica to list the admin", || async {
        let (emails, pool) = listed(&app, &boss, "").await;
        assert_eq!(pool, FROM_REPLICA);
        emails.contains(&"boss@example.com".to_owned())
    })
    .await;
    let audit_before = app.state.reads.counts();
    assert_eq!(app.audit("", Some(&boss)).await.status, 200);
    assert_eq!(
        app.state.reads.counts().replica,
        audit_before.replica + 1,
        "the audit log too"
    );

    // A write marks the writer: its next reads go to the primary and see the write.
    let created = app
        .create_user(
            json!({"name": "Carol", "email": "carol@example.com", "password": PASSWORD}),
            Some(&boss),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let marker = created
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{RECENT_WRITE_COOKIE}=")))
        .expect("a write sets the recent-write cookie")
        .to_owned();
    assert!(marker.contains("Max-Age=15") && marker.contains("HttpOnly"), "{marker}");
    let (emails, pool) = listed(&app, &boss, &format!("; {RECENT_WRITE_COOKIE}=1")).await;
    assert_eq!(pool, FROM_PRIMARY);
    assert!(
        emails.contains(&"carol@example.com".to_owned()),
        "the writer sees its write"
    );
    let reply = app.list_users("", Some(&boss)).await;
    assert_eq!(reply.status, 200);
    assert!(reply.headers.get("set-cookie").is_none(), "a read marks nothing");

    // Replay paused: the replica falls behind the limit and is skipped; reads still
    // succeed and see the newest rows; when replay resumes it is used again.
    pair.on_replica("SELECT pg_wal_replay_pause()");
    app.register("Dave", "dave@example.com", PASSWORD).await;
    eventually(30, "the lagging replica to be skipped", || async {
        !app.state.reads.replica_usable()
    })
    .await;
    let (emails, pool) = listed(&app, &boss, "").await;
    assert_eq!(pool, FROM_PRIMARY);
    assert!(emails.contains(&"dave@example.com".to_owned()));
    let metrics = app.get("/metrics", None).await;
    let metrics = metrics.body.as_str().unwrap();
    assert!(
        metrics.contains("roster_replica_available 0"),
        "the lag shows in /metrics"
    );
    let lag: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("roster_replica_lag_seconds "))
        .expect("the lag is exported")
        .parse()
        .unwrap();
    assert!(lag > 2.0, "lag {lag}");
    pair.on_replica("SELECT pg_wal_replay_resume()");
    eventually(30, "the replica to catch up and be used again", || async {
        let (emails, pool) = listed(&app, &boss, "").await;
        pool == FROM_REPLICA && emails.contains(&"dave@example.com".to_owned())
    })
    .await;

    // Replica stopped: the read that finds it gone is answered by the primary, the
    // probe takes it out, readiness does not depend on it, and it comes back by itself.
    tokio::task::block_in_place(|| pair.stop_replica());
    let (emails, _) = listed(&app, &boss, "").await;
    assert!(
        emails.contains(&"dave@example.com".to_owned()),
        "answered despite the replica being down"
    );
    eventually(30, "the stopped replica to be skipped", || async {
        !app.state.reads.replica_usable()
    })
    .await;
    let (_, pool) = listed(&app, &boss, "").await;
    assert_eq!(pool, FROM_PRIMARY);
    assert_eq!(app.get("/readyz", None).await.status, 200, "ready without the replica");
    tokio::task::block_in_place(|| pair.start_replica());
    eventually(60, "the restarted replica to be used again", || async {
        listed(&app, &boss, "").await.1 == FROM_REPLICA
    })
    .await;
    let metrics = app.get("/metrics", None).await;
    assert!(
        metrics
            .body
            .as_str()
            .unwrap()
            .contains("roster_db_reads_total{pool=\"replica\"}")
    );
}

/// Every metric `deploy/grafana/roster.json` and `deploy/prometheus/alerts.yml` query
/// is one Roster exports: scraped from a server with everything on that has a
/// metric of its own (a replica, scheduled backups) after some traffic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_and_the_alerts_query_only_exported_metrics() {
    let pair = tokio::task::spawn_blocking(OwnPostgresPair::start).await.unwrap();
    let backups = std::env::temp_dir().join(format!("roster-backups-{}", uuid::Uuid::new_v4().simple()));
    let replica_url = pair.replica_url();
    let app = spawn_app_on(
        &pair.primary_url(),
        &[
            // Only the database store reports roster_active_sessions.
            "--session-store",
            "database",
            "--database-replica-url",
            &replica_url,
            "--backup-interval",
            "1h",
            "--backup-dir",
            backups.to_str().unwrap(),
        ],
    )
    .await;
    app.register("Boss", "boss@example.com", PASSWORD).await;
    app.make_admin("boss@example.com", PASSWORD).await;
    let boss = app.login("boss@example.com", PASSWORD).await;
    app.login_as("boss@example.com", "wrong password", None).await;
    eventually(30, "the replica to be in use", || async {
        app.state.reads.replica_usable()
    })
    .await;
    assert_eq!(app.list_users("", Some(&boss)).await.status, 200);
    app.get("/login", None).await;
    app.get("/login", None).await;
    app.me(None).await;
    let scrape = app.get("/metrics", None).await;
    let exported = scrape.body.as_str().unwrap();

    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    for file in ["deploy/grafana/roster.json", "deploy/prometheus/alerts.yml"] {
        let text = std::fs::read_to_string(format!("{root}/{file}")).unwrap();
        let named: std::collections::BTreeSet<&str> = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|word| word.starts_with("roster_") || word.starts_with("http_"))
            .collect();
        assert!(named.len() >= 8, "{file} names {named:?}");
        for metric in named {
            let present = exported
                .lines()
                .any(|line| line.starts_with(&format!("{metric}{{")) || line.starts_with(&format!("{metric} ")));
            assert!(present, "{file} queries {metric}, which /metrics does not export");
        }
    }
    let _ = std::fs::remove_dir_all(&backups);
}
