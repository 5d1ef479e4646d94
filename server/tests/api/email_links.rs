//! The flows that go through a link sent by mail, end to end: a real SMTP server
//! (aiosmtpd) receives each message, the test reads it, follows its link and checks
//! the outcome. Proving an address after registration, resending, requiring a
//! proven address to sign in, resetting a forgotten password, and every way a link
//! stops working (used, expired, superseded, voided, throttled).

use crate::helpers::{Backend, Delivered, Reply, SmtpSink, TestApp, TestUser, eventually, spawn_app_with};
use crate::on_both_backends;
use app::ssr::entity::email_tokens;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

on_both_backends!(
    registration_mails_a_link_that_proves_the_address_once,
    a_new_link_voids_the_previous_one_and_is_throttled_per_address,
    a_required_proven_address_holds_sign_in_until_the_link_is_followed,
    asking_for_a_reset_link_answers_the_same_for_every_address,
    a_reset_link_sets_a_new_password_once_and_ends_every_session,
    a_reset_link_is_void_after_a_newer_one_a_password_change_or_disabling,
    an_expired_link_opens_nothing,
    links_that_open_nothing_are_throttled_per_ip,
    a_link_lands_in_a_cookie_and_the_plain_form_uses_it,
    your_own_new_address_takes_effect_when_its_link_is_followed,
    the_old_address_can_undo_a_change_and_end_every_session,
    an_address_an_administrator_sets_is_unproven_until_its_link_is_followed,
    administrators_see_and_set_whether_an_address_is_proven,
    a_registration_while_smtp_is_down_is_mailed_once_it_is_back,
    a_link_opens_once_however_many_use_it_at_once,
);

pub(crate) const PASSWORD: &str = "correct horse battery";

pub(crate) async fn spawn_with_mail(backend: Backend, extra: &[&str]) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start();
    let url = sink.url();
    let mut args = vec![
        "--smtp-url",
        url.as_str(),
        "--public-url",
        "https://accounts.example.com",
    ];
    args.extend_from_slice(extra);
    let app = spawn_app_with(backend, &args).await;
    (app, sink)
}

/// Waits for the `n`th message (counting from 1) to `to`, and returns it.
pub(crate) async fn nth_mail_to(sink: &SmtpSink, to: &str, n: usize) -> Delivered {
    let mails = || {
        sink.messages()
            .iter()
            .map(|raw| Delivered::parse(raw))
            .filter(|m| m.to.contains(to))
            .collect::<Vec<_>>()
    };
    eventually(30, &format!("mail {n} reaches {to}"), || async { mails().len() >= n }).await;
    mails().swap_remove(n - 1)
}

pub(crate) fn mails_to(sink: &SmtpSink, to: &str) -> usize {
    sink.messages()
        .iter()
        .filter(|raw| Delivered::parse(raw).to.contains(to))
        .count()
}

/// The link in a mail (on a line of its own in the text part), and its `token`.
pub(crate) fn link_in(mail: &Delivered) -> (String, String) {
    let link = mail
        .text
        .lines()
        .find(|line| line.starts_with("https://accounts.example.com/"))
        .unwrap_or_else(|| panic!("a link in {}", mail.text))
        .trim()
        .to_owned();
    let token = link.split_once("?token=").expect("a token in the link").1.to_owned();
    assert!(
        mail.html.contains(&link),
        "the HTML part has the same link: {}",
        mail.html
    );
    (link, token)
}

async fn verify(app: &TestApp, token: &str) -> Reply {
    app.post_json("/api/email/verify", json!({ "token": token }), None)
        .await
}

async fn forgot(app: &TestApp, email: &str) -> Reply {
    app.post_json("/api/password/forgot", json!({ "email": email }), None)
        .await
}

async fn reset(app: &TestApp, token: &str, password: &str) -> Reply {
    app.post_json(
        "/api/password/reset",
        json!({ "token": token, "password": password }),
        None,
    )
    .await
}

