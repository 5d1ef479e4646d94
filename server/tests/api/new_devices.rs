//! The new-browser notice: a sign-in from a browser the account has not used before
//! (no device cookie it knows) mails its owner the time, the IP and the browser, and
//! a link to the sessions list; a known browser, the account's first one, a client
//! with the same IP and user agent within the hour, and sign-in by registering or by
//! a reset link send nothing.

use crate::email_links::{PASSWORD, audit_of, has, mails_to, nth_mail_to, spawn_with_mail};
use crate::helpers::{Backend, Reply, TestApp, TestUser, eventually};
use crate::on_both_backends;
use app::ssr::entity::known_devices;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

on_both_backends!(
    a_sign_in_from_a_new_browser_mails_its_owner_a_notice,
    known_browsers_first_browsers_and_cookieless_repeats_are_not_notified,
    every_way_of_signing_in_notes_the_browser,
);

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0";
const CHROME_ON_ANDROID: &str =
    "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36";

/// `POST /api/login` from a browser with this user agent and (if any) device cookie.
async fn sign_in_from(app: &TestApp, email: &str, agent: Option<&str>, device: Option<&str>) -> Reply {
    let mut req = app
        .http
        .post(app.url("/api/login"))
        .json(&json!({ "email": email, "password": PASSWORD }));
    if let Some(agent) = agent {
        req = req.header("user-agent", agent);
    }
    if let Some(device) = device {
        req = req.header("cookie", format!("roster_device={device}"));
    }
    let reply = app.send(req).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply
}

fn device_of(reply: &Reply) -> String {
    reply.session_cookie("roster_device").expect("a device cookie")
}

/// Waits until the mail outbox holds nothing unsent, so that a count of delivered
/// messages is final.
async fn outbox_settled(app: &TestApp) {
    eventually(30, "every queued mail is sent", || async {
        app::ssr::mail::outbox::count_by_state(&app.db)
            .await
            .unwrap()
            .iter()
            .all(|(state, n)| state != app::ssr::mail::outbox::QUEUED || *n == 0)
    })
    .await;
}

async fn a_sign_in_from_a_new_browser_mails_its_owner_a_notice(backend: Backend) {
    let (app, sink) = spawn_with_mail(backend, &[]).await;
    let registered = app
        .send(
            app.http
                .post(app.url("/api/register"))
                .header("user-agent", FIREFOX)
                .json(&json!({"name": "Ada", "email": "ada@example.com", "password": PASSWORD})),
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    let cookie = registered
        .set_cookie("roster_device")
        .expect("registering notes the browser");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Max-Age=34560000"),
        "{cookie}"
    );

    // Another browser, no device cookie: a notice.
    let elsewhere = sign_in_from(&app, "ada@example.com", Some(CHROME_ON_ANDROID), None).await;
    let notice = nth_mail_to(&sink, "ada@example.com", 2).await;
    assert!(notice.subject.contains("New sign-in"), "{}", notice.subject);
    for line in ["IP address: 127.0.0.1", "Browser: Chrome on Android", "When: ", " UTC"] {
        assert!(notice.text.contains(line), "{line} in {}", notice.text);
    }
    assert!(
        notice.text.contains("https://accounts.example.com/account#sessions"),
        "{}",
        notice.text
    );
    assert!(notice.html.contains("https://accounts.example.com/account#sessions"));
    let events = audit_of(&app, "ada@example.com").await;
    assert!(has(&events, "new_device", "notice mailed"), "{events:?}");

    // That browser, back with the cookie it was given: known now, nothing mailed, and
    // seen again (the sweep forgets only browsers unseen for 400 days).
    let back = sign_in_from(
        &app,
        "ada@example.com",
        Some(CHROME_ON_ANDROID),
        Some(&device_of(&elsewhere)),
    )
    .await;
    assert_eq!(
        device_of(&back),
        device_of(&elsewhere),
        "the same cookie, its lifetime renewed"
    );
    outbox_settled(&app).await;
    assert_eq!(mails_to(&sink, "ada@example.com"), 2);
    let ada: uuid::Uuid = registered.body["data"]["user"]["id"].as_str().unwrap().parse().unwrap();
    let devices = known_devices::Entity::find()
        .filter(known_devices::Column::UserId.eq(ada))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(devices.len(), 2, "the registering browser and the other one");
    assert_eq!(devices.iter().filter(|d| d.last_seen_at > d.created_at).count(), 1);
    assert!(
        devices
            .iter()
            .all(|d| d.device_hash.len() == 64 && !d.device_hash.contains(&device_of(&back)))
    );
}

