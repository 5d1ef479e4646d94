//! "View as": an administrator sees the site as a user, in a session of its own
//! beside theirs, that may only look; started and ended with both identities in the
//! audit log, which the user sees in their own activity.

use crate::helpers::{Backend, Reply, TestApp, TestUser, spawn_app, spawn_app_with};
use crate::on_both_backends;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";

on_both_backends!(
    an_administrator_views_as_a_user_and_can_only_look,
    view_as_is_only_for_administrators_and_only_as_users_who_can_sign_in,
    view_as_ends_by_itself_after_thirty_minutes_and_with_a_sign_out,
    view_as_needs_a_recent_proof,
);

/// The view-as cookie's value from a response.
fn view_as_cookie(reply: &Reply) -> String {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("roster_view_as="))
        .and_then(|v| v.split(';').next())
        .and_then(|v| v.split_once('='))
        .map(|(_, value)| value.to_owned())
        .expect("a view-as cookie")
}

/// A request with the administrator's own session and their view-as session.
async fn as_viewer(app: &TestApp, method: &str, path: &str, body: Option<Value>, admin: &str, view_as: &str) -> Reply {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = app.http.request(method, app.url(path)).header(
        "cookie",
        format!("{}={admin}; roster_view_as={view_as}", app.cookie_name),
    );
    if let Some(body) = body {
        req = req.json(&body);
    }
    app.send(req).await
}

async fn start(app: &TestApp, admin: &str, id: &str) -> Reply {
    app.call("POST", &format!("/api/users/{id}/impersonate"), None, Some(admin))
        .await
}

