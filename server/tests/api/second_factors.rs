//! Second factors end to end: an authenticator app set up and confirmed through the
//! API with codes computed here (as the app would), sign-in in two steps with a
//! pending cookie that is not a session, replayed and wrong codes, recovery codes
//! (once each, the owner told by a real SMTP server), throttling, the pending
//! sign-in's five tries and five minutes, re-authentication before sensitive
//! changes, turning the app off, an administrator's reset, the other first steps
//! (emailed code, reset link), key rotation, and the pages without JavaScript.

use crate::email_links::{audit_of, has, nth_mail_to, spawn_with_mail};
use crate::helpers::{Backend, Reply, TEST_SECRET_KEY, TestApp, TestUser, spawn_app, spawn_app_on, spawn_app_with};
use crate::on_both_backends;
use app::ssr::second_factor::totp;
use serde_json::{Value, json};

on_both_backends!(
    an_authenticator_app_is_confirmed_then_asked_for_at_every_sign_in,
    a_code_is_accepted_once_and_only_near_its_time,
    a_recovery_code_signs_in_once_and_its_owner_is_told,
    a_pending_sign_in_ends_after_five_wrong_codes_or_five_minutes,
    second_step_codes_count_against_the_password_limits,
    sensitive_changes_need_a_recent_proof,
    turning_the_app_off_needs_the_password_or_a_code,
    new_recovery_codes_void_the_old_set,
    an_admin_resets_a_users_factors_and_the_user_is_told,
    an_emailed_code_or_reset_link_replaces_the_password_not_the_second_factor,
    secrets_are_sealed_at_rest_and_survive_a_key_rotation,
    the_security_page_and_the_second_step_work_without_javascript,
    signing_sessions_out_needs_a_recent_proof,
);

const PENDING: &str = "roster_pending_sign_in";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A user whose authenticator app is set up: its secret (as the app holds it) and
/// the recovery codes it was given.
struct Protected {
    user: TestUser,
    secret: Vec<u8>,
    codes: Vec<String>,
}

impl Protected {
    /// The app's code `steps` steps from now (30 s each).
    fn code(&self, steps: i64) -> String {
        totp::code_at(&self.secret, (now() as i64 + steps * 30) as u64).unwrap()
    }
}

