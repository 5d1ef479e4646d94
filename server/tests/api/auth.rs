//! /api/register, /api/login, /api/logout, /api/me: every status and error code.

use crate::helpers::{Backend, spawn_app, spawn_app_with};
use crate::on_both_backends;
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

on_both_backends!(
    register_creates_the_account_and_signs_in,
    register_reports_every_invalid_field,
    register_refuses_a_taken_email_in_any_case,
    malformed_json_is_a_bad_request,
    missing_json_content_type_is_unsupported,
    oversized_body_is_refused_with_413,
    login_starts_a_new_session_and_revokes_the_previous_one,
    wrong_password_and_unknown_email_get_the_same_answer,
    overlong_password_is_rejected_before_hashing,
    me_requires_a_live_session,
    logout_revokes_the_session_server_side,
    unknown_api_paths_and_methods_answer_in_json,
    internal_errors_are_logged_not_leaked,
    production_mode_sets_secure_host_cookies,
    racing_registrations_of_one_email_make_one_account,
    a_failed_insert_is_internal_not_a_taken_email,
    only_keep_me_signed_in_outlives_the_browser_and_the_short_lifetime,
);

async fn register_creates_the_account_and_signs_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let (reply, token) = app.register("  Ada Lovelace ", "Ada@Example.com", PASSWORD).await;
    assert_eq!(reply.body["success"], true);
    assert!(reply.body["error"].is_null());
    let user = &reply.body["data"]["user"];
    assert_eq!(user["name"], "Ada Lovelace", "name is trimmed");
    assert_eq!(user["email"], "Ada@Example.com");
    assert_eq!(user["role"], "user");
    assert_eq!(user["email_verified"], false, "not until the mailed link is followed");
    for key in ["id", "created_at", "updated_at"] {
        assert!(user[key].is_string(), "{key} present: {user}");
    }
    let keys: Vec<_> = user.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys.len(), 10, "exactly the public fields, never a hash: {keys:?}");
    assert_eq!(user["approval_pending"], false);
    assert!(user["role_expires_at"].is_null());
    assert!(!reply.body.to_string().contains("argon2"));

    let cookie = reply.set_cookie(&app.cookie_name).unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "not Secure outside production: {cookie}");
    assert!(token.len() >= 32, "at least 128 bits");

    let me = app.me(Some(&token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["data"]["user"]["id"], user["id"]);
}

async fn register_reports_every_invalid_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let reply = app
        .post_json(
            "/api/register",
            json!({"name": "   ", "email": "not-an-email", "password": "short"}),
            None,
        )
        .await;
    reply.assert_error(422, "validation_failed");
    let fields = reply.body["error"]["fields"].as_object().unwrap();
    for field in ["name", "email", "password"] {
        assert!(
            fields[field].as_str().is_some_and(|m| !m.is_empty()),
            "{field}: {fields:?}"
        );
    }
    // Missing fields read as blank ones.
    let reply = app.post_json("/api/register", json!({}), None).await;
    reply.assert_error(422, "validation_failed");
    assert_eq!(reply.body["error"]["fields"].as_object().unwrap().len(), 3);
    // Too long a name and too long a password.
    let reply = app
        .post_json(
            "/api/register",
            json!({"name": "n".repeat(101), "email": "a@b.co", "password": "p".repeat(129)}),
            None,
        )
        .await;
    reply.assert_error(422, "validation_failed");
    assert!(reply.body["error"]["fields"]["name"].is_string() && reply.body["error"]["fields"]["password"].is_string());
    assert!(reply.set_cookie(&app.cookie_name).is_none(), "no session on failure");
}

async fn register_refuses_a_taken_email_in_any_case(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("Ada", "ada@example.com", PASSWORD).await;
    let reply = app
        .post_json(
            "/api/register",
            json!({"name": "Imposter", "email": " ADA@example.COM ", "password": PASSWORD}),
            None,
        )
        .await;
    reply.assert_error(409, "email_taken");
    assert!(reply.set_cookie(&app.cookie_name).is_none());
}

async fn malformed_json_is_a_bad_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let req = app
        .http
        .post(app.url("/api/register"))
        .header("content-type", "application/json")
        .body("{\"name\": ");
    app.send(req).await.assert_error(400, "bad_request");
    let req = app
        .http
        .post(app.url("/api/login"))
        .header("content-type", "application/json")
        .body("[1, 2]");
    app.send(req).await.assert_error(400, "bad_request");
}

async fn missing_json_content_type_is_unsupported(backend: Backend) {
    let app = spawn_app(backend).await;
    let req = app
        .http
        .post(app.url("/api/register"))
        .header("content-type", "text/plain")
        .body("{}");
    app.send(req).await.assert_error(415, "unsupported_media_type");
}

async fn oversized_body_is_refused_with_413(backend: Backend) {
    let app = spawn_app(backend).await;
    let huge = json!({"name": "x".repeat(100 * 1024), "email": "a@b.co", "password": PASSWORD});
    app.post_json("/api/register", huge, None)
        .await
        .assert_error(413, "payload_too_large");
}