/// The audit actions recorded about `email`, oldest first, with their details.
pub(crate) async fn audit_of(app: &TestApp, email: &str) -> Vec<(String, String)> {
    let admin = TestUser::admin(app, &format!("auditor-{}@example.com", uuid::Uuid::new_v4().simple())).await;
    let reply = app
        .audit(
            &format!("q={}&limit=100", email.replace('+', "%2B")),
            Some(&admin.token),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let mut events: Vec<(String, String)> = reply.body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target_email"] == email)
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["detail"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    events.reverse();
    events
}

pub(crate) fn has(events: &[(String, String)], action: &str, detail: &str) -> bool {
    events.iter().any(|(a, d)| a == action && d.contains(detail))
}

async fn registration_mails_a_link_that_proves_the_address_once(backend: Backend) {
    let (app, sink) = spawn_with_mail(backend, &[]).await;
    let ada = TestUser::store(&app, "Ada", "ada@example.com").await;
    assert_eq!(
        app.me(Some(&ada.token)).await.body["data"]["user"]["email_verified"],
        false
    );

    let mail = nth_mail_to(&sink, "ada@example.com", 1).await;
    assert!(mail.subject.contains("Confirm your address"), "{}", mail.subject);
    let (link, token) = link_in(&mail);
    assert!(
        link.starts_with("https://accounts.example.com/email/verify?token="),
        "{link}"
    );
    assert_eq!(token.len(), 64, "256 bits, hex");
    let stored = email_tokens::Entity::find().all(&app.db).await.unwrap();
    assert!(
        stored.iter().all(|t| t.token_hash != token),
        "only the secret's hash is stored"
    );

    let reply = verify(&app, &token).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["user"]["email_verified"], true);
    // The signed-in session sees it at once (the cached account was forgotten).
    assert_eq!(
        app.me(Some(&ada.token)).await.body["data"]["user"]["email_verified"],
        true
    );

    verify(&app, &token).await.assert_error(400, "invalid_token");
    verify(&app, "not-a-token").await.assert_error(400, "invalid_token");

    let events = audit_of(&app, "ada@example.com").await;
    assert!(has(&events, "token_issued", "verify_email"), "{events:?}");
    assert!(has(&events, "token_used", "verify_email"), "{events:?}");
    assert!(has(&events, "email_verified", ""), "{events:?}");
    assert!(
        has(&events, "token_refused", "verify_email: already used"),
        "{events:?}"
    );
    // A resend for a proven address is refused: nothing to prove.
    let reply = app
        .post_json("/api/email/verify/resend", json!({}), Some(&ada.token))
        .await;
    reply.assert_error(400, "bad_request");
}

async fn a_new_link_voids_the_previous_one_and_is_throttled_per_address(backend: Backend) {
    let (app, sink) = spawn_with_mail(backend, &[]).await;
    let bob = TestUser::store(&app, "Bob", "bob@example.com").await;
    let (_, first) = link_in(&nth_mail_to(&sink, "bob@example.com", 1).await);

    app.post_json("/api/email/verify/resend", json!({}), None)
        .await
        .assert_error(401, "unauthenticated");
    let reply = app
        .post_json("/api/email/verify/resend", json!({}), Some(&bob.token))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let (_, second) = link_in(&nth_mail_to(&sink, "bob@example.com", 2).await);
    assert_ne!(first, second);
    verify(&app, &first).await.assert_error(400, "invalid_token");

    // Five mails per address within the window (one sent above), then 429.
    for _ in 0..4 {
        let reply = app
            .post_json("/api/email/verify/resend", json!({}), Some(&bob.token))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let reply = app
        .post_json("/api/email/verify/resend", json!({}), Some(&bob.token))
        .await;
    reply.assert_error(429, "rate_limited");
    assert!(reply.headers.get("retry-after").is_some());

    // The newest link still works.
    let (_, newest) = link_in(&nth_mail_to(&sink, "bob@example.com", 6).await);
    assert_eq!(verify(&app, &newest).await.status, 200);
}

async fn a_required_proven_address_holds_sign_in_until_the_link_is_followed(backend: Backend) {
    let (app, sink) = spawn_with_mail(backend, &["--require-verified-email"]).await;
    let reply = app
        .post_json(
            "/api/register",
            json!({"name": "Cleo", "email": "cleo@example.com", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert!(
        reply.session_cookie(&app.cookie_name).is_none(),
        "no session before the address is proven"
    );
    app.login_as("cleo@example.com", PASSWORD, None)
        .await
        .assert_error(403, "email_unverified");
    // A wrong password says nothing about the address.
    app.login_as("cleo@example.com", "wrong password here", None)
        .await
        .assert_error(401, "invalid_credentials");

    let (_, token) = link_in(&nth_mail_to(&sink, "cleo@example.com", 1).await);
    assert_eq!(verify(&app, &token).await.status, 200);
    app.login("cleo@example.com", PASSWORD).await;

    // An administrator made on the command line can sign in: the operator vouches.
    let (admin, created) = app
        .state
        .users
        .create_or_promote_admin("root@example.com", "Root", PASSWORD)
        .await
        .unwrap();
    assert!(created && admin.email_verified);
    app.login("root@example.com", PASSWORD).await;
}

async fn asking_for_a_reset_link_answers_the_same_for_every_address(backend: Backend) {
    let (app, sink) = spawn_with_mail(backend, &[]).await;
    TestUser::store(&app, "Dora", "dora@example.com").await;
    let disabled = TestUser::store(&app, "Eve", "eve@example.com").await;
    let admin = TestUser::admin(&app, "admin@example.com").await;
    let reply = app
        .update_user(&disabled.id, json!({"disabled": true}), Some(&admin.token))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);

    let known = forgot(&app, "DORA@example.com").await;
    let unknown = forgot(&app, "nobody@example.com").await;
    let of_disabled = forgot(&app, "eve@example.com").await;
    for reply in [&known, &unknown, &of_disabled] {
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.body, known.body, "the same body whatever the address");
    }
    let mail = nth_mail_to(&sink, "dora@example.com", 2).await;
    assert!(mail.subject.contains("Reset your"), "{}", mail.subject);
    // Every request was handled (the outcome counters), and only Dora got a link.
    eventually(20, "the three requests are handled", || async {
        let metrics = app
            .http
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        ["sent", "no_account", "disabled"].iter().all(|outcome| {
            metrics.contains(&format!(
                "roster_password_reset_requests_total{{outcome=\"{outcome}\"}} 1"
            ))
        })
    })
    .await;
    assert_eq!(mails_to(&sink, "nobody@example.com"), 0);
    // Eve got her verification mail at registration, and nothing since.
    assert_eq!(mails_to(&sink, "eve@example.com"), 1);

    forgot(&app, "not an address")
        .await
        .assert_error(422, "validation_failed");
}

async fn a_reset_link_sets_a_new_password_once_and_ends_every_session(backend: Backend) {
    let (app, sink) = spawn_with_mail(backend, &[]).await;
    let mut fay = TestUser::store(&app, "Fay", "fay@example.com").await;
    let first_session = fay.token.clone();
    let second_session = fay.log_in(&app).await.to_owned();
    assert_eq!(forgot(&app, "fay@example.com").await.status, 200);
    let mail = nth_mail_to(&sink, "fay@example.com", 2).await;
    let (link, token) = link_in(&mail);
    assert!(
        link.starts_with("https://accounts.example.com/password/reset?token="),
        "{link}"
    );

    // A password the rules refuse costs nothing: the link still works after.
    reset(&app, &token, "short")
        .await
        .assert_error(422, "validation_failed");
    reset(&app, &token, "my roster passphrase")
        .await
        .assert_error(422, "validation_failed");
    reset(&app, &token, "qwertyuiop")
        .await
        .assert_error(422, "validation_failed");

    let reply = reset(&app, &token, "a brand new passphrase").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let new_session = reply
        .session_cookie(&app.cookie_name)
        .expect("signed in with a fresh session");
    assert_eq!(app.me(Some(&new_session)).await.status, 200);
    for old in [&first_session, &second_session] {
        app.me(Some(old)).await.assert_error(401, "unauthenticated");
    }
    // Following a link sent to the address proves it.
    assert_eq!(reply.body["data"]["user"]["email_verified"], true);
    app.login_as("fay@example.com", PASSWORD, None)
        .await
        .assert_error(401, "invalid_credentials");
    app.login("fay@example.com", "a brand new passphrase").await;

    reset(&app, &token, "another new passphrase")
        .await
        .assert_error(400, "invalid_token");
    let events = audit_of(&app, "fay@example.com").await;
    assert!(has(&events, "token_issued", "password_reset"), "{events:?}");
    assert!(has(&events, "token_used", "password_reset"), "{events:?}");
    assert!(has(&events, "password_changed", "reset link"), "{events:?}");
    assert!(
        has(&events, "token_refused", "password_reset: already used"),
        "{events:?}"
    );
    // Neither the token nor its hash is in the audit log.
    assert!(events.iter().all(|(_, d)| !d.contains(&token)), "{events:?}");
}

async fn a_reset_link_is_void_after_a_newer_one_a_password_change_or_disabling(backend: Backend) {
    let (app, sink) = spawn_with_mail(backend, &[]).await;
    let gus = TestUser::store(&app, "Gus", "gus@example.com").await;
    let admin = TestUser::admin(&app, "admin@example.com").await;

    // A newer link voids the older one.
    forgot(&app, "gus@example.com").await;
    let (_, older) = link_in(&nth_mail_to(&sink, "gus@example.com", 2).await);
    forgot(&app, "gus@example.com").await;
    let (_, newer) = link_in(&nth_mail_to(&sink, "gus@example.com", 3).await);
    reset(&app, &older, "a brand new passphrase")
        .await
        .assert_error(400, "invalid_token");

    // Changing the password voids the link.
    let reply = app
        .update_user(
            &gus.id,
            json!({"password": "changed the usual way", "current_password": PASSWORD}),
            Some(&gus.token),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reset(&app, &newer, "a brand new passphrase")
        .await
        .assert_error(400, "invalid_token");

    // Disabling the account voids the link too, and re-enabling does not revive it.
    forgot(&app, "gus@example.com").await;
    let (_, latest) = link_in(&nth_mail_to(&sink, "gus@example.com", 4).await);
    for disabled in [true, false] {
        let reply = app
            .update_user(&gus.id, json!({"disabled": disabled}), Some(&admin.token))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    reset(&app, &latest, "a brand new passphrase")
        .await
        .assert_error(400, "invalid_token");
    app.login("gus@example.com", "changed the usual way").await;
}

async fn an_expired_link_opens_nothing(backend: Backend) {
    let (app, sink) = spawn_with_mail(backend, &[]).await;
    TestUser::store(&app, "Hal", "hal@example.com").await;
    let (_, verify_token) = link_in(&nth_mail_to(&sink, "hal@example.com", 1).await);
    forgot(&app, "hal@example.com").await;
    let (_, reset_token) = link_in(&nth_mail_to(&sink, "hal@example.com", 2).await);
    // As time passing would: every link's end is a minute ago.
    email_tokens::Entity::update_many()
        .col_expr(
            email_tokens::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .exec(&app.db)
        .await
        .unwrap();
    verify(&app, &verify_token).await.assert_error(400, "invalid_token");
    reset(&app, &reset_token, "a brand new passphrase")
        .await
        .assert_error(400, "invalid_token");
    let events = audit_of(&app, "hal@example.com").await;
    assert!(has(&events, "token_refused", "verify_email: expired"), "{events:?}");
    assert!(has(&events, "token_refused", "password_reset: expired"), "{events:?}");
    app.login("hal@example.com", PASSWORD).await;
}

async fn links_that_open_nothing_are_throttled_per_ip(backend: Backend) {
    let (app, sink) = spawn_with_mail(backend, &["--login-max-failures-per-ip", "3"]).await;
    TestUser::store(&app, "Ivy", "ivy@example.com").await;
    let (_, token) = link_in(&nth_mail_to(&sink, "ivy@example.com", 1).await);
    for _ in 0..3 {
        let guess = format!("{:064x}", rand::random::<u128>());
        verify(&app, &guess).await.assert_error(400, "invalid_token");
    }
    // Locked out: even the right link waits, and so do reset links.
    let reply = verify(&app, &token).await;
    reply.assert_error(429, "rate_limited");
    assert!(reply.headers.get("retry-after").is_some());
    reset(&app, &token, "a brand new passphrase")
        .await
        .assert_error(429, "rate_limited");
}

async fn a_link_lands_in_a_cookie_and_the_plain_form_uses_it(backend: Backend) {
    let (app, sink) = spawn_with_mail(backend, &[]).await;
    TestUser::store(&app, "Jo", "jo@example.com").await;
    forgot(&app, "jo@example.com").await;
    let (link, token) = link_in(&nth_mail_to(&sink, "jo@example.com", 2).await);
    let path = link.trim_start_matches("https://accounts.example.com");

    // The link's secret leaves the address bar before any page renders.
    let landing = app.get(path, None).await;
    assert_eq!(landing.status, 303);
    assert_eq!(landing.headers["location"], "/password/reset");
    assert_eq!(landing.headers["referrer-policy"], "no-referrer");
    assert_eq!(landing.headers["cache-control"], "no-store");
    let cookie = landing
        .set_cookie("roster_link_password_reset")
        .expect("the secret goes into a cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Max-Age=3600"),
        "{cookie}"
    );
    let held = landing.session_cookie("roster_link_password_reset").unwrap();
    assert_eq!(held, token);
    let page = app.get("/password/reset", None).await;
    assert_eq!(page.status, 200);
    let html = page.body.as_str().unwrap();
    assert!(html.contains("Choose a new password"), "{html}");
    assert!(!html.contains(&token), "the page holds no secret");

    // The form, posted without JavaScript, with the cookie the landing set.
    let post = |password: &'static str, with_cookie: bool| {
        let mut req = app
            .http
            .post(app.url("/rpc/password/reset"))
            .header("accept", "text/html")
            .header("referer", app.url("/password/reset"))
            .form(&[("password", password)]);
        if with_cookie {
            req = req.header("cookie", format!("roster_link_password_reset={held}"));
        }
        app.send(req)
    };
    let refused = post("a brand new passphrase", false).await;
    assert_eq!(refused.status, 302);
    let back = refused.headers["location"].to_str().unwrap();
    assert!(back.contains("/password/reset") && back.contains("__err="), "{back}");
    let done = post("a brand new passphrase", true).await;
    assert_eq!(done.status, 302, "{}", done.body);
    assert_eq!(done.headers["location"], "/account");
    assert!(done.session_cookie(&app.cookie_name).is_some(), "signed in");
    let cleared = done.set_cookie("roster_link_password_reset").unwrap();
    assert!(cleared.contains("Max-Age=0"), "the used secret is forgotten: {cleared}");
    app.login("jo@example.com", "a brand new passphrase").await;

    // A verification link lands the same way, and its page confirms with a button.
    let (verify_link, _) = link_in(&nth_mail_to(&sink, "jo@example.com", 1).await);
    let landing = app
        .get(verify_link.trim_start_matches("https://accounts.example.com"), None)
        .await;
    assert_eq!(landing.status, 303);
    assert_eq!(landing.headers["location"], "/email/verify");
    assert!(landing.set_cookie("roster_link_verify_email").is_some());
    // A malformed secret is not kept.
    let junk = app.get("/email/verify?token=junk", None).await;
    assert_eq!(junk.status, 303);
    assert!(
        junk.set_cookie("roster_link_verify_email")
            .unwrap()
            .contains("Max-Age=0")
    );
}

async fn change_email(app: &TestApp, user: &TestUser, email: &str) -> Reply {
    app.update_user(
        &user.id,
        json!({"email": email, "current_password": PASSWORD}),
        Some(&user.token),
    )
    .await
}

async fn your_own_new_address_takes_effect_when_its_link_is_followed(backend: Backend) {
    let (app, sink) = spawn_with_mail(backend, &[]).await;
    let kim = TestUser::store(&app, "Kim", "kim@example.com").await;
    let (_, token) = link_in(&nth_mail_to(&sink, "kim@example.com", 1).await);
    assert_eq!(verify(&app, &token).await.status, 200);
    forgot(&app, "kim@example.com").await;
    let (_, reset_token) = link_in(&nth_mail_to(&sink, "kim@example.com", 2).await);

    // Asked for: nothing changes yet, and the new address gets a link.
    let reply = change_email(&app, &kim, "kim@new.example.com").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["user"]["email"], "kim@example.com");
    assert_eq!(reply.body["data"]["user"]["email_verified"], true);
    let mail = nth_mail_to(&sink, "kim@new.example.com", 1).await;
    let (link, change_token) = link_in(&mail);
    assert!(
        link.starts_with("https://accounts.example.com/email/change?token="),
        "{link}"
    );
    app.login("kim@example.com", PASSWORD).await;

    let confirm = |token: String| {
        let app = &app;
        async move {
            app.post_json("/api/email/change/confirm", json!({ "token": token }), None)
                .await
        }
    };
    let reply = confirm(change_token.clone()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["user"]["email"], "kim@new.example.com");
    assert_eq!(reply.body["data"]["user"]["email_verified"], true, "the link proved it");
    assert_eq!(
        app.me(Some(&kim.token)).await.body["data"]["user"]["email"],
        "kim@new.example.com"
    );
    confirm(change_token).await.assert_error(400, "invalid_token");
    // A reset link sent to the old address no longer opens the account.
    reset(&app, &reset_token, "a brand new passphrase")
        .await
        .assert_error(400, "invalid_token");
    app.login("kim@new.example.com", PASSWORD).await;

    // The old address is told, with a way back.
    let notice = nth_mail_to(&sink, "kim@example.com", 3).await;
    assert!(notice.subject.contains("address was changed"), "{}", notice.subject);
    let (revert_link, _) = link_in(&notice);
    assert!(
        revert_link.starts_with("https://accounts.example.com/email/revert?token="),
        "{revert_link}"
    );
    let asked = audit_of(&app, "kim@example.com").await;
    assert!(
        has(&asked, "token_issued", "email_change: to kim@new.example.com"),
        "{asked:?}"
    );
    let events = audit_of(&app, "kim@new.example.com").await;
    assert!(
        has(&events, "profile_updated", "email was kim@example.com"),
        "{events:?}"
    );
    assert!(has(&events, "token_issued", "email_revert"), "{events:?}");

    // A request for an address another account took in the meantime is refused at the link.
    let reply = change_email(&app, &kim, "taken@example.com").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let (_, late) = link_in(&nth_mail_to(&sink, "taken@example.com", 1).await);
    TestUser::store(&app, "Tom", "taken@example.com").await;
    confirm(late).await.assert_error(409, "email_taken");
}

async fn the_old_address_can_undo_a_change_and_end_every_session(backend: Backend) {
    let (app, sink) = spawn_with_mail(backend, &[]).await;
    let mut lou = TestUser::store(&app, "Lou", "lou@example.com").await;
    // Someone with Lou's session and password moves the account to their inbox.
    let thief_session = lou.token.clone();
    let owner_session = lou.log_in(&app).await.to_owned();
    assert_eq!(change_email(&app, &lou, "thief@example.com").await.status, 200);
    let (_, token) = link_in(&nth_mail_to(&sink, "thief@example.com", 1).await);
    let reply = app
        .post_json("/api/email/change/confirm", json!({ "token": token }), None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);

    // Lou follows the notice's link from the old inbox.
    let (_, revert) = link_in(&nth_mail_to(&sink, "lou@example.com", 2).await);
    let undo = |token: String| {
        let app = &app;
        async move {
            app.post_json("/api/email/change/revert", json!({ "token": token }), None)
                .await
        }
    };
    let reply = undo(revert.clone()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["user"]["email"], "lou@example.com");
    assert_eq!(reply.body["data"]["user"]["email_verified"], true);
    for session in [&thief_session, &owner_session] {
        app.me(Some(session)).await.assert_error(401, "unauthenticated");
    }
    undo(revert).await.assert_error(400, "invalid_token");
    app.login_as("thief@example.com", PASSWORD, None)
        .await
        .assert_error(401, "invalid_credentials");
    let events = audit_of(&app, "lou@example.com").await;
    assert!(
        has(&events, "profile_updated", "put back from the old address"),
        "{events:?}"
    );
    assert!(
        has(&events, "sessions_revoked", "undoing a change of address"),
        "{events:?}"
    );

    // The undo link lasts a week, not for ever.
    assert_eq!(change_email(&app, &lou, "again@example.com").await.status, 401);
    lou.log_in(&app).await;
    assert_eq!(change_email(&app, &lou, "again@example.com").await.status, 200);
    let (_, token) = link_in(&nth_mail_to(&sink, "again@example.com", 1).await);
    app.post_json("/api/email/change/confirm", json!({ "token": token }), None)
        .await;
    let (_, revert) = link_in(&nth_mail_to(&sink, "lou@example.com", 3).await);
    email_tokens::Entity::update_many()
        .col_expr(
            email_tokens::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .filter(email_tokens::Column::Purpose.eq("email_revert"))
        .exec(&app.db)
        .await
        .unwrap();
    undo(revert).await.assert_error(400, "invalid_token");
}

async fn an_address_an_administrator_sets_is_unproven_until_its_link_is_followed(backend: Backend) {
    let (app, sink) = spawn_with_mail(backend, &[]).await;
    let kim = TestUser::store(&app, "Kim", "kim@example.com").await;
    let admin = TestUser::admin(&app, "admin@example.com").await;
    let (_, first) = link_in(&nth_mail_to(&sink, "kim@example.com", 1).await);
    assert_eq!(verify(&app, &first).await.status, 200);

    // An administrator's change takes effect at once, unproven, with a link to the new address.
    let reply = app
        .update_user(&kim.id, json!({"email": "kim@new.example.com"}), Some(&admin.token))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["user"]["email"], "kim@new.example.com");
    assert_eq!(reply.body["data"]["user"]["email_verified"], false);
    let (_, second) = link_in(&nth_mail_to(&sink, "kim@new.example.com", 1).await);

    // A link for an address the account no longer has proves nothing.
    let reply = app
        .update_user(&kim.id, json!({"email": "kim@third.example.com"}), Some(&admin.token))
        .await;
    assert_eq!(reply.status, 200);
    let (_, third) = link_in(&nth_mail_to(&sink, "kim@third.example.com", 1).await);
    verify(&app, &second).await.assert_error(400, "invalid_token");
    let reply = verify(&app, &third).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["user"]["email_verified"], true);
}

async fn administrators_see_and_set_whether_an_address_is_proven(backend: Backend) {
    let (app, _sink) = spawn_with_mail(backend, &[]).await;
    let lea = TestUser::store(&app, "Lea", "lea@example.com").await;
    let admin = TestUser::admin(&app, "admin@example.com").await;
    let listed = app.list_users("q=lea", Some(&admin.token)).await;
    assert_eq!(listed.body["data"]["items"][0]["email_verified"], false);

    // Only an administrator may say so; a user cannot vouch for their own address.
    app.update_user(&lea.id, json!({"email_verified": true}), Some(&lea.token))
        .await
        .assert_error(403, "forbidden");
    let reply = app
        .update_user(&lea.id, json!({"email_verified": true}), Some(&admin.token))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["user"]["email_verified"], true);
    assert_eq!(
        app.me(Some(&lea.token)).await.body["data"]["user"]["email_verified"],
        true
    );
    let reply = app
        .update_user(&lea.id, json!({"email_verified": false}), Some(&admin.token))
        .await;
    assert_eq!(reply.body["data"]["user"]["email_verified"], false);
    app.update_user(&lea.id, json!({"email_verified": "yes"}), Some(&admin.token))
        .await
        .assert_error(422, "validation_failed");

    let events = audit_of(&app, "lea@example.com").await;
    assert!(has(&events, "email_verified", "by an administrator"), "{events:?}");
    assert!(has(&events, "email_unverified", "by an administrator"), "{events:?}");
}

async fn a_registration_while_smtp_is_down_is_mailed_once_it_is_back(backend: Backend) {
    let mut sink = SmtpSink::stopped();
    let url = sink.url();
    let app = spawn_app_with(
        backend,
        &["--smtp-url", &url, "--public-url", "https://accounts.example.com"],
    )
    .await;
    let mia = TestUser::store(&app, "Mia", "mia@example.com").await;
    assert_eq!(app.me(Some(&mia.token)).await.status, 200, "registered and signed in");
    // The worker tries, fails, and keeps the mail for later.
    eventually(20, "a first delivery attempt fails", || async {
        verification_mails(&app)
            .await
            .iter()
            .any(|m| m.attempts >= 1 && m.last_error.is_some() && m.locked_until.is_none())
    })
    .await;
    sink.resume();
    // Due now rather than after the backoff.
    app.execute_sql("UPDATE mail_outbox SET next_attempt_at = created_at")
        .await;
    let (_, token) = link_in(&nth_mail_to(&sink, "mia@example.com", 1).await);
    assert_eq!(verify(&app, &token).await.status, 200);
    // Exactly once, however long the worker keeps running.
    eventually(10, "the mail is marked sent", || async {
        verification_mails(&app).await[0].state == app::ssr::mail::outbox::SENT
    })
    .await;
    app.state.mail.worker.send_due().await.unwrap();
    assert_eq!(mails_to(&sink, "mia@example.com"), 1);
}

async fn a_link_opens_once_however_many_use_it_at_once(backend: Backend) {
    let (app, sink) = spawn_with_mail(backend, &[]).await;
    TestUser::store(&app, "Ned", "ned@example.com").await;
    let (_, verify_token) = link_in(&nth_mail_to(&sink, "ned@example.com", 1).await);
    forgot(&app, "ned@example.com").await;
    let (_, reset_token) = link_in(&nth_mail_to(&sink, "ned@example.com", 2).await);

    let statuses = |replies: Vec<Reply>| {
        let mut statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
        statuses.sort();
        statuses
    };
    let verifies = futures_util::future::join_all((0..6).map(|_| verify(&app, &verify_token))).await;
    assert_eq!(statuses(verifies), [200, 400, 400, 400, 400, 400]);
    let passwords = [
        "first new passphrase",
        "second new passphrase",
        "third new passphrase",
        "fourth new passphrase",
    ];
    let resets = futures_util::future::join_all(passwords.iter().map(|p| reset(&app, &reset_token, p))).await;
    let winner = resets.iter().position(|r| r.status == 200).expect("one reset wins");
    assert_eq!(statuses(resets), [200, 400, 400, 400]);
    app.login("ned@example.com", passwords[winner]).await;
}

async fn verification_mails(app: &TestApp) -> Vec<app::ssr::entity::mail_outbox::Model> {
    app::ssr::entity::mail_outbox::Entity::find()
        .filter(app::ssr::entity::mail_outbox::Column::Kind.eq("verify_email"))
        .all(&app.db)
        .await
        .unwrap()
}