async fn set_up_app(app: &TestApp, user: TestUser) -> Protected {
    let begun = app.post_json("/api/me/totp", json!({}), Some(&user.token)).await;
    assert_eq!(begun.status, 200, "{}", begun.body);
    let secret = totp::secret_from_base32(begun.body["data"]["secret"].as_str().unwrap()).unwrap();
    let code = totp::code_at(&secret, now()).unwrap();
    let confirmed = app
        .post_json("/api/me/totp/confirm", json!({ "code": code }), Some(&user.token))
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    let codes = confirmed.body["data"]["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    Protected { user, secret, codes }
}

/// A sign-in's first step that must ask for the second: the pending cookie's value.
async fn first_step(app: &TestApp, user: &TestUser) -> String {
    let reply = app.login_as(&user.email, &user.password, None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["second_factor_required"], true, "{}", reply.body);
    assert!(
        reply.session_cookie("roster_session").is_none(),
        "no session before the second step"
    );
    reply.session_cookie(PENDING).expect("the pending cookie")
}

async fn second_step(app: &TestApp, pending: &str, code: &str) -> Reply {
    let req = app
        .http
        .post(app.url("/api/login/second-factor"))
        .header("cookie", format!("{PENDING}={pending}"))
        .json(&json!({ "code": code }));
    app.send(req).await
}

async fn status(app: &TestApp, token: &str) -> Value {
    let reply = app.get("/api/me/second-factors", Some(token)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"].clone()
}

/// Makes every session look signed in `minutes` ago, with no proof since.
async fn age_proofs(app: &TestApp, minutes: i64) {
    let by = chrono::Duration::minutes(minutes);
    app.change_stored_sessions(|s| s.created_at -= by).await;
    app.execute_sql("DELETE FROM session_proofs").await;
}

async fn an_authenticator_app_is_confirmed_then_asked_for_at_every_sign_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = TestUser::store(&app, "Ada", "ada@example.com").await;
    let none = status(&app, &ada.token).await;
    assert_eq!(
        none,
        json!({"totp": false, "recovery_codes_left": 0, "passkeys": 0, "methods": []})
    );

    let begun = app.post_json("/api/me/totp", json!({}), Some(&ada.token)).await;
    assert_eq!(begun.status, 200, "{}", begun.body);
    let uri = begun.body["data"]["otpauth_uri"].as_str().unwrap();
    let typed = begun.body["data"]["secret"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/Roster:ada%40example.com?"), "{uri}");
    assert!(
        uri.contains(&format!("secret={typed}")) && uri.contains("issuer=Roster"),
        "{uri}"
    );
    // Nothing changes until the first code is confirmed.
    assert!(app.login_as(&ada.email, &ada.password, None).await.body["data"]["user"].is_object());
    let wrong = app
        .post_json("/api/me/totp/confirm", json!({"code": "000000"}), Some(&ada.token))
        .await;
    wrong.assert_error(422, "validation_failed");
    assert!(wrong.body["error"]["fields"]["code"].is_string(), "{}", wrong.body);
    let not_digits = app
        .post_json(
            "/api/me/totp/confirm",
            json!({"code": "abcd-efgh-jkmn-pqrs-tvwx-yz01"}),
            Some(&ada.token),
        )
        .await;
    not_digits.assert_error(422, "validation_failed");

    let secret = totp::secret_from_base32(typed).unwrap();
    let confirmed = app
        .post_json(
            "/api/me/totp/confirm",
            json!({"code": totp::code_at(&secret, now()).unwrap()}),
            Some(&ada.token),
        )
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    let codes = confirmed.body["data"]["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    assert!(codes.iter().all(|c| {
        let c = c.as_str().unwrap();
        c.len() == 29 && c.split('-').count() == 6
    }));
    let on = status(&app, &ada.token).await;
    assert_eq!(
        on,
        json!({"totp": true, "recovery_codes_left": 10, "passkeys": 0, "methods": ["totp", "recovery_code"]})
    );
    let again = app.post_json("/api/me/totp", json!({}), Some(&ada.token)).await;
    again.assert_error(409, "conflict");

    // Sign-in: the password alone gives a pending cookie, which is not a session.
    let login = app.login_as(&ada.email, &ada.password, None).await;
    assert_eq!(
        login.body["data"],
        json!({"second_factor_required": true, "methods": ["totp", "recovery_code"]})
    );
    let cookie = login.set_cookie(PENDING).unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Max-Age=300"),
        "{cookie}"
    );
    let pending = login.session_cookie(PENDING).unwrap();
    app.me(None).await.assert_error(401, "unauthenticated");
    app.me(Some(&pending)).await.assert_error(401, "unauthenticated");

    let protected = Protected {
        user: ada,
        secret,
        codes: Vec::new(),
    };
    second_step(&app, &pending, "123456")
        .await
        .assert_error(401, "invalid_code");
    second_step(&app, &pending, "12")
        .await
        .assert_error(422, "validation_failed");
    let done = second_step(&app, &pending, &protected.code(1)).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.body["data"]["user"]["email"], "ada@example.com");
    let token = done.session_cookie("roster_session").expect("a session");
    assert!(
        done.set_cookie(PENDING).unwrap().contains("Max-Age=0"),
        "the pending cookie is cleared"
    );
    assert_eq!(app.me(Some(&token)).await.status, 200);
    // Used up: the same pending cookie starts nothing more.
    second_step(&app, &pending, &protected.code(0))
        .await
        .assert_error(401, "unauthenticated");

    let events = audit_of(&app, "ada@example.com").await;
    assert!(has(&events, "second_factor_enabled", ""), "{events:?}");
    assert!(
        has(&events, "sign_in", "with password and an authenticator code"),
        "{events:?}"
    );
    assert!(has(&events, "sign_in_failed", "second step: wrong code"), "{events:?}");
}

