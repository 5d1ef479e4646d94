//! Passkeys end to end over HTTP, with a software authenticator (webauthn-authenticator-rs'
//! SoftPasskey) in the place of the browser and the device: registering, listing,
//! renaming and removing; a passkey as sign-in's second step and as a proof before
//! sensitive changes; every answer used once. Usernameless sign-in needs a
//! discoverable credential, which SoftPasskey cannot make: Chromium's virtual
//! authenticator does it in `end2end/tests/security.spec.ts`; here, its refusals.

use crate::helpers::{Backend, Reply, TestApp, TestUser, spawn_app};
use crate::on_both_backends;
use serde_json::{Value, json};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url};

on_both_backends!(
    a_passkey_is_registered_listed_renamed_and_removed,
    a_passkey_is_a_second_factor_and_a_proof,
    every_passkey_answer_is_used_once,
    usernameless_sign_in_refuses_what_does_not_check_out,
    refused_passkey_answers_are_limited_per_address,
);

const PENDING: &str = "roster_pending_sign_in";

/// The origin test servers run under (`ROSTER_PUBLIC_URL`'s default).
fn origin() -> Url {
    Url::parse("http://localhost:3000").unwrap()
}

/// Registers a passkey for `user` as a browser would; returns the authenticator and the reply.
async fn register(app: &TestApp, user: &TestUser, name: &str) -> (SoftPasskey, Reply) {
    let mut device = SoftPasskey::new(true);
    let reply = register_with(app, user, name, &mut device).await;
    (device, reply)
}

async fn register_with(app: &TestApp, user: &TestUser, name: &str, device: &mut SoftPasskey) -> Reply {
    let started = app
        .post_json("/api/me/passkeys/register/start", json!({}), Some(&user.token))
        .await;
    assert_eq!(started.status, 200, "{}", started.body);
    let mut options = started.body["data"]["options"].clone();
    // SoftPasskey keeps no discoverable credentials; browsers' passkeys do.
    options["authenticatorSelection"]["requireResidentKey"] = false.into();
    let ccr: CreationChallengeResponse = serde_json::from_value(json!({ "publicKey": options })).unwrap();
    let credential = device.do_registration(origin(), ccr).expect("the device registers");
    app.post_json(
        "/api/me/passkeys/register/finish",
        json!({
            "challenge_id": started.body["data"]["challenge_id"],
            "credential": serde_json::to_value(&credential).unwrap(),
            "name": name,
        }),
        Some(&user.token),
    )
    .await
}

/// The device's answer to a challenge (`data` of a `…/start`).
fn answer(device: &mut SoftPasskey, challenge: &Value) -> Value {
    let rcr: RequestChallengeResponse = serde_json::from_value(json!({ "publicKey": challenge["options"] })).unwrap();
    let credential = device.do_authentication(origin(), rcr).expect("the device answers");
    serde_json::to_value(&credential).unwrap()
}

async fn with_pending(app: &TestApp, path: &str, pending: &str, body: Value) -> Reply {
    let req = app
        .http
        .post(app.url(path))
        .header("cookie", format!("{PENDING}={pending}"))
        .json(&body);
    app.send(req).await
}