async fn an_administrator_views_as_a_user_and_can_only_look(backend: Backend) {
    let app = spawn_app(backend).await;
    let boss = TestUser::admin(&app, "boss@example.com").await;
    let ada = TestUser::store(&app, "Ada", "ada@example.com").await;
    let bob = TestUser::store(&app, "Bob", "bob@example.com").await;

    let r = start(&app, &boss.token, &ada.id).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"]["user"]["email"], "ada@example.com");
    assert_eq!(r.body["data"]["admin_email"], "boss@example.com");
    let cookie_header = r.set_cookie("roster_view_as").unwrap();
    assert!(
        cookie_header.contains("Max-Age=1800") && cookie_header.contains("HttpOnly"),
        "{cookie_header}"
    );
    let view = view_as_cookie(&r);
    let ends_at: chrono::DateTime<chrono::Utc> = r.body["data"]["ends_at"].as_str().unwrap().parse().unwrap();
    let left = ends_at - chrono::Utc::now();
    assert!(
        left > chrono::Duration::minutes(29) && left <= chrono::Duration::minutes(30),
        "{left}"
    );

    // The site as Ada sees it.
    let me = as_viewer(&app, "GET", "/api/me", None, &boss.token, &view).await;
    assert_eq!(me.body["data"]["user"]["email"], "ada@example.com", "{}", me.body);
    let status = as_viewer(&app, "GET", "/api/impersonation", None, &boss.token, &view).await;
    assert_eq!(status.body["data"]["user"]["email"], "ada@example.com");
    assert_eq!(status.body["data"]["admin_email"], "boss@example.com");
    assert_eq!(
        app.get("/api/impersonation", Some(&boss.token)).await.body["data"],
        Value::Null
    );
    let activity = as_viewer(&app, "GET", "/api/me/activity", None, &boss.token, &view).await;
    assert_eq!(activity.status, 200, "{}", activity.body);

    // Looking only: not her password, address, name, factors, sessions or account,
    // and none of the administrator's powers either.
    let ada_path = format!("/api/users/{}", ada.id);
    let refused: Vec<(&str, String, Option<Value>)> = vec![
        (
            "PUT",
            ada_path.clone(),
            Some(json!({"password": "a whole new passphrase", "current_password": PASSWORD})),
        ),
        (
            "PUT",
            ada_path.clone(),
            Some(json!({"email": "ada.new@example.com", "current_password": PASSWORD})),
        ),
        ("PUT", ada_path.clone(), Some(json!({"name": "Not Ada"}))),
        ("DELETE", ada_path.clone(), Some(json!({"password": PASSWORD}))),
        ("POST", "/api/me/totp".into(), None),
        ("POST", "/api/me/passkeys/register/start".into(), None),
        ("POST", "/api/email/verify/resend".into(), None),
        ("GET", "/api/users".into(), None),
        ("GET", "/api/audit".into(), None),
        ("DELETE", format!("/api/users/{}/sessions", bob.id), None),
        ("POST", format!("/api/users/{}/impersonate", bob.id), None),
    ];
    for (method, path, body) in refused {
        as_viewer(&app, method, &path, body, &boss.token, &view)
            .await
            .assert_error(403, "impersonation_restricted");
    }
    // Her own sessions list shows this one for what it is.
    let sessions = app
        .send(
            app.http
                .post(app.url("/rpc/account/sessions"))
                .header("content-type", "application/x-www-form-urlencoded")
                .header(
                    "cookie",
                    format!("{}={}; roster_view_as={view}", app.cookie_name, boss.token),
                ),
        )
        .await;
    let items = sessions.body.as_array().cloned().unwrap_or_default();
    assert!(
        items
            .iter()
            .any(|s| s["viewed_by_admin"] == true && s["current"] == true),
        "{}",
        sessions.body
    );
    let own = app
        .send(
            app.http
                .post(app.url("/rpc/account/sessions"))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", format!("{}={}", app.cookie_name, ada.token)),
        )
        .await;
    let listed = own.body.as_array().cloned().unwrap_or_default();
    assert_eq!(listed.len(), 2, "hers and the administrator's: {}", own.body);
    assert!(
        listed
            .iter()
            .any(|s| s["viewed_by_admin"] == true && s["current"] == false)
    );

    // The view-as cookie alone is nobody: it works only beside the administrator's session.
    let alone = app
        .send(
            app.http
                .get(app.url("/api/me"))
                .header("cookie", format!("roster_view_as={view}")),
        )
        .await;
    alone.assert_error(401, "unauthenticated");
    let with_someone_else = as_viewer(&app, "GET", "/api/me", None, &bob.token, &view).await;
    assert_eq!(with_someone_else.body["data"]["user"]["email"], "bob@example.com");

    // One click back: the session ends, the cookie goes, the administrator is themselves.
    let end = as_viewer(&app, "POST", "/api/impersonation/end", None, &boss.token, &view).await;
    assert_eq!(end.status, 200, "{}", end.body);
    assert!(end.set_cookie("roster_view_as").unwrap().contains("Max-Age=0"));
    let me = as_viewer(&app, "GET", "/api/me", None, &boss.token, &view).await;
    assert_eq!(me.body["data"]["user"]["email"], "boss@example.com");
    app.call("POST", "/api/impersonation/end", None, Some(&boss.token))
        .await
        .assert_error(409, "conflict");

    // Both identities in the log, and in Ada's own activity (without the admin's address).
    for action in ["impersonation_started", "impersonation_ended"] {
        let log = app.audit(&format!("action={action}"), Some(&boss.token)).await;
        let event = &log.body["data"]["items"][0];
        assert_eq!(event["actor_email"], "boss@example.com", "{action}");
        assert_eq!(event["target_email"], "ada@example.com", "{action}");
    }
    let hers = app.get("/api/me/activity", Some(&ada.token)).await;
    let items = hers.body["data"]["items"].as_array().unwrap();
    let started = items
        .iter()
        .find(|e| e["action"] == "impersonation_started")
        .expect("Ada sees it");
    assert_eq!(started["actor_email"], "boss@example.com");
    assert_eq!(
        started["ip"],
        Value::Null,
        "the administrator's address is not hers to see"
    );
    assert!(items.iter().any(|e| e["action"] == "impersonation_ended"));
    assert!(
        items
            .iter()
            .all(|e| e["actor_id"] == json!(ada.id) || e["target_id"] == json!(ada.id))
    );
    app.get("/api/me/activity", None)
        .await
        .assert_error(401, "unauthenticated");
}

