//! The admin dashboard's figures: `GET /api/admin/stats` and the `/admin` page,
//! which renders the same figures as SVG charts with a table beside each.

use crate::helpers::{Backend, TestUser, spawn_app};
use crate::on_both_backends;
use serde_json::json;

on_both_backends!(
    the_stats_count_what_happened_in_the_range,
    the_dashboard_page_draws_its_charts_on_the_server,
    the_counters_follow_every_change_to_accounts_however_it_is_made,
);

async fn the_stats_count_what_happened_in_the_range(backend: Backend) {
    let app = spawn_app(backend).await;
    let boss = TestUser::admin(&app, "boss@example.com").await;
    let ada = TestUser::store(&app, "Ada", "ada@example.com").await;
    app.login(&ada.email, &ada.password).await;
    for _ in 0..2 {
        app.login_as(&ada.email, "not the password", None)
            .await
            .assert_error(401, "invalid_credentials");
    }
    // An account made long ago (an import) is outside every range.
    app.execute_sql("UPDATE users SET created_at = '2001-01-01 00:00:00+00:00' WHERE email = 'ada@example.com'")
        .await;
    app.update_user(&ada.id, json!({"disabled": true}), Some(&boss.token))
        .await;
    for (range, buckets, hours) in [("24h", 24, 24), ("7d", 7, 168), ("30d", 30, 720)] {
        let reply = app
            .get(&format!("/api/admin/stats?range={range}"), Some(&boss.token))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let data = &reply.body["data"];
        assert_eq!(data["range"], range);
        let signups = data["signups"].as_array().unwrap();
        assert_eq!(signups.len(), buckets, "{range}");
        let total: u64 = signups.iter().map(|b| b["count"].as_u64().unwrap()).sum();
        assert_eq!(total, 1, "{range}: the administrator registered now, Ada long ago");
        assert_eq!(signups.last().unwrap()["count"], 1, "in the newest bucket");
        let sign_ins = data["sign_ins"].as_array().unwrap();
        assert_eq!(sign_ins.len(), hours);
        let sum = |key: &str| sign_ins.iter().map(|b| b[key].as_u64().unwrap()).sum::<u64>();
        assert_eq!(sum("failed"), 2, "{range}");
        assert!(sum("succeeded") >= 1, "{range}");
        assert_eq!(sign_ins.last().unwrap()["failed"], 2, "this hour");
        let accounts = &data["accounts"];
        assert_eq!(accounts["total"], 2);
        assert_eq!(accounts["admins"], 1);
        assert_eq!(accounts["users"], 1);
        assert_eq!(accounts["disabled"], 1);
        assert_eq!(accounts["pending_approval"], 0);
        assert_eq!(accounts["unverified"], 1, "Ada has not followed her link");
        let mail = &data["mail"];
        let queued_or_sent = mail["pending"].as_u64().unwrap() + mail["sent"].as_u64().unwrap();
        assert!(queued_or_sent >= 2, "two verification links at least: {mail}");
        assert!(!data["recent_events"].as_array().unwrap().is_empty());
    }
    let stats = app.get("/api/admin/stats", Some(&boss.token)).await;
    assert_eq!(stats.body["data"]["range"], "7d", "the default");
    app.get("/api/admin/stats?range=1y", Some(&boss.token))
        .await
        .assert_error(422, "validation_failed");
    let user = TestUser::generate(&app).await;
    app.get("/api/admin/stats", Some(&user.token))
        .await
        .assert_error(403, "forbidden");
    app.get("/api/admin/stats", None)
        .await
        .assert_error(401, "unauthenticated");
}

