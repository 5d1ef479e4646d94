//! Protections tried the way an attacker would: cross-site requests, missing
//! headers, injection payloads in every field and parameter.

use crate::helpers::{Backend, spawn_app, spawn_app_with};
use crate::on_both_backends;
use serde_json::json;

on_both_backends!(
    cross_site_state_changes_are_refused,
    security_headers_and_a_nonce_csp_on_every_page,
    sql_injection_payloads_change_nothing,
    input_limits_answer_with_clear_errors_never_500,
    failed_sign_ins_are_limited_per_account_and_per_ip,
    a_successful_sign_in_clears_the_accounts_failures,
    registrations_are_limited_per_address_before_any_hashing,
    passwords_holding_the_accounts_own_words_are_refused,
    common_passwords_are_refused_wherever_a_password_is_set,
    idle_sessions_end,
    the_sweep_reclaims_expired_sessions_only,
    reads_touch_last_seen_at_most_once_a_minute,
    unknown_email_costs_one_hash_like_a_wrong_password,
    user_text_is_rendered_inert,
    role_changes_end_the_targets_sessions,
);

const PASSWORD: &str = "correct horse battery";

async fn cross_site_state_changes_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, token) = app.register("Ada", "ada@example.com", PASSWORD).await;
    let cookie = format!("{}={token}", app.cookie_name);
    let login = json!({"email": "ada@example.com", "password": PASSWORD});
    let host = app.base.trim_start_matches("http://").to_owned();

    // Browsers label it: refused, whatever the endpoint.
    for (path, body) in [("/api/login", Some(&login)), ("/api/logout", None)] {
        let mut req = app
            .http
            .post(app.url(path))
            .header("sec-fetch-site", "cross-site")
            .header("cookie", &cookie);
        if let Some(body) = body {
            req = req.json(body);
        }
        app.send(req).await.assert_error(403, "cross_site_request");
    }
    let r = app
        .send(
            app.http
                .post(app.url("/api/logout"))
                .header("origin", "https://evil.example")
                .header("cookie", &cookie),
        )
        .await;
    r.assert_error(403, "cross_site_request");
    assert_eq!(
        app.me(Some(&token)).await.status,
        200,
        "the session survived both attempts"
    );
    // The same through a server function and a plain form post.
    let r = app
        .send(
            app.http
                .post(app.url("/rpc/logout"))
                .header("sec-fetch-site", "cross-site")
                .header("accept", "text/html")
                .header("cookie", &cookie),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .send(
            app.http
                .delete(app.url("/api/users/x"))
                .header("origin", "null")
                .header("cookie", &cookie),
        )
        .await;
    r.assert_error(403, "cross_site_request");
    assert_eq!(app.me(Some(&token)).await.status, 200);

    // Same-origin browsers and non-browser clients pass.
    let r = app
        .send(
            app.http
                .post(app.url("/api/login"))
                .json(&login)
                .header("sec-fetch-site", "same-origin")
                .header("origin", format!("http://{host}")),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(app.post_json("/api/login", login.clone(), None).await.status, 200);
    // Reading is never refused: GET does not change state.
    let r = app
        .send(
            app.http
                .get(app.url("/api/me"))
                .header("sec-fetch-site", "cross-site")
                .header("cookie", &cookie),
        )
        .await;
    assert_eq!(r.status, 200);
}

async fn security_headers_and_a_nonce_csp_on_every_page(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/", "/login", "/api/me", "/api/nope", "/no/such/page"] {
        let r = app.get(path, None).await;
        let h = |name: &str| {
            r.headers
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        assert_eq!(h("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(h("referrer-policy"), "strict-origin-when-cross-origin", "{path}");
        assert_eq!(h("x-frame-options"), "DENY", "{path}");
        let csp = h("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(h("strict-transport-security").is_empty(), "no HSTS outside production");
        assert_eq!(
            h("cache-control"),
            "no-store",
            "{path}: no cache keeps an answer that depends on who asks"
        );
    }
    // Signed in too.
    let (_, token) = app.register("Ada", "ada@example.com", PASSWORD).await;
    for path in ["/account", "/api/me"] {
        let r = app.get(path, Some(&token)).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.headers["cache-control"], "no-store", "{path}");
    }
    // (Files keep theirs: `pages.rs::static_files_are_cached_by_name_and_sent_precompressed`.)
    // Pages: every inline script carries this response's nonce, and it differs per response.
    let first = app.get("/login", None).await;
    let second = app.get("/login", None).await;
    let nonce_of = |r: &crate::helpers::Reply| {
        let csp = r.headers["content-security-policy"].to_str().unwrap().to_owned();
        let start = csp.find("'nonce-").expect("a nonce in the page CSP") + 7;
        csp[start..start + csp[start..].find('\'').unwrap()].to_owned()
    };
    let nonce = nonce_of(&first);
    let page_csp = first.headers["content-security-policy"].to_str().unwrap();
    assert!(
        page_csp.contains("object-src 'none'") && page_csp.contains("base-uri 'none'"),
        "{page_csp}"
    );
    assert_ne!(nonce, nonce_of(&second), "fresh per response");
    let html = first.body.as_str().unwrap();
    let scripts = html.matches("<script").count();
    assert!(scripts >= 1);
    assert_eq!(
        html.matches(&format!("nonce=\"{nonce}\"")).count(),
        scripts,
        "every script has the nonce: {html}"
    );

    let prod = spawn_app_with(backend, &["--production"]).await;
    let r = prod.get("/api/me", None).await;
    assert!(
        r.headers["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
}

async fn sql_injection_payloads_change_nothing(backend: Backend) {
    use sea_orm::{ConnectionTrait, Statement};
    let app = spawn_app(backend).await;
    let (_, token) = app.register("Root", "root@example.com", PASSWORD).await;
    app.make_admin("root@example.com", "correct horse battery").await;
    let (reply, victim) = app.register("Victim", "victim@example.com", PASSWORD).await;
    let victim_id = reply.body["data"]["user"]["id"].as_str().unwrap().to_owned();
    // Everything an attacker could change, as one comparable snapshot.
    let snapshot = || async {
        let backend = app.db.get_database_backend();
        let sql = "SELECT email, name, role, password_hash FROM users WHERE email IN ('root@example.com', 'victim@example.com') ORDER BY email";
        let rows = app
            .db
            .query_all_raw(Statement::from_string(backend, sql))
            .await
            .unwrap();
        let users: Vec<String> = rows
            .iter()
            .map(|r| {
                (0..4)
                    .map(|i| r.try_get_by_index::<String>(i).unwrap())
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect();
        (users, app.stored_sessions().await.len())
    };
    let before = snapshot().await;
    let payloads = [
        "' OR '1'='1",
        "'; DROP TABLE users; --",
        "\" OR \"\"=\"",
        "1; DELETE FROM sessions",
        "admin'--",
        "%' OR 1=1 --",
        "x') UNION SELECT password_hash FROM users --",
    ];
    let mut registered: usize = 0;
    for p in payloads {
        // Every body field of every endpoint.
        let r = app.login_as(p, p, None).await;
        assert!(r.status == 422 || r.status == 401, "{p}: {}", r.body);
        let r = app
            .post_json(
                "/api/login",
                json!({"email": format!("root@example.com{p}"), "password": p}),
                None,
            )
            .await;
        assert!(r.status == 422 || r.status == 401, "{p}: {}", r.body);
        let body = json!({"name": p, "email": format!("{p}@example.com"), "password": format!("{p} padding")});
        // Most payloads make an invalid email; some (admin'--) are valid addresses, stored as data.
        let r = app.post_json("/api/register", body.clone(), None).await;
        assert!(r.status == 422 || r.status == 201, "{p}: {}", r.body);
        registered += usize::from(r.status == 201);
        let r = app
            .post_json(
                "/api/register",
                // The password never reaches SQL (it is hashed), and holding the name it would be refused.
                json!({"name": p, "email": format!("a{registered}@example.com"), "password": PASSWORD}),
                None,
            )
            .await;
        assert_eq!(r.status, 201, "{p}: {}", r.body);
        assert_eq!(r.body["data"]["user"]["name"], p.trim(), "stored verbatim, as data");
        registered += 1;
        let r = app.call("POST", "/api/users", Some(body), Some(&token)).await;
        assert!([201, 409, 422].contains(&r.status), "{p}: {}", r.body);
        let r = app
            .update_user(
                &victim_id,
                json!({"email": p, "role": p, "current_password": p}),
                Some(&victim),
            )
            .await;
        assert_eq!(r.status, 422, "{p}: {}", r.body);
        // Every query parameter and the path.
        let encoded: String = p.bytes().map(|b| format!("%{b:02X}")).collect();
        for query in [
            format!("/api/users?q={encoded}"),
            format!("/api/users?role={encoded}"),
            format!("/api/users?cursor={encoded}"),
            format!("/api/users?disabled={encoded}"),
            format!("/api/users?limit={encoded}"),
            format!("/api/audit?q={encoded}"),
            format!("/api/audit?action={encoded}"),
            format!("/api/audit?cursor={encoded}"),
        ] {
            let r = app.get(&query, Some(&token)).await;
            assert!(r.status < 500, "{query}: {}", r.body);
        }
        app.get_user(&encoded, Some(&token))
            .await
            .assert_error(404, "not_found");
        app.call("DELETE", &format!("/api/users/{encoded}"), None, Some(&token))
            .await
            .assert_error(404, "not_found");
    }
    // The payload is a literal search: it finds only the user literally named so, not everyone.
    let r = app.get("/api/users?q=%27%20OR%20%271%27%3D%271", Some(&token)).await;
    let items = r.body["data"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["name"], "' OR '1'='1");
    // The existing accounts and sessions are exactly as they were, plus the sessions
    // of the accounts registered above.
    let after = snapshot().await;
    assert_eq!(after.0, before.0, "users unchanged");
    assert_eq!(after.1, before.1 + registered, "no session deleted or forged");
}

async fn input_limits_answer_with_clear_errors_never_500(backend: Backend) {
    let app = spawn_app(backend).await;
    let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
    let r = app.post_raw("/api/register", Some("application/json"), deep).await;
    r.assert_error(422, "validation_failed");
    assert!(r.body["error"]["fields"]["body"].is_string());
    let huge = "x".repeat(70 * 1024);
    let r = app.post_raw("/api/login", Some("application/json"), huge).await;
    r.assert_error(413, "payload_too_large");
    let r = app.post_raw("/api/login", Some("application/xml"), "<a/>".into()).await;
    r.assert_error(415, "unsupported_media_type");
    let r = app.post_raw("/api/login", None, "{}".into()).await;
    r.assert_error(415, "unsupported_media_type");
    let json_utf8 = Some("application/json; charset=utf-8");
    let r = app.post_raw("/api/login", json_utf8, "{\"email\":".into()).await;
    r.assert_error(400, "bad_request");
    // Over-long fields are validation errors, named per field.
    let r = app
        .post_json(
            "/api/register",
            json!({"name": "n".repeat(5000), "email": format!("{}@example.com", "e".repeat(300)), "password": "p".repeat(500)}),
            None,
        )
        .await;
    r.assert_error(422, "validation_failed");
    assert_eq!(r.body["error"]["fields"].as_object().unwrap().len(), 3);
}

async fn failed_sign_ins_are_limited_per_account_and_per_ip(backend: Backend) {
    let app = spawn_app_with(
        backend,
        &["--login-max-failures", "3", "--login-max-failures-per-ip", "6"],
    )
    .await;
    app.register("Ada", "ada@example.com", PASSWORD).await;
    let wrong = json!({"email": "ada@example.com", "password": "wrong password"});
    for _ in 0..3 {
        app.post_json("/api/login", wrong.clone(), None)
            .await
            .assert_error(401, "invalid_credentials");
    }
    // Locked: even the right password is refused, without a hash, with Retry-After.
    let right = json!({"email": "ADA@example.com", "password": PASSWORD});
    let hashed = app.state.hasher.computed();
    let r = app.post_json("/api/login", right.clone(), None).await;
    r.assert_error(429, "rate_limited");
    assert_eq!(app.state.hasher.computed(), hashed, "refused before any hashing");
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(
        (15 * 60 - 60..=15 * 60).contains(&retry),
        "the whole 15-minute lockout is still to wait: {retry}"
    );
    // Unknown accounts are throttled the same way: the limit reveals nothing.
    let ghost = json!({"email": "ghost@example.com", "password": "wrong password"});
    for _ in 0..3 {
        app.post_json("/api/login", ghost.clone(), None)
            .await
            .assert_error(401, "invalid_credentials");
    }
    app.post_json("/api/login", ghost, None)
        .await
        .assert_error(429, "rate_limited");
    // The IP has now failed 6 times: every account is refused from it.
    app.register("Bob", "bob@example.com", PASSWORD).await;
    let bob = json!({"email": "bob@example.com", "password": PASSWORD});
    app.post_json("/api/login", bob, None)
        .await
        .assert_error(429, "rate_limited");
    // The counters live in the database: a restarted server would see them.
    use sea_orm::{ConnectionTrait, Statement};
    let backend = app.db.get_database_backend();
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) FROM login_throttles WHERE locked_until IS NOT NULL",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.try_get_by_index::<i64>(0).unwrap(),
        3,
        "ada, ghost and the IP are locked"
    );
}

/// Failures count towards a lockout only until the account's owner signs in: two
/// failures, a success and two more failures leave a limit of three unreached.
async fn a_successful_sign_in_clears_the_accounts_failures(backend: Backend) {
    let app = spawn_app_with(
        backend,
        &["--login-max-failures", "3", "--login-max-failures-per-ip", "100"],
    )
    .await;
    app.register("Ada", "ada@example.com", PASSWORD).await;
    let wrong = json!({"email": "ada@example.com", "password": "wrong password"});
    let right = json!({"email": "ada@example.com", "password": PASSWORD});
    for _ in 0..2 {
        for _ in 0..2 {
            app.post_json("/api/login", wrong.clone(), None)
                .await
                .assert_error(401, "invalid_credentials");
        }
        let r = app.post_json("/api/login", right.clone(), None).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
}

/// Each registration costs a password hash and makes an account: one address may
/// attempt only so many in the window, and the one over the limit costs nothing.
async fn registrations_are_limited_per_address_before_any_hashing(backend: Backend) {
    let app = spawn_app_with(backend, &["--register-max-per-ip", "3"]).await;
    for n in 0..3 {
        app.register("Load", &format!("user{n}@example.com"), PASSWORD).await;
    }
    let hashed = app.state.hasher.computed();
    let r = app
        .post_json(
            "/api/register",
            json!({"name": "Load", "email": "user3@example.com", "password": PASSWORD}),
            None,
        )
        .await;
    r.assert_error(429, "rate_limited");
    assert!(r.headers.contains_key("retry-after"));
    assert_eq!(app.state.hasher.computed(), hashed, "refused before any hashing");
    assert_eq!(app.me(None).await.status, 401, "and nothing else is refused");
    app.login("user0@example.com", PASSWORD).await;
}

/// The first guesses against an account: its owner's name, email address and the
/// site's name. Refused at registration, at a password change (against the account
/// as it will be) and when an admin creates an account.
async fn passwords_holding_the_accounts_own_words_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let guessable = app
        .post_json(
            "/api/register",
            json!({"name": "Ada Lovelace", "email": "ada@example.com", "password": "lovelace forever"}),
            None,
        )
        .await;
    guessable.assert_error(422, "validation_failed");
    assert!(
        guessable.body["error"]["fields"]["password"]
            .as_str()
            .unwrap()
            .contains("your name")
    );
    let (reply, token) = app.register("Ada", "ada.byron@example.com", PASSWORD).await;
    let id = reply.body["data"]["user"]["id"].as_str().unwrap().to_owned();
    let change = |password: &str| json!({"password": password, "current_password": PASSWORD});
    app.update_user(&id, change("byron and sons"), Some(&token))
        .await
        .assert_error(422, "validation_failed");
    app.update_user(&id, change("my roster account"), Some(&token))
        .await
        .assert_error(422, "validation_failed");
    let r = app.update_user(&id, change("plinth marrow cobalt"), Some(&token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn common_passwords_are_refused_wherever_a_password_is_set(backend: Backend) {
    let app = spawn_app(backend).await;
    let r = app
        .post_json(
            "/api/register",
            json!({"name": "Ada", "email": "ada@example.com", "password": "baseball"}),
            None,
        )
        .await;
    r.assert_error(422, "validation_failed");
    assert!(
        r.body["error"]["fields"]["password"]
            .as_str()
            .unwrap()
            .contains("too common")
    );
    let (reply, token) = app.register("Ada", "ada@example.com", PASSWORD).await;
    let id = reply.body["data"]["user"]["id"].as_str().unwrap().to_owned();
    let r = app
        .update_user(
            &id,
            json!({"password": "Sunshine1", "current_password": PASSWORD}),
            Some(&token),
        )
        .await;
    r.assert_error(422, "validation_failed");
    assert!(
        r.body["error"]["fields"]["password"]
            .as_str()
            .unwrap()
            .contains("too common")
    );
}

async fn idle_sessions_end(backend: Backend) {
    let app = spawn_app_with(backend, &["--session-idle-timeout", "30m"]).await;
    let (_, token) = app.register("Ada", "ada@example.com", PASSWORD).await;
    assert_eq!(app.me(Some(&token)).await.status, 200);
    // Last seen 31 minutes ago, well inside the 14-day lifetime.
    let past = chrono::Utc::now() - chrono::Duration::minutes(31);
    app.change_stored_sessions(|s| s.last_seen_at = past).await;
    app.me(Some(&token)).await.assert_error(401, "unauthenticated");
}

/// Expiry is enforced on every request; the periodic sweep reclaims the space.
/// (Redis expires keys itself, so this runs on the database store.)
async fn the_sweep_reclaims_expired_sessions_only(backend: Backend) {
    let app = spawn_app_with(backend, &["--session-store", "database"]).await;
    let (_, ada) = app.register("Ada", "ada@example.com", PASSWORD).await;
    let (bob, _) = app.register("Bob", "bob@example.com", PASSWORD).await;
    let bob: uuid::Uuid = bob.body["data"]["user"]["id"].as_str().unwrap().parse().unwrap();
    let ended = chrono::Utc::now() - chrono::Duration::days(1);
    app.change_stored_sessions(|s| {
        if s.user_id == bob {
            s.expires_at = ended;
        }
    })
    .await;
    assert_eq!(app.state.sessions.sweep().await.unwrap(), 1);
    let left = app.stored_sessions().await;
    assert_eq!(left.len(), 1);
    assert_ne!(left[0].user_id, bob);
    assert_eq!(app.me(Some(&ada)).await.status, 200, "the live session is untouched");
    assert_eq!(app.state.sessions.sweep().await.unwrap(), 0, "nothing twice");
}

async fn unknown_email_costs_one_hash_like_a_wrong_password(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("Ada", "ada@example.com", PASSWORD).await;
    let hasher = app.state.hasher.clone();
    let before = hasher.computed();
    app.login_as("ada@example.com", "wrong password", None).await;
    let wrong_password = hasher.computed() - before;
    let before = hasher.computed();
    app.login_as("nobody@example.com", "wrong password", None).await;
    let unknown_email = hasher.computed() - before;
    assert_eq!(wrong_password, 1);
    assert_eq!(unknown_email, wrong_password, "the same work, so the same time");
}

async fn user_text_is_rendered_inert(backend: Backend) {
    let app = spawn_app(backend).await;
    let name = "<script>alert('x')</script><img src=x onerror=alert(1)>";
    let (_, token) = app.register(name, "ada@example.com", PASSWORD).await;
    let page = app.get("/account", Some(&token)).await;
    let html = page.body.as_str().unwrap();
    assert!(
        !html.contains("<script>alert") && !html.contains("<img src=x"),
        "markup must be escaped"
    );
    assert!(html.contains("&lt;script&gt;alert"), "shown as text");
    let api = app.me(Some(&token)).await;
    assert_eq!(
        api.body["data"]["user"]["name"], name,
        "stored and returned verbatim; escaping is the renderer's job"
    );
}

async fn role_changes_end_the_targets_sessions(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, boss) = app.register("Boss", "boss@example.com", PASSWORD).await;
    app.make_admin("boss@example.com", "correct horse battery").await;
    let (reply, ada) = app.register("Ada", "ada@example.com", PASSWORD).await;
    let id = reply.body["data"]["user"]["id"].as_str().unwrap().to_owned();
    let r = app.update_user(&id, json!({"role": "admin"}), Some(&boss)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.me(Some(&ada)).await.assert_error(401, "unauthenticated");
    assert_eq!(
        app.me(Some(&boss)).await.status,
        200,
        "the admin's own session is untouched"
    );
}

/// "Last seen" is written at most once a minute per session, so reads stay reads;
/// a session unused for longer gets it refreshed by its next request.
async fn reads_touch_last_seen_at_most_once_a_minute(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, token) = app.register("Ada", "ada@example.com", PASSWORD).await;
    let last_seen = || async {
        let sessions = app.stored_sessions().await;
        assert_eq!(sessions.len(), 1);
        (sessions[0].last_seen_at, sessions[0].created_at)
    };
    for _ in 0..3 {
        assert_eq!(app.me(Some(&token)).await.status, 200);
    }
    let (seen, created) = last_seen().await;
    assert_eq!(seen, created, "three reads within the minute wrote nothing");
    let two_minutes_ago = chrono::Utc::now() - chrono::Duration::minutes(2);
    app.change_stored_sessions(|s| s.last_seen_at = two_minutes_ago).await;
    assert_eq!(app.me(Some(&token)).await.status, 200);
    let (seen, _) = last_seen().await;
    assert!(seen > two_minutes_ago, "refreshed by the next request: {seen}");
}
