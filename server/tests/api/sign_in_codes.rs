//! Signing in with a code mailed to the address, end to end: a real SMTP server
//! (aiosmtpd) receives the code, the test reads it and signs in with it. One use,
//! five tries, ten minutes, the newest code only, the same answer for every address,
//! stored as an argon2 hash; and the page's two steps without JavaScript.

use crate::email_links::{audit_of, has, mails_to, nth_mail_to, spawn_with_mail};
use crate::helpers::{Backend, Delivered, Reply, TestApp, TestUser, eventually};
use crate::on_both_backends;
use app::ssr::entity::email_tokens;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

on_both_backends!(
    a_mailed_code_signs_in_once_and_proves_the_address,
    asking_for_a_code_answers_the_same_for_every_address,
    a_code_ends_after_five_wrong_tries_its_ten_minutes_or_a_newer_code,
    racing_guesses_get_five_tries_and_racing_right_codes_one_session,
    the_plain_forms_keep_the_address_in_a_cookie_between_the_two_steps,
);

/// The 8 digits in a code mail (the line "Your code: 1234 5678").
fn code_in(mail: &Delivered) -> String {
    let line = mail
        .text
        .lines()
        .find(|line| line.starts_with("Your code: "))
        .unwrap_or_else(|| panic!("a code in {}", mail.text));
    let code: String = line.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(code.len(), 8, "{line}");
    assert!(
        mail.html.contains(&line["Your code: ".len()..]),
        "the HTML part has the code too"
    );
    code
}

async fn ask(app: &TestApp, email: &str) -> Reply {
    app.post_json("/api/login/code", json!({ "email": email }), None).await
}

async fn use_code(app: &TestApp, email: &str, code: &str) -> Reply {
    app.post_json("/api/login/code/verify", json!({ "email": email, "code": code }), None)
        .await
}

/// A code that is not `code` (differs in its last digit).
fn wrong(code: &str) -> String {
    let last = code.as_bytes()[7] - b'0';
    format!("{}{}", &code[..7], (last + 1) % 10)
}

async fn code_rows(app: &TestApp) -> Vec<email_tokens::Model> {
    email_tokens::Entity::find()
        .filter(email_tokens::Column::Purpose.eq("sign_in_code"))
        .all(&app.db)
        .await
        .unwrap()
}

async fn a_mailed_code_signs_in_once_and_proves_the_address(backend: Backend) {
    let (app, sink) = spawn_with_mail(backend, &[]).await;
    let ada = TestUser::store(&app, "Ada", "ada@example.com").await;
    let asked = ask(&app, "ada@example.com").await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    let mail = nth_mail_to(&sink, "ada@example.com", 2).await;
    assert!(mail.subject.contains("sign-in code"), "{}", mail.subject);
    let code = code_in(&mail);
    assert!(
        !mail.subject.contains(&code[..4]),
        "the outbox keeps subjects: {}",
        mail.subject
    );

    // Only the argon2 hash is stored, and the sent mail keeps no copy of the code.
    eventually(10, "the code mail is marked sent", || async {
        app::ssr::entity::mail_outbox::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .iter()
            .all(|row| row.state == app::ssr::mail::outbox::SENT)
    })
    .await;
    let outbox = app::ssr::entity::mail_outbox::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    let grouped = format!("{} {}", &code[..4], &code[4..]);
    assert!(outbox.iter().all(|row| !format!("{row:?}").contains(&grouped)));
    let rows = code_rows(&app).await;
    assert_eq!(rows.len(), 1);
    assert!(rows[0].token_hash.starts_with("$argon2id$"), "{}", rows[0].token_hash);
    assert!(!rows[0].token_hash.contains(&code));

    use_code(&app, "ada@example.com", &wrong(&code))
        .await
        .assert_error(401, "invalid_code");
    // Typed with its grouping, in another case of the address: still the code.
    // From a browser still signed in (Ada's first session): that session ends, as at
    // any sign-in.
    let signed_in = app
        .post_json(
            "/api/login/code/verify",
            json!({ "email": "ADA@example.com", "code": grouped }),
            Some(&ada.token),
        )
        .await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    assert_eq!(signed_in.body["data"]["user"]["email"], "ada@example.com");
    assert_eq!(
        signed_in.body["data"]["user"]["email_verified"], true,
        "the code proves the address"
    );
    let token = signed_in.session_cookie(&app.cookie_name).expect("a session cookie");
    assert_ne!(token, ada.token);
    assert_eq!(app.me(Some(&token)).await.status, 200);
    app.me(Some(&ada.token)).await.assert_error(401, "unauthenticated");
    // Once.
    use_code(&app, "ada@example.com", &code)
        .await
        .assert_error(401, "invalid_code");

    let events = audit_of(&app, "ada@example.com").await;
    assert!(has(&events, "token_issued", "sign_in_code"), "{events:?}");
    assert!(has(&events, "token_refused", "sign_in_code: wrong code"), "{events:?}");
    assert!(has(&events, "token_used", "sign_in_code"), "{events:?}");
    assert!(has(&events, "sign_in", "with an emailed code"), "{events:?}");
    assert!(has(&events, "email_verified", ""), "{events:?}");
    assert!(
        has(&events, "token_refused", "sign_in_code: already used"),
        "{events:?}"
    );
    // Never in a log line's worth of detail.
    assert!(events.iter().all(|(_, detail)| !detail.contains(&code)), "{events:?}");
}