async fn a_code_is_accepted_once_and_only_near_its_time(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = set_up_app(&app, TestUser::generate(&app).await).await;
    // The code that confirmed the app (this step) is spent.
    let pending = first_step(&app, &ada.user).await;
    second_step(&app, &pending, &ada.code(0))
        .await
        .assert_error(401, "invalid_code");
    // Two steps away is too far either side.
    second_step(&app, &pending, &ada.code(-2))
        .await
        .assert_error(401, "invalid_code");
    second_step(&app, &pending, &ada.code(2))
        .await
        .assert_error(401, "invalid_code");
    // One step of drift is fine, once.
    assert_eq!(second_step(&app, &pending, &ada.code(1)).await.status, 200);
    let pending = first_step(&app, &ada.user).await;
    second_step(&app, &pending, &ada.code(1))
        .await
        .assert_error(401, "invalid_code");
    // An earlier code than the last one accepted is refused too.
    second_step(&app, &pending, &ada.code(0))
        .await
        .assert_error(401, "invalid_code");

    // Two requests with one recovery code: exactly one session between them.
    let (a, b) = (first_step(&app, &ada.user).await, first_step(&app, &ada.user).await);
    let code = &ada.codes[0];
    let (one, two) = tokio::join!(second_step(&app, &a, code), second_step(&app, &b, code));
    let mut statuses = [one.status, two.status];
    statuses.sort();
    assert_eq!(statuses, [200, 401], "{} {}", one.body, two.body);
}

async fn a_recovery_code_signs_in_once_and_its_owner_is_told(backend: Backend) {
    let (app, sink) = spawn_with_mail(backend, &[]).await;
    let user = TestUser::store(&app, "Ada", "ada@example.com").await;
    let ada = set_up_app(&app, user).await;
    let code = ada.codes[3].clone();
    let pending = first_step(&app, &ada.user).await;
    // Typed loosely: upper case, without dashes.
    let loose = code.replace('-', "").to_uppercase();
    let done = second_step(&app, &pending, &loose).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let token = done.session_cookie("roster_session").unwrap();
    assert_eq!(status(&app, &token).await["recovery_codes_left"], 9);
    // Once only.
    let pending = first_step(&app, &ada.user).await;
    second_step(&app, &pending, &code)
        .await
        .assert_error(401, "invalid_code");
    // The owner is told (mail 1 is the address link, 2 the app's notice).
    let notice = nth_mail_to(&sink, "ada@example.com", 3).await;
    assert!(notice.subject.contains("recovery code was used"), "{}", notice.subject);
    assert!(notice.text.contains("9 unused code(s) left"), "{}", notice.text);
    let events = audit_of(&app, "ada@example.com").await;
    assert!(
        has(&events, "recovery_code_used", "for signing in; 9 left"),
        "{events:?}"
    );
    assert!(
        has(&events, "sign_in", "with password and a recovery code"),
        "{events:?}"
    );
    // A recovery code of another account is no code at all.
    let bob = set_up_app(&app, TestUser::generate(&app).await).await;
    let pending = first_step(&app, &bob.user).await;
    second_step(&app, &pending, &ada.codes[4])
        .await
        .assert_error(401, "invalid_code");
}

async fn a_pending_sign_in_ends_after_five_wrong_codes_or_five_minutes(backend: Backend) {
    let app = spawn_app_with(backend, &["--login-max-failures", "50"]).await;
    let ada = set_up_app(&app, TestUser::generate(&app).await).await;
    let pending = first_step(&app, &ada.user).await;
    for _ in 0..5 {
        second_step(&app, &pending, "000000")
            .await
            .assert_error(401, "invalid_code");
    }
    // Out of tries: even the right code needs a new sign-in.
    second_step(&app, &pending, &ada.code(1))
        .await
        .assert_error(401, "unauthenticated");

    let pending = first_step(&app, &ada.user).await;
    app.execute_sql("UPDATE pending_sign_ins SET expires_at = created_at")
        .await;
    let late = second_step(&app, &pending, &ada.code(1)).await;
    late.assert_error(401, "unauthenticated");
    assert!(late.set_cookie(PENDING).unwrap().contains("Max-Age=0"));
    // No pending cookie at all.
    let req = app
        .http
        .post(app.url("/api/login/second-factor"))
        .json(&json!({"code": ada.code(1)}));
    app.send(req).await.assert_error(401, "unauthenticated");
    let pending = first_step(&app, &ada.user).await;
    assert_eq!(second_step(&app, &pending, &ada.code(1)).await.status, 200);
}

async fn second_step_codes_count_against_the_password_limits(backend: Backend) {
    let app = spawn_app_with(backend, &["--login-max-failures", "3"]).await;
    let ada = set_up_app(&app, TestUser::generate(&app).await).await;
    let pending = first_step(&app, &ada.user).await;
    for _ in 0..3 {
        second_step(&app, &pending, "000000")
            .await
            .assert_error(401, "invalid_code");
    }
    let limited = second_step(&app, &pending, &ada.code(1)).await;
    limited.assert_error(429, "rate_limited");
    assert!(limited.headers.get("retry-after").is_some());
    // The password too: the account is locked for a while.
    app.login_as(&ada.user.email, &ada.user.password, None)
        .await
        .assert_error(429, "rate_limited");
}

