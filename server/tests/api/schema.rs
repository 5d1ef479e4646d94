//! What the migrations guarantee at the database level.

use crate::helpers::{Backend, spawn_app, spawn_app_with};
use crate::on_both_backends;
use sea_orm::{ConnectionTrait, Statement};
use sha2::{Digest, Sha256};

on_both_backends!(
    sessions_are_stored_only_as_hashes,
    email_uniqueness_ignores_case_in_the_database,
    deleting_a_user_deletes_their_sessions,
    every_hot_query_uses_an_index,
    the_search_index_follows_every_change,
    search_results_page_newest_first,
);

async fn count(app: &crate::helpers::TestApp, sql: &str) -> i64 {
    let backend = app.db.get_database_backend();
    let row = app
        .db
        .query_one_raw(Statement::from_string(backend, sql.to_owned()))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// The schema's `sessions` table is the database store's: these run on it in
/// every pass of the suite (the conformance suite covers the other stores).
const DATABASE_SESSIONS: &[&str] = &["--session-store", "database"];

async fn sessions_are_stored_only_as_hashes(backend: Backend) {
    let app = spawn_app_with(backend, DATABASE_SESSIONS).await;
    let (_, token) = app.register("Ada", "ada@example.com", "correct horse battery").await;
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    assert_eq!(
        count(&app, &format!("SELECT COUNT(*) FROM sessions WHERE id = '{hash}'")).await,
        1
    );
    assert_eq!(
        count(&app, &format!("SELECT COUNT(*) FROM sessions WHERE id = '{token}'")).await,
        0
    );
}

async fn email_uniqueness_ignores_case_in_the_database(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("Ada", "ada@example.com", "correct horse battery").await;
    let insert = "INSERT INTO users (id, email, name, password_hash, role, created_at, updated_at) VALUES \
                  ('00000000-0000-7000-8000-000000000001', 'ADA@EXAMPLE.COM', 'x', 'x', 'user', \
                  '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')";
    let err = app
        .db
        .execute_unprepared(insert)
        .await
        .expect_err("the unique index refuses it");
    assert!(err.to_string().to_lowercase().contains("unique"), "{err}");
}

async fn deleting_a_user_deletes_their_sessions(backend: Backend) {
    let app = spawn_app_with(backend, DATABASE_SESSIONS).await;
    app.register("Ada", "ada@example.com", "correct horse battery").await;
    app.register("Bob", "bob@example.com", "correct horse battery").await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sessions").await, 2);
    app.db
        .execute_unprepared("DELETE FROM users WHERE email = 'ada@example.com'")
        .await
        .unwrap();
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM sessions").await,
        1,
        "cascade removed Ada's session only"
    );
}

/// The queries behind every request path, as the services issue them, and the
/// plans the databases choose: none may read a whole table. (PostgreSQL is told
/// to avoid sequential scans, so a missing index shows even on a tiny table.)
const HOT_QUERIES: &[(&str, &str)] = &[
    ("session by token", "SELECT * FROM sessions WHERE id = 'x'"),
    (
        "account by id",
        "SELECT * FROM users WHERE id = '00000000-0000-7000-8000-000000000001'",
    ),
    (
        "account by email",
        "SELECT * FROM users WHERE lower(email) = 'a@example.com'",
    ),
    (
        "a user's sessions",
        "SELECT * FROM sessions WHERE user_id = '00000000-0000-7000-8000-000000000001' ORDER BY created_at DESC",
    ),
    (
        "revoke by public id",
        "SELECT * FROM sessions WHERE user_id = '00000000-0000-7000-8000-000000000001' \
         AND public_id = '00000000-0000-4000-8000-000000000001'",
    ),
    (
        "expired sessions",
        "SELECT * FROM sessions WHERE expires_at <= '2026-01-01 00:00:00+00:00'",
    ),
    (
        "active admins",
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = false",
    ),
    ("listing, first page", "SELECT * FROM users ORDER BY id DESC LIMIT 21"),
    (
        "listing, next page",
        "SELECT * FROM users WHERE id < '00000000-0000-7000-8000-000000000001' ORDER BY id DESC LIMIT 21",
    ),
    ("throttle keys", "SELECT * FROM login_throttles WHERE key IN ('a', 'b')"),
    (
        "audit, first page",
        "SELECT * FROM audit_events ORDER BY id DESC LIMIT 51",
    ),
];