async fn asking_for_a_code_answers_the_same_for_every_address(backend: Backend) {
    let (app, sink) = spawn_with_mail(backend, &[]).await;
    TestUser::store(&app, "Dora", "dora@example.com").await;
    let eve = TestUser::store(&app, "Eve", "eve@example.com").await;
    let admin = TestUser::admin(&app, "admin@example.com").await;
    let reply = app
        .update_user(&eve.id, json!({"disabled": true}), Some(&admin.token))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);

    let known = ask(&app, "dora@example.com").await;
    let unknown = ask(&app, "nobody@example.com").await;
    let of_disabled = ask(&app, "eve@example.com").await;
    for reply in [&known, &unknown, &of_disabled] {
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.body, known.body, "the same body whatever the address");
    }
    nth_mail_to(&sink, "dora@example.com", 2).await;
    eventually(20, "the three requests are handled", || async {
        let metrics = app.get("/metrics", None).await;
        let metrics = metrics.body.as_str().unwrap_or_default().to_owned();
        ["sent", "no_account", "disabled"].iter().all(|outcome| {
            metrics.contains(&format!(
                "roster_sign_in_code_requests_total{{outcome=\"{outcome}\"}} 1"
            ))
        })
    })
    .await;
    assert_eq!(mails_to(&sink, "nobody@example.com"), 0);
    assert_eq!(
        mails_to(&sink, "eve@example.com"),
        1,
        "only the verification mail of registration"
    );
    // Signing in with a code for an address without an account: the same answer as a wrong code.
    use_code(&app, "nobody@example.com", "12345678")
        .await
        .assert_error(401, "invalid_code");

    ask(&app, "not an address").await.assert_error(422, "validation_failed");
    let malformed = use_code(&app, "not an address", "12").await;
    malformed.assert_error(422, "validation_failed");
    assert!(malformed.body["error"]["fields"]["email"].is_string());
    assert!(malformed.body["error"]["fields"]["code"].is_string());

    // Mail a visitor can cause is limited per address (5 in the window): after five
    // requests for Dora, the sixth is refused.
    for _ in 0..4 {
        assert_eq!(ask(&app, "dora@example.com").await.status, 200);
    }
    ask(&app, "dora@example.com").await.assert_error(429, "rate_limited");
}

async fn a_code_ends_after_five_wrong_tries_its_ten_minutes_or_a_newer_code(backend: Backend) {
    // Failed sign-ins lock an account after 5 by default; raised here so that the
    // code's own limit is what is seen.
    let (app, sink) = spawn_with_mail(backend, &["--login-max-failures", "100"]).await;
    TestUser::store(&app, "Bo", "bo@example.com").await;

    ask(&app, "bo@example.com").await;
    let code = code_in(&nth_mail_to(&sink, "bo@example.com", 2).await);
    for _ in 0..5 {
        use_code(&app, "bo@example.com", &wrong(&code))
            .await
            .assert_error(401, "invalid_code");
    }
    use_code(&app, "bo@example.com", &code)
        .await
        .assert_error(401, "invalid_code");

    // A newer code voids the older one.
    ask(&app, "bo@example.com").await;
    let older = code_in(&nth_mail_to(&sink, "bo@example.com", 3).await);
    ask(&app, "bo@example.com").await;
    let newer = code_in(&nth_mail_to(&sink, "bo@example.com", 4).await);
    if older != newer {
        use_code(&app, "bo@example.com", &older)
            .await
            .assert_error(401, "invalid_code");
    }
    // Ten minutes: moved into the past, the newest code opens nothing.
    app.execute_sql(
        "UPDATE email_tokens SET expires_at = created_at WHERE purpose = 'sign_in_code' AND used_at IS NULL",
    )
    .await;
    use_code(&app, "bo@example.com", &newer)
        .await
        .assert_error(401, "invalid_code");

    // Failed codes count against the account like failed passwords.
    let (app, sink) = spawn_with_mail(backend, &[]).await;
    TestUser::store(&app, "Cy", "cy@example.com").await;
    ask(&app, "cy@example.com").await;
    let code = code_in(&nth_mail_to(&sink, "cy@example.com", 2).await);
    for _ in 0..5 {
        use_code(&app, "cy@example.com", &wrong(&code)).await;
    }
    use_code(&app, "cy@example.com", &code)
        .await
        .assert_error(429, "rate_limited");
}

