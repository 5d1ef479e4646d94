//! Roles granted for a while: `"role_expires_at"` with `"role"` on an update. When
//! the time passes the account returns to its role before, at its very next request
//! (never answered from the cache) or by the sweep; the audit log has the grant and
//! the end, the end with no actor; the last-admin rule still holds.

use crate::helpers::{Backend, TestApp, TestUser, spawn_app};
use crate::on_both_backends;
use chrono::{Duration, SecondsFormat, Utc};
use serde_json::json;

on_both_backends!(
    a_granted_role_ends_on_time_at_the_next_request,
    grants_are_checked_and_can_be_moved,
    the_sweep_ends_grants_and_never_leaves_no_administrator,
);

fn in_from_now(duration: Duration) -> String {
    (Utc::now() + duration).to_rfc3339_opts(SecondsFormat::Millis, true)
}

async fn role_changes(app: &TestApp, admin: &str) -> Vec<serde_json::Value> {
    let reply = app.audit("action=role_changed&limit=100", Some(admin)).await;
    reply.body["data"]["items"].as_array().unwrap().clone()
}

async fn a_granted_role_ends_on_time_at_the_next_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let boss = TestUser::admin(&app, "boss@example.com").await;
    let mut ada = TestUser::store(&app, "Ada", "ada@example.com").await;
    let until = Utc::now() + Duration::seconds(3);
    let granted = app
        .update_user(
            &ada.id,
            json!({"role": "admin", "role_expires_at": until.to_rfc3339_opts(SecondsFormat::Millis, true)}),
            Some(&boss.token),
        )
        .await;
    assert_eq!(granted.status, 200, "{}", granted.body);
    assert_eq!(granted.body["data"]["user"]["role"], "admin");
    assert!(granted.body["data"]["user"]["role_expires_at"].is_string());
    ada.log_in(&app).await;
    // An administrator for now: answered from the cache, request after request.
    for _ in 0..3 {
        assert_eq!(app.list_users("", Some(&ada.token)).await.status, 200);
    }
    let left = until - Utc::now() + Duration::milliseconds(200);
    tokio::time::sleep(left.to_std().unwrap_or_default()).await;
    // The very next request: no longer.
    app.list_users("", Some(&ada.token))
        .await
        .assert_error(403, "forbidden");
    let me = app.me(Some(&ada.token)).await;
    assert_eq!(me.body["data"]["user"]["role"], "user", "{}", me.body);
    assert!(me.body["data"]["user"]["role_expires_at"].is_null());
    let changes = role_changes(&app, &boss.token).await;
    let ended = changes
        .iter()
        .find(|e| e["detail"].as_str().unwrap().contains("the grant until"))
        .expect("the end is audited");
    assert!(ended["actor_id"].is_null(), "by the server: {ended}");
    assert_eq!(
        ended["detail"].as_str().unwrap().split(':').next(),
        Some("admin → user")
    );
    assert!(
        changes
            .iter()
            .any(|e| e["actor_id"] == boss.id.as_str() && e["detail"].as_str().unwrap().contains("user → admin until")),
        "the grant is audited: {changes:?}"
    );
}