async fn plan(app: &crate::helpers::TestApp, sql: &str) -> String {
    use sea_orm::TransactionTrait;
    let backend = app.db.get_database_backend();
    // One connection for the setting and the EXPLAIN.
    let txn = app.db.begin().await.unwrap();
    let explain = match backend {
        sea_orm::DatabaseBackend::Postgres => {
            txn.execute_unprepared("SET LOCAL enable_seqscan = off").await.unwrap();
            format!("EXPLAIN {sql}")
        }
        _ => format!("EXPLAIN QUERY PLAN {sql}"),
    };
    let rows = txn
        .query_all_raw(Statement::from_string(backend, explain))
        .await
        .unwrap();
    txn.rollback().await.unwrap();
    rows.iter()
        .map(|row| {
            let column = if backend == sea_orm::DatabaseBackend::Postgres {
                0
            } else {
                3
            };
            row.try_get_by_index::<String>(column).unwrap()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A plan line that reads a whole table: PostgreSQL's Seq Scan, SQLite's bare SCAN
/// (an ordered walk "USING INDEX" that stops at LIMIT is fine).
fn full_scan(plan: &str) -> bool {
    plan.lines().any(|line| {
        let line = line.trim_start_matches([' ', '-', '>']);
        line.starts_with("Seq Scan")
            || (line.starts_with("SCAN ") && !line.contains("USING") && !line.contains("VIRTUAL TABLE"))
    })
}

async fn every_hot_query_uses_an_index(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut queries: Vec<(&str, String)> = HOT_QUERIES.iter().map(|(n, q)| (*n, (*q).to_owned())).collect();
    queries.push(match backend {
        Backend::Postgres => (
            "search",
            "SELECT * FROM users WHERE lower(email) LIKE '%hopper%' OR lower(name) LIKE '%hopper%' \
             ORDER BY id DESC LIMIT 21"
                .to_owned(),
        ),
        Backend::Sqlite => (
            "search",
            "SELECT u.* FROM users_search JOIN users_search_keys k ON k.key = users_search.rowid \
             JOIN users u ON u.id = k.user_id WHERE users_search MATCH '\"hopper\"' \
             ORDER BY users_search.rowid LIMIT 21"
                .to_owned(),
        ),
    });
    for (name, sql) in queries {
        let plan = plan(&app, &sql).await;
        assert!(!full_scan(&plan), "{name} reads a whole table:\n{sql}\n{plan}");
    }
    assert!(
        full_scan("Seq Scan on users") && full_scan("SCAN users"),
        "the check can fail"
    );
}

/// Search finds accounts by any part of the email or name, in any case, and
/// keeps finding them after renames and deletions (SQLite keeps its index by triggers).
async fn the_search_index_follows_every_change(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app
        .register("Admin", "admin@example.com", "correct horse battery")
        .await
        .1;
    app.make_admin("admin@example.com", "correct horse battery").await;
    let (reply, _) = app
        .register("Grace Hopper", "Grace.H@Navy.example", "correct horse battery")
        .await;
    let grace = reply.body["data"]["user"]["id"].as_str().unwrap().to_owned();
    app.register("Alan Turing", "alan@example.com", "correct horse battery")
        .await;
    let found = |q: &'static str| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let r = app.get(&format!("/api/users?q={q}"), Some(&admin)).await;
            assert_eq!(r.status, 200, "{}", r.body);
            let mut names: Vec<String> = r.body["data"]["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["name"].as_str().unwrap().to_owned())
                .collect();
            names.sort();
            names
        }
    };
    assert_eq!(found("hopp").await, ["Grace Hopper"]);
    assert_eq!(found("h%40navy").await, ["Grace Hopper"], "part of the email, any case");
    assert_eq!(found("TURING").await, ["Alan Turing"]);
    assert_eq!(
        found("ur").await,
        ["Alan Turing"],
        "two characters: no trigram, still found"
    );
    assert!(found("%22hop").await.is_empty(), "a quote is a literal character");
    assert!(found("%25%25%25").await.is_empty(), "so is a percent sign");
    let renamed = app
        .update_user(&grace, serde_json::json!({"name": "Grace Brewster"}), Some(&admin))
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert!(found("hopper").await.is_empty(), "the old name is gone from the index");
    assert_eq!(found("brewster").await, ["Grace Brewster"]);
    let deleted = app
        .call("DELETE", &format!("/api/users/{grace}"), None, Some(&admin))
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert!(found("brewster").await.is_empty());
    assert!(found("navy").await.is_empty());
}

/// Search results page like the listing: newest first, every match once.
async fn search_results_page_newest_first(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app
        .register("Admin", "admin@example.com", "correct horse battery")
        .await
        .1;
    app.make_admin("admin@example.com", "correct horse battery").await;
    for n in 1..=5 {
        app.register(
            &format!("Pager {n}"),
            &format!("pager{n}@example.com"),
            "correct horse battery",
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    for _ in 0..5 {
        let r = app
            .get(&format!("/api/users?q=pager&limit=2&cursor={cursor}"), Some(&admin))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        for user in r.body["data"]["items"].as_array().unwrap() {
            seen.push(user["name"].as_str().unwrap().to_owned());
        }
        match r.body["data"]["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, ["Pager 5", "Pager 4", "Pager 3", "Pager 2", "Pager 1"]);
}