async fn racing_guesses_get_five_tries_and_racing_right_codes_one_session(backend: Backend) {
    let (app, sink) = spawn_with_mail(backend, &["--login-max-failures", "100"]).await;
    TestUser::store(&app, "Di", "di@example.com").await;
    ask(&app, "di@example.com").await;
    let code = code_in(&nth_mail_to(&sink, "di@example.com", 2).await);
    let bad = wrong(&code);
    let guesses = (0..10).map(|_| use_code(&app, "di@example.com", &bad));
    for reply in futures_util::future::join_all(guesses).await {
        reply.assert_error(401, "invalid_code");
    }
    // A try is counted before the hash is compared: ten at once still use only five.
    let rows = code_rows(&app).await;
    assert_eq!(rows[0].attempts, 5);

    ask(&app, "di@example.com").await;
    let code = code_in(&nth_mail_to(&sink, "di@example.com", 3).await);
    let at_once = (0..4).map(|_| use_code(&app, "di@example.com", &code));
    let replies = futures_util::future::join_all(at_once).await;
    let won = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(won, 1, "{:?}", replies.iter().map(|r| &r.body).collect::<Vec<_>>());
    for reply in replies.iter().filter(|r| r.status != 200) {
        reply.assert_error(401, "invalid_code");
    }
}

async fn the_plain_forms_keep_the_address_in_a_cookie_between_the_two_steps(backend: Backend) {
    let (app, sink) = spawn_with_mail(backend, &[]).await;
    TestUser::store(&app, "Flo", "flo@example.com").await;
    let asked = app
        .post_form("/rpc/login/code", "/login/code", &[("email", "flo@example.com")], None)
        .await;
    assert_eq!(asked.status, 302, "{}", asked.body);
    assert_eq!(asked.headers["location"], "/login/code?sent=1");
    let kept = asked.set_cookie("roster_code_email").expect("the address is kept");
    assert!(kept.contains("HttpOnly") && kept.contains("Max-Age=600"), "{kept}");
    let held = asked.session_cookie("roster_code_email").unwrap();
    assert!(
        !held.contains("flo@"),
        "kept encoded, never as a readable value: {held}"
    );
    let page = app.get("/login/code?sent=1", None).await;
    assert!(page.body.as_str().unwrap().contains("Code from the mail"));

    let code = code_in(&nth_mail_to(&sink, "flo@example.com", 2).await);
    let post = |with_cookie: bool| {
        let mut req = app
            .http
            .post(app.url("/rpc/login/code/verify"))
            .header("accept", "text/html")
            .header("referer", app.url("/login/code?sent=1"))
            .form(&[("code", code.as_str())]);
        if with_cookie {
            req = req.header("cookie", format!("roster_code_email={held}"));
        }
        app.send(req)
    };
    // In another browser (no kept address) the code opens nothing.
    let refused = post(false).await;
    assert_eq!(refused.status, 302);
    let back = refused.headers["location"].to_str().unwrap();
    assert!(back.contains("/login/code") && back.contains("__err="), "{back}");
    let done = post(true).await;
    assert_eq!(done.status, 302, "{}", done.body);
    assert_eq!(done.headers["location"], "/account");
    let token = done.session_cookie(&app.cookie_name).expect("signed in");
    assert_eq!(app.me(Some(&token)).await.status, 200);
    assert!(done.set_cookie("roster_code_email").unwrap().contains("Max-Age=0"));
    assert!(done.set_cookie("roster_device").is_some(), "the browser is noted");
}