async fn the_dashboard_page_draws_its_charts_on_the_server(backend: Backend) {
    let app = spawn_app(backend).await;
    let boss = TestUser::admin(&app, "boss@example.com").await;
    let page = app
        .http
        .get(app.url("/admin?range=24h"))
        .header("cookie", format!("{}={}", app.cookie_name, boss.token))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for part in [
        "Sign-ups per hour, last 24 hours",
        "Sign-ins per hour, last 24 hours",
        "<svg",
        "role=\"img\"",
        "As a table",
        "aria-current=\"page\"",
        "Newest security events",
    ] {
        assert!(html.contains(part), "{part} in the page");
    }
    // Twenty-four bars of sign-ups, and two stacked per hour of sign-ins.
    assert_eq!(html.matches("<rect").count(), 24 + 2 * 24, "sign-up and sign-in bars");
    assert_eq!(html.matches("bar bar-failed").count(), 24, "refused sign-ins on top");
}

/// The dashboard reads counters the database keeps (triggers on `users`), never a
/// scan: after every kind of change, by the service, an import or plain SQL, they
/// say what counting the table says.
async fn the_counters_follow_every_change_to_accounts_however_it_is_made(backend: Backend) {
    let app = spawn_app(backend).await;
    let boss = TestUser::admin(&app, "boss@example.com").await;
    let ada = TestUser::store(&app, "Ada", "ada@example.com").await;
    let bob = TestUser::store(&app, "Bob", "bob@example.com").await;
    let cy = TestUser::store(&app, "Cy", "cy@example.com").await;
    app.update_user(&ada.id, json!({"disabled": true}), Some(&boss.token))
        .await;
    app.update_user(&bob.id, json!({"role": "admin"}), Some(&boss.token))
        .await;
    app.update_user(&bob.id, json!({"email_verified": true}), Some(&boss.token))
        .await;
    app.delete_user(&cy.id, None, Some(&boss.token)).await;
    let import = app
        .send(
            app.with_session(
                app.http
                    .post(app.url("/api/users/import"))
                    .header("content-type", "text/csv")
                    .body("email,name,created_at\nold@example.com,Old,2020-05-01T10:00:00Z\nnew@example.com,New,\n"),
                Some(&boss.token),
            ),
        )
        .await;
    assert_eq!(import.status, 200, "{}", import.body);
    // Someone with a database shell.
    app.execute_sql("UPDATE users SET approval_pending = true WHERE email = 'new@example.com'")
        .await;
    app.execute_sql("UPDATE users SET created_at = '2001-01-01 00:00:00+00:00' WHERE email = 'ada@example.com'")
        .await;
    app.execute_sql("UPDATE users SET disabled = false, role = 'admin' WHERE email = 'ada@example.com'")
        .await;

    let count = |condition: &'static str| {
        let app = &app;
        async move {
            use sea_orm::{ConnectionTrait, Statement};
            let sql = format!("SELECT COUNT(*) FROM users WHERE {condition}");
            let row = app
                .db
                .query_one_raw(Statement::from_string(app.db.get_database_backend(), sql))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<i64>(0).unwrap() as u64
        }
    };
    let stats = app.get("/api/admin/stats?range=30d", Some(&boss.token)).await;
    let accounts = &stats.body["data"]["accounts"];
    assert_eq!(accounts["total"], count("true").await, "{accounts}");
    assert_eq!(accounts["total"], 5, "boss, Ada, Bob and the two imported");
    assert_eq!(accounts["admins"], count("role = 'admin'").await, "{accounts}");
    assert_eq!(accounts["admins"], 3);
    assert_eq!(accounts["disabled"], count("disabled").await, "{accounts}");
    assert_eq!(
        accounts["pending_approval"],
        count("approval_pending").await,
        "{accounts}"
    );
    assert_eq!(accounts["pending_approval"], 1);
    assert_eq!(
        accounts["unverified"],
        count("email_verified_at IS NULL").await,
        "{accounts}"
    );
    let signups: u64 = stats.body["data"]["signups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!(
        signups, 3,
        "boss, Bob and the new import; not Ada (moved to 2001), Cy (deleted) or the 2020 one"
    );
}