async fn login_starts_a_new_session_and_revokes_the_previous_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, first) = app.register("Ada", "ada@example.com", PASSWORD).await;
    let reply = app.login_as("ADA@example.com", PASSWORD, Some(&first)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["user"]["email"], "ada@example.com");
    let second = reply.session_cookie(&app.cookie_name).expect("login sets a cookie");
    assert_ne!(first, second, "a new token at every login");
    assert_eq!(app.me(Some(&second)).await.status, 200);
    app.me(Some(&first)).await.assert_error(401, "unauthenticated");
    // A client without a prior session simply gets another one.
    let third = app.login_as("ada@example.com", PASSWORD, None).await;
    assert_eq!(third.status, 200);
    assert_eq!(app.me(Some(&second)).await.status, 200, "other devices stay signed in");
}

async fn wrong_password_and_unknown_email_get_the_same_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("Ada", "ada@example.com", PASSWORD).await;
    let wrong = app.login_as("ada@example.com", "wrong password", None).await;
    let unknown = app.login_as("nobody@example.com", "wrong password", None).await;
    wrong.assert_error(401, "invalid_credentials");
    assert_eq!(wrong.body, unknown.body, "identical answers reveal nothing");
    assert_eq!(wrong.status, unknown.status);
    assert!(wrong.set_cookie(&app.cookie_name).is_none());
}

async fn overlong_password_is_rejected_before_hashing(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("Ada", "ada@example.com", "correct horse battery").await;
    let hashed = app.state.hasher.computed();
    let reply = app.login_as("ada@example.com", &"x".repeat(129), None).await;
    reply.assert_error(422, "validation_failed");
    assert!(reply.body["error"]["fields"]["password"].is_string());
    let register = json!({"name": "Bo", "email": "bo@example.com", "password": "x".repeat(129)});
    app.post_json("/api/register", register, None)
        .await
        .assert_error(422, "validation_failed");
    assert_eq!(app.state.hasher.computed(), hashed, "refused before any hashing");
    let reply = app.login_as("", "", None).await;
    reply.assert_error(422, "validation_failed");
}

async fn me_requires_a_live_session(backend: Backend) {
    let app = spawn_app(backend).await;
    app.me(None).await.assert_error(401, "unauthenticated");
    app.me(Some("garbage")).await.assert_error(401, "unauthenticated");
    app.get("/api/me", Some(&"ab".repeat(32)))
        .await
        .assert_error(401, "unauthenticated");
    let (_, token) = app.register("Ada", "ada@example.com", PASSWORD).await;
    assert_eq!(app.me(Some(&token)).await.status, 200);
    // Expiry is enforced on every request, whatever the cookie's Max-Age says.
    app.change_stored_sessions(|s| s.expires_at = chrono::Utc::now() - chrono::Duration::days(1))
        .await;
    app.me(Some(&token)).await.assert_error(401, "unauthenticated");
}

async fn logout_revokes_the_session_server_side(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, token) = app.register("Ada", "ada@example.com", PASSWORD).await;
    let reply = app.logout(Some(&token)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["success"], true);
    let cleared = reply.set_cookie(&app.cookie_name).expect("cookie cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(
        reply.headers["clear-site-data"], "\"cookies\", \"storage\"",
        "the browser drops this site's cookies and storage too"
    );
    // Replaying the old cookie no longer works: the session is gone, not just forgotten.
    app.me(Some(&token)).await.assert_error(401, "unauthenticated");
    // Signing out again is harmless.
    assert_eq!(app.logout(Some(&token)).await.status, 200);
}

async fn unknown_api_paths_and_methods_answer_in_json(backend: Backend) {
    let app = spawn_app(backend).await;
    app.get("/api/nope", None).await.assert_error(404, "not_found");
    app.get("/api/users/x/y/z", None).await.assert_error(404, "not_found");
    app.send(app.http.delete(app.url("/api/me")))
        .await
        .assert_error(405, "method_not_allowed");
}

async fn internal_errors_are_logged_not_leaked(backend: Backend) {
    use sea_orm::ConnectionTrait;
    let app = spawn_app(backend).await;
    let (_, token) = app.register("Ada", "ada@example.com", PASSWORD).await;
    // The session is found (in whichever store), its account cannot be read.
    app.db
        .execute_unprepared("ALTER TABLE users RENAME TO users_gone")
        .await
        .unwrap();
    let reply = app.me(Some(&token)).await;
    reply.assert_error(500, "internal");
    let text = reply.body.to_string().to_lowercase();
    assert!(
        !text.contains("users") && !text.contains("table") && !text.contains("sql"),
        "{text}"
    );
}