async fn grants_are_checked_and_can_be_moved(backend: Backend) {
    let app = spawn_app(backend).await;
    let boss = TestUser::admin(&app, "boss@example.com").await;
    let ada = TestUser::store(&app, "Ada", "ada@example.com").await;
    for (body, why) in [
        (
            json!({"role": "admin", "role_expires_at": in_from_now(Duration::minutes(-1))}),
            "past",
        ),
        (json!({"role": "admin", "role_expires_at": "tomorrow"}), "not a time"),
        (
            json!({"role": "admin", "role_expires_at": in_from_now(Duration::days(400))}),
            "too long",
        ),
        (
            json!({"role_expires_at": in_from_now(Duration::hours(1))}),
            "no grant to move",
        ),
        (
            json!({"role": "user", "role_expires_at": in_from_now(Duration::hours(1))}),
            "already that role",
        ),
    ] {
        let reply = app.update_user(&ada.id, body, Some(&boss.token)).await;
        reply.assert_error(422, "validation_failed");
        assert!(
            reply.body["error"]["fields"]["role_expires_at"].is_string(),
            "{why}: {}",
            reply.body
        );
    }
    // Not for users, not even their own.
    app.update_user(
        &ada.id,
        json!({"role_expires_at": in_from_now(Duration::hours(1))}),
        Some(&ada.token),
    )
    .await
    .assert_error(403, "forbidden");
    // A grant for a day, moved to two, then made lasting.
    let day = app
        .update_user(
            &ada.id,
            json!({"role": "admin", "role_expires_at": in_from_now(Duration::days(1))}),
            Some(&boss.token),
        )
        .await;
    assert_eq!(day.status, 200, "{}", day.body);
    let two = in_from_now(Duration::days(2));
    let moved = app
        .update_user(&ada.id, json!({"role_expires_at": two}), Some(&boss.token))
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    let at = |reply: &crate::helpers::Reply| {
        chrono::DateTime::parse_from_rfc3339(reply.body["data"]["user"]["role_expires_at"].as_str().unwrap()).unwrap()
    };
    assert_eq!(at(&moved), chrono::DateTime::parse_from_rfc3339(&two).unwrap());
    // The role it has, given without an end: it lasts.
    let kept = app
        .update_user(&ada.id, json!({"role": "admin"}), Some(&boss.token))
        .await;
    assert_eq!(kept.status, 200, "{}", kept.body);
    assert_eq!(kept.body["data"]["user"]["role"], "admin");
    assert!(kept.body["data"]["user"]["role_expires_at"].is_null(), "{}", kept.body);
    let lasting = app
        .update_user(&ada.id, json!({"role": "user"}), Some(&boss.token))
        .await;
    assert_eq!(lasting.status, 200);
    assert!(lasting.body["data"]["user"]["role_expires_at"].is_null());
}

async fn the_sweep_ends_grants_and_never_leaves_no_administrator(backend: Backend) {
    let app = spawn_app(backend).await;
    let boss = TestUser::admin(&app, "boss@example.com").await;
    let ada = TestUser::store(&app, "Ada", "ada@example.com").await;
    let bob = TestUser::store(&app, "Bob", "bob@example.com").await;
    let grant = json!({"role": "admin", "role_expires_at": in_from_now(Duration::hours(1))});
    for user in [&ada, &bob] {
        let reply = app.update_user(&user.id, grant.clone(), Some(&boss.token)).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    // Ada's and Bob's hours pass (as a clock would have it) while they make no request.
    app.execute_sql("UPDATE users SET role_expires_at = updated_at WHERE role_after_expiry IS NOT NULL")
        .await;
    // Boss steps down for good while Ada and Bob still hold theirs.
    let boss_down = app
        .update_user(&boss.id, json!({"role": "user"}), Some(&boss.token))
        .await;
    assert_eq!(boss_down.status, 200, "{}", boss_down.body);
    let sweep =
        || app::ssr::role_grants::sweep(&app.state.db, app.state.sessions.cache(), &app.state.audit, Utc::now());
    // One grant may end; the other is the last administrator and stays.
    assert_eq!(sweep().await.unwrap(), 1);
    assert_eq!(sweep().await.unwrap(), 0, "kept while it is the last");
    let admins = app.state.db.clone();
    let count = app::ssr::entity::users::count_active_admins(&admins).await.unwrap();
    assert_eq!(count, 1);
    // Once there is another, it ends too.
    app.make_admin("boss@example.com", &boss.password).await;
    assert_eq!(sweep().await.unwrap(), 1);
    for user in [&ada, &bob] {
        let stored = app::ssr::entity::users::find_by_email(&app.state.db, &user.email)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.role, "user");
        assert!(stored.role_expires_at.is_none() && stored.role_after_expiry.is_none());
    }
}