async fn known_browsers_first_browsers_and_cookieless_repeats_are_not_notified(backend: Backend) {
    let (app, sink) = spawn_with_mail(backend, &[]).await;
    // Made by an administrator: no browser yet, so the first sign-in compares with nothing.
    let admin = TestUser::admin(&app, "admin@example.com").await;
    let made = app
        .create_user(
            json!({"name": "Bo", "email": "bo@example.com", "password": PASSWORD}),
            Some(&admin.token),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let first = sign_in_from(&app, "bo@example.com", Some(FIREFOX), None).await;
    let events = audit_of(&app, "bo@example.com").await;
    assert!(has(&events, "new_device", "the account's first browser"), "{events:?}");

    // A client that keeps no cookies (a script), signing in again and again from one
    // IP with one user agent: noted each time, notified never.
    for _ in 0..3 {
        sign_in_from(&app, "bo@example.com", Some(FIREFOX), None).await;
    }
    let events = audit_of(&app, "bo@example.com").await;
    assert!(
        has(&events, "new_device", "IP and user agent was noted within the hour"),
        "{events:?}"
    );
    // The known browser, with its cookie.
    sign_in_from(&app, "bo@example.com", Some(FIREFOX), Some(&device_of(&first))).await;
    outbox_settled(&app).await;
    assert_eq!(
        mails_to(&sink, "bo@example.com"),
        1,
        "only the verification mail of the new account"
    );

    // A device cookie of another account's browser means nothing for this one.
    let mut carol = TestUser::store(&app, "Carol", "carol@example.com").await;
    carol.log_in(&app).await;
    sign_in_from(
        &app,
        "carol@example.com",
        Some(CHROME_ON_ANDROID),
        Some(&device_of(&first)),
    )
    .await;
    let notice = nth_mail_to(&sink, "carol@example.com", 2).await;
    assert!(notice.subject.contains("New sign-in"), "{}", notice.subject);
}

async fn every_way_of_signing_in_notes_the_browser(backend: Backend) {
    let (app, sink) = spawn_with_mail(backend, &[]).await;
    TestUser::store(&app, "Dora", "dora@example.com").await;

    // The plain sign-in form (no JavaScript) sets the device cookie beside the session's.
    let form = app
        .send(
            app.http
                .post(app.url("/rpc/login"))
                .header("accept", "text/html")
                .header("referer", app.url("/login"))
                .header("user-agent", FIREFOX)
                .form(&[("email", "dora@example.com"), ("password", PASSWORD)]),
        )
        .await;
    assert_eq!(form.status, 302, "{}", form.body);
    assert!(form.session_cookie(&app.cookie_name).is_some());
    let device = device_of(&form);
    let notice = nth_mail_to(&sink, "dora@example.com", 2).await;
    assert!(notice.text.contains("Browser: Firefox on Linux"), "{}", notice.text);

    // A reset link signs in and notes the browser, without a notice: the mailbox
    // itself just proved it is the owner's.
    app.post_json("/api/password/forgot", json!({"email": "dora@example.com"}), None)
        .await;
    let reset_mail = nth_mail_to(&sink, "dora@example.com", 3).await;
    let token = reset_mail
        .text
        .lines()
        .find_map(|line| line.trim().split_once("?token=").map(|(_, t)| t.to_owned()))
        .expect("a link");
    let reset = app
        .send(
            app.http
                .post(app.url("/api/password/reset"))
                .header("user-agent", CHROME_ON_ANDROID)
                .json(&json!({"token": token, "password": "a brand new passphrase"})),
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    assert_ne!(device_of(&reset), device);
    outbox_settled(&app).await;
    assert_eq!(mails_to(&sink, "dora@example.com"), 3);
    let events = audit_of(&app, "dora@example.com").await;
    assert!(
        has(
            &events,
            "new_device",
            "no notice: signed in by registering or with a reset link"
        ),
        "{events:?}"
    );
}