async fn a_passkey_is_registered_listed_renamed_and_removed(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = TestUser::generate(&app).await;
    let started = app
        .post_json("/api/me/passkeys/register/start", json!({}), Some(&ada.token))
        .await;
    let options = &started.body["data"]["options"];
    assert_eq!(options["rp"]["id"], "localhost", "{options}");
    assert_eq!(
        options["authenticatorSelection"]["residentKey"], "required",
        "{options}"
    );
    assert_eq!(
        options["authenticatorSelection"]["userVerification"], "required",
        "{options}"
    );
    assert_eq!(options["user"]["name"], ada.email.as_str());

    let (_laptop, added) = register(&app, &ada, "Laptop").await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(added.body["data"]["passkey"]["name"], "Laptop");
    let codes = added.body["data"]["recovery_codes"]
        .as_array()
        .expect("the first factor brings codes");
    assert_eq!(codes.len(), 10);
    let status = app.get("/api/me/second-factors", Some(&ada.token)).await.body["data"].clone();
    assert_eq!(
        status,
        json!({"totp": false, "recovery_codes_left": 10, "passkeys": 1, "methods": ["passkey", "recovery_code"]})
    );
    // A device that holds one of the account's passkeys is told not to make another.
    let next = app
        .post_json("/api/me/passkeys/register/start", json!({}), Some(&ada.token))
        .await;
    let excluded = next.body["data"]["options"]["excludeCredentials"].as_array().unwrap();
    assert_eq!(excluded.len(), 1, "{}", next.body);
    let (_, phone) = register(&app, &ada, "Phone").await;
    assert_eq!(phone.status, 200, "{}", phone.body);
    assert!(
        phone.body["data"]["recovery_codes"].is_null(),
        "codes only with the first factor"
    );

    let list = app.get("/api/me/passkeys", Some(&ada.token)).await;
    let names: Vec<&str> = list.body["data"]["passkeys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Laptop", "Phone"]);
    let laptop_id = list.body["data"]["passkeys"][0]["id"].as_str().unwrap().to_owned();
    let phone_id = list.body["data"]["passkeys"][1]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/me/passkeys/{laptop_id}");
    let renamed = app
        .call("PUT", &path, Some(json!({"name": " Work laptop "})), Some(&ada.token))
        .await;
    assert_eq!(renamed.body["data"]["name"], "Work laptop", "{}", renamed.body);
    app.call("PUT", &path, Some(json!({"name": "  "})), Some(&ada.token))
        .await
        .assert_error(422, "validation_failed");
    app.call("PUT", &path, Some(json!({"name": "x".repeat(101)})), Some(&ada.token))
        .await
        .assert_error(422, "validation_failed");
    // Another account's passkey is no passkey at all.
    let bob = TestUser::generate(&app).await;
    app.call("PUT", &path, Some(json!({"name": "Mine"})), Some(&bob.token))
        .await
        .assert_error(404, "not_found");
    app.call("DELETE", &path, None, Some(&bob.token))
        .await
        .assert_error(404, "not_found");
    app.get("/api/me/passkeys", None)
        .await
        .assert_error(401, "unauthenticated");

    // Removing a factor needs a recent proof.
    app.change_stored_sessions(|s| s.created_at -= chrono::Duration::minutes(11))
        .await;
    app.call("DELETE", &path, None, Some(&ada.token))
        .await
        .assert_error(401, "reauthentication_required");
    let proven = app
        .post_json(
            "/api/me/reauthenticate",
            json!({"password": ada.password}),
            Some(&ada.token),
        )
        .await;
    assert_eq!(proven.status, 200, "{}", proven.body);
    assert_eq!(app.call("DELETE", &path, None, Some(&ada.token)).await.status, 200);
    let last = format!("/api/me/passkeys/{phone_id}");
    assert_eq!(app.call("DELETE", &last, None, Some(&ada.token)).await.status, 200);
    let status = app.get("/api/me/second-factors", Some(&ada.token)).await.body["data"].clone();
    assert_eq!(
        status,
        json!({"totp": false, "recovery_codes_left": 0, "passkeys": 0, "methods": []}),
        "with the last factor the codes go too"
    );
    assert!(app.login_as(&ada.email, &ada.password, None).await.body["data"]["user"].is_object());
}