async fn view_as_is_only_for_administrators_and_only_as_users_who_can_sign_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let boss = TestUser::admin(&app, "boss@example.com").await;
    let second = TestUser::admin(&app, "second@example.com").await;
    let ada = TestUser::store(&app, "Ada", "ada@example.com").await;
    let bob = TestUser::store(&app, "Bob", "bob@example.com").await;
    start(&app, &boss.token, &boss.id).await.assert_error(409, "conflict");
    start(&app, &boss.token, &second.id)
        .await
        .assert_error(403, "forbidden");
    start(&app, &ada.token, &bob.id).await.assert_error(403, "forbidden");
    app.call("POST", &format!("/api/users/{}/impersonate", bob.id), None, None)
        .await
        .assert_error(401, "unauthenticated");
    start(&app, &boss.token, &uuid::Uuid::now_v7().to_string())
        .await
        .assert_error(404, "not_found");
    app.update_user(&bob.id, json!({"disabled": true}), Some(&boss.token))
        .await;
    start(&app, &boss.token, &bob.id).await.assert_error(409, "conflict");
    // A user's own view-as cookie (or one stolen from someone) makes them nobody else.
    let r = start(&app, &boss.token, &ada.id).await;
    let view = view_as_cookie(&r);
    let me = as_viewer(&app, "GET", "/api/me", None, &ada.token, &view).await;
    assert_eq!(me.body["data"]["user"]["email"], "ada@example.com");
    let rights = as_viewer(&app, "GET", "/api/users", None, &ada.token, &view).await;
    rights.assert_error(403, "forbidden");
    // Nor does another administrator's: it is the view of the one who started it.
    let other_admin = as_viewer(&app, "GET", "/api/me", None, &second.token, &view).await;
    assert_eq!(other_admin.body["data"]["user"]["email"], "second@example.com");
}

async fn view_as_ends_by_itself_after_thirty_minutes_and_with_a_sign_out(backend: Backend) {
    let app = spawn_app(backend).await;
    let boss = TestUser::admin(&app, "boss@example.com").await;
    let ada = TestUser::store(&app, "Ada", "ada@example.com").await;
    let view = view_as_cookie(&start(&app, &boss.token, &ada.id).await);
    // Thirty minutes on: the view-as session has ended, the administrator is themselves.
    app.change_stored_sessions(|s| {
        if s.impersonator_id.is_some() {
            s.expires_at = chrono::Utc::now() - chrono::Duration::seconds(1);
        }
    })
    .await;
    let me = as_viewer(&app, "GET", "/api/me", None, &boss.token, &view).await;
    assert_eq!(me.body["data"]["user"]["email"], "boss@example.com", "{}", me.body);

    // Signing out while viewing as someone ends both sessions.
    let view = view_as_cookie(&start(&app, &boss.token, &ada.id).await);
    let out = as_viewer(&app, "POST", "/api/logout", None, &boss.token, &view).await;
    assert_eq!(out.status, 200);
    assert!(out.set_cookie("roster_view_as").unwrap().contains("Max-Age=0"));
    app.me(Some(&boss.token)).await.assert_error(401, "unauthenticated");
    let viewing_left = app
        .stored_sessions()
        .await
        .into_iter()
        .filter(|s| s.impersonator_id.is_some() && s.expires_at > chrono::Utc::now())
        .count();
    assert_eq!(viewing_left, 0);
    let boss_again = app.login("boss@example.com", PASSWORD).await;
    let log = app.audit("action=impersonation_ended", Some(&boss_again)).await;
    assert_eq!(log.body["data"]["items"][0]["detail"], "ended by signing out");
    assert_eq!(
        app.me(Some(&ada.token)).await.status,
        200,
        "Ada's own session is untouched"
    );
}

async fn view_as_needs_a_recent_proof(backend: Backend) {
    let app = spawn_app_with(backend, &["--reauth-window", "1s"]).await;
    let boss = TestUser::admin(&app, "boss@example.com").await;
    let ada = TestUser::store(&app, "Ada", "ada@example.com").await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    start(&app, &boss.token, &ada.id)
        .await
        .assert_error(401, "reauthentication_required");
    let proof = app
        .post_json(
            "/api/me/reauthenticate",
            json!({"password": PASSWORD}),
            Some(&boss.token),
        )
        .await;
    assert_eq!(proof.status, 200, "{}", proof.body);
    assert_eq!(start(&app, &boss.token, &ada.id).await.status, 200);
}