async fn sensitive_changes_need_a_recent_proof(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = TestUser::generate(&app).await;
    // A session signed in 11 minutes ago, and nothing since.
    age_proofs(&app, 11).await;
    let refused = app.post_json("/api/me/totp", json!({}), Some(&ada.token)).await;
    refused.assert_error(401, "reauthentication_required");
    // The session itself is fine.
    assert_eq!(app.me(Some(&ada.token)).await.status, 200);
    let wrong = app
        .post_json(
            "/api/me/reauthenticate",
            json!({"password": "not the password"}),
            Some(&ada.token),
        )
        .await;
    wrong.assert_error(422, "validation_failed");
    assert!(wrong.body["error"]["fields"]["password"].is_string());
    let empty = app
        .post_json("/api/me/reauthenticate", json!({}), Some(&ada.token))
        .await;
    empty.assert_error(422, "validation_failed");
    let proven = app
        .post_json(
            "/api/me/reauthenticate",
            json!({"password": ada.password}),
            Some(&ada.token),
        )
        .await;
    assert_eq!(proven.status, 200, "{}", proven.body);
    let until: chrono::DateTime<chrono::Utc> = proven.body["data"]["reauthenticated_until"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let left = until - chrono::Utc::now();
    assert!(
        left > chrono::Duration::minutes(9) && left <= chrono::Duration::minutes(10),
        "{left}"
    );
    let ada = set_up_app(&app, ada).await;

    // New recovery codes: a proof, and a code from the app counts as one.
    age_proofs(&app, 11).await;
    let token = ada.user.token.clone();
    app.post_json("/api/me/recovery-codes", json!({}), Some(&token))
        .await
        .assert_error(401, "reauthentication_required");
    let by_code = app
        .post_json("/api/me/reauthenticate", json!({"code": ada.code(1)}), Some(&token))
        .await;
    assert_eq!(by_code.status, 200, "{}", by_code.body);
    let fresh = app.post_json("/api/me/recovery-codes", json!({}), Some(&token)).await;
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    let fresh_code = fresh.body["data"]["recovery_codes"][0].as_str().unwrap().to_owned();
    // A proof belongs to its session: another session of the same account has none.
    let other = {
        let pending = first_step(&app, &ada.user).await;
        // The app's last code is spent: a recovery code.
        let done = second_step(&app, &pending, &fresh_code).await;
        done.session_cookie("roster_session").unwrap()
    };
    age_proofs(&app, 11).await;
    app.post_json(
        "/api/me/reauthenticate",
        json!({"password": ada.user.password}),
        Some(&token),
    )
    .await;
    app.post_json("/api/me/recovery-codes", json!({}), Some(&other))
        .await
        .assert_error(401, "reauthentication_required");

    // An administrator changing a role.
    let admin = TestUser::admin(&app, "boss@example.com").await;
    let mut admin = admin;
    admin.log_in(&app).await;
    let bob = TestUser::generate(&app).await;
    age_proofs(&app, 11).await;
    app.update_user(&bob.id, json!({"role": "admin"}), Some(&admin.token))
        .await
        .assert_error(401, "reauthentication_required");
    // Other changes by the administrator still go through.
    assert_eq!(
        app.update_user(&bob.id, json!({"name": "Robert"}), Some(&admin.token))
            .await
            .status,
        200
    );
    app.post_json(
        "/api/me/reauthenticate",
        json!({"password": admin.password}),
        Some(&admin.token),
    )
    .await;
    let promoted = app
        .update_user(&bob.id, json!({"role": "admin"}), Some(&admin.token))
        .await;
    assert_eq!(promoted.status, 200, "{}", promoted.body);
    let events = audit_of(&app, &ada.user.email).await;
    assert!(has(&events, "reauthenticated", "with password"), "{events:?}");
    assert!(has(&events, "reauthenticated", "with authenticator app"), "{events:?}");
    // Anonymous callers are asked to sign in, not to prove anything.
    app.post_json("/api/me/reauthenticate", json!({"password": "x"}), None)
        .await
        .assert_error(401, "unauthenticated");
}

async fn turning_the_app_off_needs_the_password_or_a_code(backend: Backend) {
    let (app, sink) = spawn_with_mail(backend, &[]).await;
    let user = TestUser::store(&app, "Ada", "ada@example.com").await;
    let ada = set_up_app(&app, user).await;
    let token = ada.user.token.clone();
    let off = |body: Value| {
        let app = &app;
        let token = token.clone();
        async move { app.call("DELETE", "/api/me/totp", Some(body), Some(&token)).await }
    };
    off(json!({})).await.assert_error(422, "validation_failed");
    off(json!({"password": "wrong password here"}))
        .await
        .assert_error(422, "validation_failed");
    off(json!({"code": "000000"}))
        .await
        .assert_error(422, "validation_failed");
    let done = off(json!({"code": ada.code(1)})).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(status(&app, &token).await["totp"], false);
    // Sign-in is one step again, and the recovery codes are gone with the app.
    assert!(app.login_as(&ada.user.email, &ada.user.password, None).await.body["data"]["user"].is_object());
    app.post_json("/api/me/recovery-codes", json!({}), Some(&token))
        .await
        .assert_error(409, "conflict");
    off(json!({"password": ada.user.password}))
        .await
        .assert_error(409, "conflict");
    let notice = nth_mail_to(&sink, "ada@example.com", 3).await;
    assert!(
        notice.subject.contains("authenticator app was removed"),
        "{}",
        notice.subject
    );
    let events = audit_of(&app, "ada@example.com").await;
    assert!(has(&events, "second_factor_disabled", ""), "{events:?}");
    // The password works as a proof too.
    let again = set_up_app(&app, ada.user).await;
    let token = again.user.token.clone();
    let by_password = app
        .call(
            "DELETE",
            "/api/me/totp",
            Some(json!({"password": again.user.password})),
            Some(&token),
        )
        .await;
    assert_eq!(by_password.status, 200, "{}", by_password.body);
}

async fn new_recovery_codes_void_the_old_set(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = set_up_app(&app, TestUser::generate(&app).await).await;
    let fresh = app
        .post_json("/api/me/recovery-codes", json!({}), Some(&ada.user.token))
        .await;
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    let new_codes: Vec<String> = fresh.body["data"]["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(new_codes.len(), 10);
    assert!(new_codes.iter().all(|c| !ada.codes.contains(c)));
    let pending = first_step(&app, &ada.user).await;
    second_step(&app, &pending, &ada.codes[0])
        .await
        .assert_error(401, "invalid_code");
    assert_eq!(second_step(&app, &pending, &new_codes[0]).await.status, 200);
    // Stored as hashes only.
    let stored: Vec<app::ssr::entity::recovery_codes::Model> =
        <app::ssr::entity::recovery_codes::Entity as sea_orm::EntityTrait>::find()
            .all(&app.db)
            .await
            .unwrap();
    assert_eq!(stored.len(), 10);
    let plain: Vec<String> = new_codes.iter().map(|c| c.replace('-', "")).collect();
    assert!(
        stored
            .iter()
            .all(|row| row.code_hash.len() == 64 && !plain.contains(&row.code_hash))
    );
}

async fn an_admin_resets_a_users_factors_and_the_user_is_told(backend: Backend) {
    let (app, sink) = spawn_with_mail(backend, &[]).await;
    let user = TestUser::store(&app, "Ada", "ada@example.com").await;
    let ada = set_up_app(&app, user).await;
    let bob = TestUser::generate(&app).await;
    let path = format!("/api/users/{}/second-factors", ada.user.id);
    app.call("DELETE", &path, None, Some(&bob.token))
        .await
        .assert_error(403, "forbidden");
    app.call("DELETE", &path, None, None)
        .await
        .assert_error(401, "unauthenticated");
    // Her own pending sign-in ends with the reset.
    let pending = first_step(&app, &ada.user).await;
    let admin = TestUser::admin(&app, "boss@example.com").await;
    let mut admin = admin;
    admin.log_in(&app).await;
    let reset = app.call("DELETE", &path, None, Some(&admin.token)).await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    second_step(&app, &pending, &ada.code(1))
        .await
        .assert_error(401, "unauthenticated");
    assert!(app.login_as(&ada.user.email, &ada.user.password, None).await.body["data"]["user"].is_object());
    let notice = nth_mail_to(&sink, "ada@example.com", 3).await;
    assert!(
        notice.subject.contains("administrator removed the second factor"),
        "{}",
        notice.subject
    );
    let events = audit_of(&app, "ada@example.com").await;
    assert!(events.iter().any(|(a, _)| a == "second_factors_reset"), "{events:?}");
    app.call(
        "DELETE",
        &format!("/api/users/{}/second-factors", uuid::Uuid::new_v4()),
        None,
        Some(&admin.token),
    )
    .await
    .assert_error(404, "not_found");
}

async fn an_emailed_code_or_reset_link_replaces_the_password_not_the_second_factor(backend: Backend) {
    let (app, sink) = spawn_with_mail(backend, &[]).await;
    let user = TestUser::store(&app, "Ada", "ada@example.com").await;
    let ada = set_up_app(&app, user).await;
    // Sign-in by an emailed code.
    let asked = app
        .post_json("/api/login/code", json!({"email": "ada@example.com"}), None)
        .await;
    assert_eq!(asked.status, 200);
    let mail = nth_mail_to(&sink, "ada@example.com", 3).await;
    let line = mail.text.lines().find(|l| l.starts_with("Your code: ")).unwrap();
    let code: String = line.chars().filter(char::is_ascii_digit).collect();
    let by_code = app
        .post_json(
            "/api/login/code/verify",
            json!({"email": "ada@example.com", "code": code}),
            None,
        )
        .await;
    assert_eq!(by_code.body["data"]["second_factor_required"], true, "{}", by_code.body);
    assert!(by_code.session_cookie("roster_session").is_none());
    let pending = by_code.session_cookie(PENDING).unwrap();
    let done = second_step(&app, &pending, &ada.code(1)).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let events = audit_of(&app, "ada@example.com").await;
    assert!(
        has(&events, "sign_in", "with an emailed code and an authenticator code"),
        "{events:?}"
    );

    // A reset link sets the password, then asks for the code too.
    let forgot = app
        .post_json("/api/password/forgot", json!({"email": "ada@example.com"}), None)
        .await;
    assert_eq!(forgot.status, 200);
    let mail = nth_mail_to(&sink, "ada@example.com", 4).await;
    let link = mail
        .text
        .lines()
        .find(|l| l.contains("token="))
        .unwrap()
        .trim()
        .to_owned();
    let token = link.split("token=").nth(1).unwrap().to_owned();
    let reset = app
        .post_json(
            "/api/password/reset",
            json!({"token": token, "password": "a brand new passphrase"}),
            None,
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    assert_eq!(reset.body["data"]["second_factor_required"], true, "{}", reset.body);
    assert!(reset.session_cookie("roster_session").is_none());
    let pending = reset.session_cookie(PENDING).unwrap();
    // The new password is set: signing in with it asks for the code as usual.
    let login = app.login_as("ada@example.com", "a brand new passphrase", None).await;
    assert_eq!(login.body["data"]["second_factor_required"], true, "{}", login.body);
    // The app's newest code is spent: a recovery code.
    let done = second_step(&app, &pending, &ada.codes[0]).await;
    assert_eq!(done.status, 200, "{}", done.body);
}

async fn secrets_are_sealed_at_rest_and_survive_a_key_rotation(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = set_up_app(&app, TestUser::generate(&app).await).await;
    let typed = totp::secret_base32(&ada.secret);
    let rows: Vec<app::ssr::entity::totp_factors::Model> =
        <app::ssr::entity::totp_factors::Entity as sea_orm::EntityTrait>::find()
            .all(&app.db)
            .await
            .unwrap();
    assert_eq!(rows.len(), 1);
    let sealed = &rows[0].secret_encrypted;
    assert!(sealed.starts_with("v1."), "{sealed}");
    let as_hex: String = ada.secret.iter().map(|b| format!("{b:02x}")).collect();
    assert!(
        !sealed.contains(&typed) && !sealed.contains(&as_hex),
        "never in the clear"
    );

    // A new key, the old one kept as previous: what it sealed still opens.
    let url = app.url.clone();
    let new_key = "ab".repeat(32);
    let rotated = spawn_app_on(
        &url,
        &["--secret-key", &new_key, "--secret-key-previous", TEST_SECRET_KEY],
    )
    .await;
    let pending = first_step(&rotated, &ada.user).await;
    assert_eq!(second_step(&rotated, &pending, &ada.code(1)).await.status, 200);
    // `roster secrets rotate` seals it again; then the old key can go.
    assert_eq!(rotated.state.second_factors.reseal_all().await.unwrap(), 1);
    assert_eq!(
        rotated.state.second_factors.reseal_all().await.unwrap(),
        0,
        "nothing left to reseal"
    );
    let only_new = spawn_app_on(&url, &["--secret-key", &new_key]).await;
    // (The app's newest code is spent: an earlier one is refused, which still
    // needs the secret opened; a refusal, not an error, shows it opened.)
    let pending = first_step(&only_new, &ada.user).await;
    second_step(&only_new, &pending, &ada.code(0))
        .await
        .assert_error(401, "invalid_code");
    // The old key alone no longer opens it: an internal error, never a pass.
    let only_old = spawn_app_on(&url, &[]).await;
    let pending = first_step(&only_old, &ada.user).await;
    second_step(&only_old, &pending, &ada.code(0))
        .await
        .assert_error(500, "internal");
}

/// The cookies a response set, as a `cookie` header for the next request (added to `jar`).
fn keep_cookies(jar: &mut Vec<(String, String)>, reply: &Reply) {
    for set in reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
    {
        let pair = set.split(';').next().unwrap();
        let (name, value) = pair.split_once('=').unwrap();
        jar.retain(|(n, _)| n != name);
        if !value.is_empty() && !set.contains("Max-Age=0") {
            jar.push((name.to_owned(), value.to_owned()));
        }
    }
}

fn cookie_header(jar: &[(String, String)]) -> String {
    jar.iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Posts a form as a browser without JavaScript, with the cookies in `jar`.
async fn post_form(
    app: &TestApp,
    jar: &mut Vec<(String, String)>,
    path: &str,
    from: &str,
    fields: &[(&str, &str)],
) -> Reply {
    let req = app
        .http
        .post(app.url(path))
        .header("accept", "text/html,application/xhtml+xml")
        .header("referer", app.url(from))
        .header("cookie", cookie_header(jar))
        .form(fields);
    let reply = app.send(req).await;
    keep_cookies(jar, &reply);
    reply
}

async fn page(app: &TestApp, jar: &[(String, String)], path: &str) -> String {
    let req = app.http.get(app.url(path)).header("cookie", cookie_header(jar));
    let reply = app.send(req).await;
    assert_eq!(reply.status, 200, "{path}");
    reply.body.as_str().unwrap().to_owned()
}

/// Where a redirect leads, as a path on the app.
fn location(reply: &Reply) -> String {
    let to = reply
        .headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match to.find("://") {
        Some(scheme) => to[scheme + 3..]
            .find('/')
            .map_or("/".to_owned(), |p| to[scheme + 3 + p..].to_owned()),
        None => to.to_owned(),
    }
}

async fn the_security_page_and_the_second_step_work_without_javascript(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = TestUser::generate(&app).await;
    let mut jar = vec![("roster_session".to_owned(), ada.token.clone())];
    let off = page(&app, &jar, "/account/security").await;
    assert!(off.contains("Set up an authenticator app"), "{off}");

    let begun = post_form(&app, &mut jar, "/rpc/account/security/totp", "/account/security", &[]).await;
    assert_eq!(location(&begun), "/account/security", "{}", begun.status);
    let setup = page(&app, &jar, "/account/security").await;
    assert!(setup.contains("<svg"), "the QR code is rendered on the server");
    let typed = setup
        .split("data-testid=\"totp-secret\"")
        .nth(1)
        .and_then(|rest| rest.split('>').nth(1))
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_else(|| panic!("the secret as text: {setup}"));
    let secret = totp::secret_from_base32(typed).unwrap();
    let confirmed = post_form(
        &app,
        &mut jar,
        "/rpc/account/security/totp/confirm",
        "/account/security",
        &[("code", &totp::code_at(&secret, now()).unwrap())],
    )
    .await;
    assert_eq!(location(&confirmed), "/account/security");
    let shown = page(&app, &jar, "/account/security").await;
    assert!(
        shown.contains("Your recovery codes"),
        "the codes are shown after the redirect"
    );
    let first_code = shown
        .split("<li><code>")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap()
        .to_owned();
    assert_eq!(first_code.len(), 29, "{first_code}");
    post_form(
        &app,
        &mut jar,
        "/rpc/account/security/recovery-codes/dismiss",
        "/account/security",
        &[],
    )
    .await;
    assert!(
        !page(&app, &jar, "/account/security")
            .await
            .contains("Your recovery codes")
    );

    // Sign-in in two steps, each a plain form post.
    let mut browser = Vec::new();
    let first = post_form(
        &app,
        &mut browser,
        "/rpc/login",
        "/login",
        &[("email", &ada.email), ("password", &ada.password)],
    )
    .await;
    assert_eq!(location(&first), "/login/second-factor");
    assert!(browser.iter().any(|(n, _)| n == PENDING) && !browser.iter().any(|(n, _)| n == "roster_session"));
    let step_page = page(&app, &browser, "/login/second-factor").await;
    assert!(step_page.contains("second-factor-code"), "{step_page}");
    let wrong = post_form(
        &app,
        &mut browser,
        "/rpc/login/second-factor",
        "/login/second-factor",
        &[("code", "000000")],
    )
    .await;
    assert!(
        location(&wrong).starts_with("/login/second-factor"),
        "back to the form: {}",
        location(&wrong)
    );
    let done = post_form(
        &app,
        &mut browser,
        "/rpc/login/second-factor",
        "/login/second-factor",
        &[("code", &first_code)],
    )
    .await;
    assert_eq!(location(&done), "/account");
    let session = browser
        .iter()
        .find(|(n, _)| n == "roster_session")
        .map(|(_, v)| v.clone())
        .unwrap();
    assert_eq!(app.me(Some(&session)).await.status, 200);
    assert!(
        !browser.iter().any(|(n, _)| n == PENDING),
        "the pending cookie is cleared"
    );

    // A change that needs a proof asks for it, then carries on (new codes here).
    age_proofs(&app, 11).await;
    let asked = post_form(
        &app,
        &mut jar,
        "/rpc/account/security/recovery-codes",
        "/account/security",
        &[],
    )
    .await;
    let back = location(&asked);
    assert!(back.starts_with("/account/security"), "{back}");
    let prompt = page(&app, &jar, &back).await;
    assert!(
        prompt.contains("Confirm it is you") && prompt.contains("value=\"new_codes\""),
        "{prompt}"
    );
    let proven = post_form(
        &app,
        &mut jar,
        "/rpc/account/reauthenticate",
        &back,
        &[("password", &ada.password), ("then", "new_codes")],
    )
    .await;
    assert_eq!(location(&proven), "/account/security");
    assert!(
        page(&app, &jar, "/account/security")
            .await
            .contains("Your recovery codes")
    );
}

/// ASVS 7.5.2: a stolen session must not sign its owner out of everything. Through
/// the server functions the account page calls, hydrated and as plain forms.
async fn signing_sessions_out_needs_a_recent_proof(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut ada = TestUser::generate(&app).await;
    let laptop = ada.token.clone();
    let phone = ada.log_in(&app).await.to_owned();
    age_proofs(&app, 11).await;
    let refused = app.rpc("account/sessions/revoke-others", "", &phone).await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert_eq!(app.me(Some(&laptop)).await.status, 200, "nothing was signed out");
    // Plain forms: the proof carries on with the sign-out and returns to the list.
    let mut jar = vec![("roster_session".to_owned(), phone.clone())];
    let proven = post_form(
        &app,
        &mut jar,
        "/rpc/account/reauthenticate",
        "/account",
        &[("password", &ada.password), ("then", "sign_out_others")],
    )
    .await;
    assert_eq!(location(&proven), "/account#sessions");
    assert_eq!(
        app.me(Some(&laptop)).await.status,
        401,
        "the other session was signed out"
    );
    assert_eq!(app.me(Some(&phone)).await.status, 200);
    // Hydrated: the proof, then the sign-out itself.
    let tablet = ada.log_in(&app).await.to_owned();
    age_proofs(&app, 11).await;
    let sessions = app.rpc("account/sessions", "", &phone).await;
    let other = sessions
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let form = format!("id={other}");
    assert_eq!(app.rpc("account/sessions/revoke", &form, &phone).await.status, 401);
    let body = format!("password={}&stay=true", ada.password.replace(' ', "+"));
    assert_eq!(app.rpc("account/reauthenticate", &body, &phone).await.status, 200);
    assert_eq!(app.rpc("account/sessions/revoke", &form, &phone).await.status, 200);
    assert_eq!(app.me(Some(&tablet)).await.status, 401);
}