async fn production_mode_sets_secure_host_cookies(backend: Backend) {
    let app = spawn_app_with(backend, &["--production"]).await;
    let reply = app
        .post_json(
            "/api/register",
            json!({"name": "Ada", "email": "ada@example.com", "password": PASSWORD}),
            None,
        )
        .await;
    let cookie = reply.set_cookie("__Host-roster_session").expect("host-prefixed cookie");
    assert!(cookie.contains("; Secure") && cookie.contains("HttpOnly"), "{cookie}");
}

/// The early check for a taken email cannot see a registration that is still
/// hashing: registrations racing for one address all pass it, and the unique index
/// decides. Exactly one account results; every other answer is 409, never 500.
async fn racing_registrations_of_one_email_make_one_account(backend: Backend) {
    let app = std::sync::Arc::new(spawn_app(backend).await);
    let racers: Vec<_> = (0..6)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                let body = json!({"name": format!("Racer {i}"), "email": "race@example.com", "password": "correct horse battery"});
                app.post_json("/api/register", body, None).await
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for racer in racers {
        let reply = racer.await.unwrap();
        if reply.status != 201 {
            reply.assert_error(409, "email_taken");
        }
        statuses.push(reply.status);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
}

/// A write that fails for any reason but a taken email is the server's fault: 500
/// `internal`, not a misleading `email_taken`.
async fn a_failed_insert_is_internal_not_a_taken_email(backend: Backend) {
    let app = spawn_app(backend).await;
    let refuse_inserts = match backend {
        Backend::Sqlite => "CREATE TRIGGER refuse BEFORE INSERT ON users BEGIN SELECT RAISE(ABORT, 'refused'); END",
        Backend::Postgres => {
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$; \
             CREATE TRIGGER refuse BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION refuse()"
        }
    };
    app.execute_sql(refuse_inserts).await;
    let body = json!({"name": "Ada", "email": "ada@example.com", "password": "correct horse battery"});
    app.post_json("/api/register", body, None)
        .await
        .assert_error(500, "internal");
}

/// "Keep me signed in" (`remember`), through the JSON API and the browser's form post
/// alike: without it the cookie has no Max-Age (it ends with the browser) and the
/// session's absolute lifetime is the short one; with it, the long one, in both.
async fn only_keep_me_signed_in_outlives_the_browser_and_the_short_lifetime(backend: Backend) {
    let app = spawn_app_with(backend, &["--session-ttl", "10d", "--session-short-ttl", "2h"]).await;
    let (reply, registered) = app.register("Ada", "ada@example.com", PASSWORD).await;
    let cookie = reply.set_cookie(&app.cookie_name).unwrap();
    assert!(
        !cookie.contains("Max-Age"),
        "registration is a browser session: {cookie}"
    );

    let login = |remember: Option<bool>| {
        let mut body = json!({"email": "ada@example.com", "password": PASSWORD});
        if let Some(remember) = remember {
            body["remember"] = json!(remember);
        }
        app.post_json("/api/login", body, None)
    };
    let short = login(None).await;
    let unticked = login(Some(false)).await;
    let remembered = login(Some(true)).await;
    for reply in [&short, &unticked] {
        let cookie = reply.set_cookie(&app.cookie_name).unwrap();
        assert!(!cookie.contains("Max-Age") && !cookie.contains("Expires"), "{cookie}");
    }
    let cookie = remembered.set_cookie(&app.cookie_name).unwrap();
    assert!(cookie.contains("; Max-Age=864000"), "ten days: {cookie}");

    let form = |fields: &'static [(&'static str, &'static str)]| app.post_form("/rpc/login", "/login", fields, None);
    let form_short = form(&[("email", "ada@example.com"), ("password", PASSWORD)]).await;
    let form_remembered = form(&[
        ("email", "ada@example.com"),
        ("password", PASSWORD),
        ("remember", "true"),
    ])
    .await;
    assert!(!form_short.set_cookie(&app.cookie_name).unwrap().contains("Max-Age"));
    assert!(
        form_remembered
            .set_cookie(&app.cookie_name)
            .unwrap()
            .contains("; Max-Age=864000")
    );

    // The stored expiry is what decides, whatever a client does with the cookie.
    let sessions = app.stored_sessions().await;
    let lifetime_of = |reply: &crate::helpers::Reply| {
        let token = reply.session_cookie(&app.cookie_name).unwrap();
        let hash = app::ssr::sessions::SessionToken::from_cookie(&token).unwrap().hash();
        let session = sessions.iter().find(|s| s.token_hash == hash).expect("stored");
        session.expires_at - session.created_at
    };
    assert_eq!(lifetime_of(&reply), chrono::Duration::hours(2));
    for reply in [&short, &unticked, &form_short] {
        assert_eq!(lifetime_of(reply), chrono::Duration::hours(2));
    }
    for reply in [&remembered, &form_remembered] {
        assert_eq!(lifetime_of(reply), chrono::Duration::days(10));
    }
    assert_eq!(app.me(Some(&registered)).await.status, 200);
}