async fn a_passkey_is_a_second_factor_and_a_proof(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = TestUser::generate(&app).await;
    let (mut device, added) = register(&app, &ada, "Laptop").await;
    assert_eq!(added.status, 200, "{}", added.body);

    let login = app.login_as(&ada.email, &ada.password, None).await;
    assert_eq!(
        login.body["data"],
        json!({"second_factor_required": true, "methods": ["passkey", "recovery_code"]})
    );
    let pending = login.session_cookie(PENDING).unwrap();
    let started = with_pending(&app, "/api/login/second-factor/passkey/start", &pending, json!({})).await;
    assert_eq!(started.status, 200, "{}", started.body);
    assert_eq!(
        started.body["data"]["options"]["allowCredentials"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // A device that holds no passkey of the account is refused, and the try counts.
    let mut stranger = SoftPasskey::new(true);
    let bob = TestUser::generate(&app).await;
    register_with(&app, &bob, "Bob's", &mut stranger).await;
    let started_bob = app
        .post_json("/api/me/reauthenticate/passkey/start", json!({}), Some(&bob.token))
        .await;
    let strangers = answer(&mut stranger, &started_bob.body["data"]);
    let body = json!({"challenge_id": started.body["data"]["challenge_id"], "credential": strangers});
    with_pending(&app, "/api/login/second-factor/passkey/finish", &pending, body)
        .await
        .assert_error(401, "invalid_code");
    let started = with_pending(&app, "/api/login/second-factor/passkey/start", &pending, json!({})).await;
    let body = json!({"challenge_id": started.body["data"]["challenge_id"], "credential": answer(&mut device, &started.body["data"])});
    let done = with_pending(&app, "/api/login/second-factor/passkey/finish", &pending, body).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let token = done.session_cookie("roster_session").expect("a session");
    assert!(done.set_cookie(PENDING).unwrap().contains("Max-Age=0"));
    assert_eq!(app.me(Some(&token)).await.status, 200);
    let list = app.get("/api/me/passkeys", Some(&token)).await;
    assert!(
        list.body["data"]["passkeys"][0]["last_used_at"].is_string(),
        "{}",
        list.body
    );

    // A proof before a sensitive change.
    app.change_stored_sessions(|s| s.created_at -= chrono::Duration::minutes(11))
        .await;
    app.post_json("/api/me/recovery-codes", json!({}), Some(&token))
        .await
        .assert_error(401, "reauthentication_required");
    let started = app
        .post_json("/api/me/reauthenticate/passkey/start", json!({}), Some(&token))
        .await;
    let body = json!({"challenge_id": started.body["data"]["challenge_id"], "credential": answer(&mut device, &started.body["data"])});
    let proven = app
        .post_json("/api/me/reauthenticate/passkey/finish", body, Some(&token))
        .await;
    assert_eq!(proven.status, 200, "{}", proven.body);
    assert_eq!(
        app.post_json("/api/me/recovery-codes", json!({}), Some(&token))
            .await
            .status,
        200
    );
    let events = crate::email_links::audit_of(&app, &ada.email).await;
    assert!(
        crate::email_links::has(&events, "sign_in", "with password and a passkey"),
        "{events:?}"
    );
    assert!(
        crate::email_links::has(&events, "reauthenticated", "with passkey \"Laptop\""),
        "{events:?}"
    );
}

async fn every_passkey_answer_is_used_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = TestUser::generate(&app).await;
    let (mut device, _) = register(&app, &ada, "Laptop").await;
    let started = app
        .post_json("/api/me/reauthenticate/passkey/start", json!({}), Some(&ada.token))
        .await;
    let body = json!({"challenge_id": started.body["data"]["challenge_id"], "credential": answer(&mut device, &started.body["data"])});
    assert_eq!(
        app.post_json("/api/me/reauthenticate/passkey/finish", body.clone(), Some(&ada.token))
            .await
            .status,
        200
    );
    // The same signed answer again: its ceremony is gone.
    app.post_json("/api/me/reauthenticate/passkey/finish", body, Some(&ada.token))
        .await
        .assert_error(401, "passkey_refused");
    // A ceremony of another kind, or another account's, does not serve.
    let bob = TestUser::generate(&app).await;
    let (_, _) = register(&app, &bob, "Bob's").await;
    let started = app
        .post_json("/api/me/reauthenticate/passkey/start", json!({}), Some(&ada.token))
        .await;
    let body = json!({"challenge_id": started.body["data"]["challenge_id"], "credential": answer(&mut device, &started.body["data"])});
    app.post_json("/api/me/reauthenticate/passkey/finish", body.clone(), Some(&bob.token))
        .await
        .assert_error(401, "passkey_refused");
    // Expired: five minutes.
    let started = app
        .post_json("/api/me/reauthenticate/passkey/start", json!({}), Some(&ada.token))
        .await;
    app.execute_sql("UPDATE webauthn_ceremonies SET expires_at = created_at")
        .await;
    let body = json!({"challenge_id": started.body["data"]["challenge_id"], "credential": answer(&mut device, &started.body["data"])});
    app.post_json("/api/me/reauthenticate/passkey/finish", body, Some(&ada.token))
        .await
        .assert_error(401, "passkey_refused");
    // A registration ceremony can be finished once only too.
    let started = app
        .post_json("/api/me/passkeys/register/start", json!({}), Some(&ada.token))
        .await;
    let mut options = started.body["data"]["options"].clone();
    options["authenticatorSelection"]["requireResidentKey"] = false.into();
    let ccr: CreationChallengeResponse = serde_json::from_value(json!({ "publicKey": options })).unwrap();
    let credential = SoftPasskey::new(true).do_registration(origin(), ccr).unwrap();
    let body = json!({"challenge_id": started.body["data"]["challenge_id"], "credential": serde_json::to_value(&credential).unwrap(), "name": "Key"});
    assert_eq!(
        app.post_json("/api/me/passkeys/register/finish", body.clone(), Some(&ada.token))
            .await
            .status,
        200
    );
    app.post_json("/api/me/passkeys/register/finish", body, Some(&ada.token))
        .await
        .assert_error(401, "passkey_refused");
}

async fn usernameless_sign_in_refuses_what_does_not_check_out(backend: Backend) {
    let app = spawn_app(backend).await;
    let started = app.post_json("/api/login/passkey/start", json!({}), None).await;
    assert_eq!(started.status, 200, "{}", started.body);
    let options = &started.body["data"]["options"];
    assert_eq!(options["userVerification"], "required", "{options}");
    assert!(
        options["allowCredentials"].as_array().is_none_or(|a| a.is_empty()),
        "no account named: {options}"
    );
    let id = started.body["data"]["challenge_id"].clone();
    app.post_json(
        "/api/login/passkey/finish",
        json!({"challenge_id": id, "credential": {"id": "x"}}),
        None,
    )
    .await
    .assert_error(401, "passkey_refused");
    // The ceremony went with the refused answer.
    let ada = TestUser::generate(&app).await;
    let (mut device, _) = register(&app, &ada, "Laptop").await;
    let started = app
        .post_json("/api/me/reauthenticate/passkey/start", json!({}), Some(&ada.token))
        .await;
    let credential = answer(&mut device, &started.body["data"]);
    app.post_json(
        "/api/login/passkey/finish",
        json!({"challenge_id": id, "credential": credential}),
        None,
    )
    .await
    .assert_error(401, "passkey_refused");
    app.post_json(
        "/api/login/passkey/finish",
        json!({"challenge_id": "nope", "credential": {}}),
        None,
    )
    .await
    .assert_error(401, "passkey_refused");
}

/// Refused answers count against the client's address like failed sign-ins; past
/// the limit, no new ceremony starts from it either.
async fn refused_passkey_answers_are_limited_per_address(backend: Backend) {
    let app = crate::helpers::spawn_app_with(backend, &["--login-max-failures-per-ip", "3"]).await;
    for _ in 0..3 {
        let started = app.post_json("/api/login/passkey/start", json!({}), None).await;
        assert_eq!(started.status, 200, "{}", started.body);
        let id = started.body["data"]["challenge_id"].clone();
        app.post_json(
            "/api/login/passkey/finish",
            json!({"challenge_id": id, "credential": {}}),
            None,
        )
        .await
        .assert_error(401, "passkey_refused");
    }
    let limited = app.post_json("/api/login/passkey/start", json!({}), None).await;
    limited.assert_error(429, "rate_limited");
    assert!(limited.headers.get("retry-after").is_some());
    app.post_json(
        "/api/login/passkey/finish",
        json!({"challenge_id": "x", "credential": {}}),
        None,
    )
    .await
    .assert_error(429, "rate_limited");
}
