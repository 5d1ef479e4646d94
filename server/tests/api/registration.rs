//! Who may join (`ROSTER_REGISTRATION`): closed, by invitation only (single-use,
//! withdrawable, expiring links for one address), and with an administrator's
//! approval; each decision audited.

use crate::email_links::{nth_mail_to, spawn_with_mail};
use crate::helpers::{Backend, TestApp, TestUser, spawn_app_with};
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(
    closed_registration_refuses_everyone_but_administrators_make_accounts,
    an_invitation_lets_exactly_its_address_register_once,
    a_withdrawn_replaced_or_expired_invitation_opens_nothing,
    a_mailed_invitation_proves_the_address_it_went_to,
    approval_holds_a_new_account_until_an_administrator_decides,
    the_registration_page_says_how_sign_up_works,
);

const PASSWORD: &str = "correct horse battery";

/// An administrator on a server where nobody may register: made the operator's way.
async fn operator_admin(app: &TestApp, email: &str) -> String {
    app.state
        .users
        .create_or_promote_admin(email, "Admin", PASSWORD)
        .await
        .expect("create the administrator");
    app.login(email, PASSWORD).await
}

fn register_body(name: &str, email: &str, invitation: Option<&str>) -> Value {
    json!({"name": name, "email": email, "password": PASSWORD, "invitation": invitation})
}

/// The secret of an invitation link (`…/register?invitation=SECRET`).
fn secret_of(link: &str) -> String {
    link.split_once("?invitation=")
        .expect("an invitation link")
        .1
        .to_owned()
}

async fn invite(app: &TestApp, admin: &str, email: &str, role: &str) -> (String, String) {
    let reply = app
        .post_json("/api/invitations", json!({"email": email, "role": role}), Some(admin))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let data = &reply.body["data"];
    let link = data["link"]
        .as_str()
        .expect("no mail server: the link is shown")
        .to_owned();
    (data["invitation"]["id"].as_str().unwrap().to_owned(), secret_of(&link))
}

async fn audit_has(app: &TestApp, admin: &str, action: &str, detail_part: &str) -> bool {
    let reply = app.audit(&format!("action={action}&limit=100"), Some(admin)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["detail"].as_str().unwrap_or("").contains(detail_part))
}

async fn closed_registration_refuses_everyone_but_administrators_make_accounts(backend: Backend) {
    let app = spawn_app_with(backend, &["--registration", "closed"]).await;
    let info = app.get("/api/registration", None).await;
    assert_eq!(info.body["data"]["mode"], "closed");
    let refused = app
        .post_json("/api/register", register_body("Ada", "ada@example.com", None), None)
        .await;
    refused.assert_error(403, "registration_closed");
    assert!(refused.set_cookie(&app.cookie_name).is_none(), "no session");
    // Not with an invitation either: closed is closed.
    let admin = operator_admin(&app, "root@example.com").await;
    let (_, secret) = invite(&app, &admin, "bob@example.com", "user").await;
    app.post_json(
        "/api/register",
        register_body("Bob", "bob@example.com", Some(&secret)),
        None,
    )
    .await
    .assert_error(403, "registration_closed");
    // An administrator still makes accounts.
    let created = app
        .create_user(
            json!({"name": "Cy", "email": "cy@example.com", "password": PASSWORD}),
            Some(&admin),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(
        audit_has(
            &app,
            &admin,
            "registration_refused",
            "registration is closed: ada@example.com"
        )
        .await
    );
}

async fn an_invitation_lets_exactly_its_address_register_once(backend: Backend) {
    let app = spawn_app_with(backend, &["--registration", "invite"]).await;
    app.post_json("/api/register", register_body("Ada", "ada@example.com", None), None)
        .await
        .assert_error(403, "registration_closed");
    let admin = operator_admin(&app, "root@example.com").await;
    let (id, secret) = invite(&app, &admin, "Ada@Example.com", "admin").await;
    // Anyone holding the link sees what it is for.
    let preview = app.get(&format!("/api/invitations/preview?token={secret}"), None).await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert_eq!(preview.body["data"]["email"], "Ada@Example.com");
    // Only its address.
    let other = app
        .post_json(
            "/api/register",
            register_body("Eve", "eve@example.com", Some(&secret)),
            None,
        )
        .await;
    other.assert_error(422, "validation_failed");
    assert!(
        other.body["error"]["fields"]["email"]
            .as_str()
            .unwrap()
            .contains("another address")
    );
    // Its address, in any case, with the role it names.
    let joined = app
        .post_json(
            "/api/register",
            register_body("Ada", "ada@example.com", Some(&secret)),
            None,
        )
        .await;
    assert_eq!(joined.status, 201, "{}", joined.body);
    let user = &joined.body["data"]["user"];
    assert_eq!(user["role"], "admin");
    assert_eq!(user["approval_pending"], false);
    // The link was shown to the administrator, not mailed: the address is not proven by it.
    assert_eq!(user["email_verified"], false);
    assert!(joined.set_cookie(&app.cookie_name).is_some(), "signed in");
    // Once.
    app.post_json(
        "/api/register",
        register_body("Ada", "ada2@example.com", Some(&secret)),
        None,
    )
    .await
    .assert_error(400, "invitation_invalid");
    let list = app.get("/api/invitations", Some(&admin)).await;
    let row = &list.body["data"]["items"][0];
    assert_eq!(row["id"], id.as_str());
    assert_eq!(row["state"], "accepted");
    assert_eq!(row["accepted_by"], user["id"]);
    // A used invitation cannot be withdrawn.
    app.call("DELETE", &format!("/api/invitations/{id}"), None, Some(&admin))
        .await
        .assert_error(409, "conflict");
    assert!(audit_has(&app, &admin, "invitation_created", "role admin").await);
    assert!(audit_has(&app, &admin, "registered", "invited").await);
    assert!(audit_has(&app, &admin, "registration_refused", "no invitation").await);
    assert!(
        audit_has(
            &app,
            &admin,
            "registration_refused",
            "an invitation for another address: eve@example.com"
        )
        .await
    );
    assert!(audit_has(&app, &admin, "invitation_created", "for Ada@Example.com").await);
    // Invitations are the administrators' business.
    let user = TestUser::store_invited(&app, &admin, "plain@example.com").await;
    app.post_json("/api/invitations", json!({"email": "x@example.com"}), Some(&user.token))
        .await
        .assert_error(403, "forbidden");
    app.get("/api/invitations", None)
        .await
        .assert_error(401, "unauthenticated");
    // Bad input is named field by field.
    let bad = app
        .post_json(
            "/api/invitations",
            json!({"email": "not an address", "role": "owner", "expires_in_days": 99}),
            Some(&admin),
        )
        .await;
    bad.assert_error(422, "validation_failed");
    for field in ["email", "role", "expires_in_days"] {
        assert!(bad.body["error"]["fields"][field].is_string(), "{field}: {}", bad.body);
    }
    // An address with an account already is not invited.
    app.post_json("/api/invitations", json!({"email": "ada@example.com"}), Some(&admin))
        .await
        .assert_error(409, "email_taken");
}

async fn a_withdrawn_replaced_or_expired_invitation_opens_nothing(backend: Backend) {
    let app = spawn_app_with(backend, &["--registration", "invite"]).await;
    let admin = operator_admin(&app, "root@example.com").await;
    // Withdrawn.
    let (id, withdrawn) = invite(&app, &admin, "bob@example.com", "user").await;
    let revoked = app
        .call("DELETE", &format!("/api/invitations/{id}"), None, Some(&admin))
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert_eq!(revoked.body["data"]["state"], "revoked");
    app.post_json(
        "/api/register",
        register_body("Bob", "bob@example.com", Some(&withdrawn)),
        None,
    )
    .await
    .assert_error(400, "invitation_invalid");
    // Replaced: only the newest link for an address works.
    let (_, first) = invite(&app, &admin, "cy@example.com", "user").await;
    let (_, second) = invite(&app, &admin, "cy@example.com", "user").await;
    app.post_json(
        "/api/register",
        register_body("Cy", "cy@example.com", Some(&first)),
        None,
    )
    .await
    .assert_error(400, "invitation_invalid");
    // Expired.
    let (_, expired) = invite(&app, &admin, "di@example.com", "user").await;
    app.execute_sql("UPDATE invitations SET expires_at = created_at WHERE email = 'di@example.com'")
        .await;
    app.post_json(
        "/api/register",
        register_body("Di", "di@example.com", Some(&expired)),
        None,
    )
    .await
    .assert_error(400, "invitation_invalid");
    app.get(&format!("/api/invitations/preview?token={expired}"), None)
        .await
        .assert_error(400, "invitation_invalid");
    // Junk.
    app.post_json(
        "/api/register",
        register_body("Di", "di@example.com", Some("nonsense")),
        None,
    )
    .await
    .assert_error(400, "invitation_invalid");
    // The replacement still works.
    let joined = app
        .post_json(
            "/api/register",
            register_body("Cy", "cy@example.com", Some(&second)),
            None,
        )
        .await;
    assert_eq!(joined.status, 201, "{}", joined.body);
    let states: Vec<(String, String)> = app.get("/api/invitations", Some(&admin)).await.body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["email"].as_str().unwrap().to_owned(),
                i["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for expected in [
        ("di@example.com", "expired"),
        ("cy@example.com", "accepted"),
        ("cy@example.com", "revoked"),
        ("bob@example.com", "revoked"),
    ] {
        assert!(
            states.iter().any(|(e, s)| e == expected.0 && s == expected.1),
            "{expected:?} in {states:?}"
        );
    }
}

async fn a_mailed_invitation_proves_the_address_it_went_to(backend: Backend) {
    let (app, sink) = spawn_with_mail(backend, &["--registration", "invite"]).await;
    let admin = operator_admin(&app, "root@example.com").await;
    let reply = app
        .post_json("/api/invitations", json!({"email": "ada@example.com"}), Some(&admin))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert!(
        reply.body["data"]["link"].is_null(),
        "mailed, not shown: {}",
        reply.body
    );
    assert_eq!(reply.body["data"]["invitation"]["sent_by_mail"], true);
    let mail = nth_mail_to(&sink, "ada@example.com", 1).await;
    let link = mail
        .text
        .lines()
        .find(|l| l.contains("/register?invitation="))
        .unwrap_or_else(|| panic!("a link in {}", mail.text))
        .trim()
        .to_owned();
    assert!(
        link.starts_with("https://accounts.example.com/register?invitation="),
        "{link}"
    );
    let joined = app
        .post_json(
            "/api/register",
            register_body("Ada", "ada@example.com", Some(&secret_of(&link))),
            None,
        )
        .await;
    assert_eq!(joined.status, 201, "{}", joined.body);
    assert_eq!(
        joined.body["data"]["user"]["email_verified"], true,
        "the mailed link proved it"
    );
}

async fn approval_holds_a_new_account_until_an_administrator_decides(backend: Backend) {
    let app = spawn_app_with(backend, &["--registration", "approval"]).await;
    let admin = operator_admin(&app, "root@example.com").await;
    let (reply, token) = app.register("Ada", "ada@example.com", PASSWORD).await;
    let ada = reply.body["data"]["user"].clone();
    assert_eq!(ada["approval_pending"], true);
    let id = ada["id"].as_str().unwrap();
    // Signed in only to be told so: itself, nothing else.
    let me = app.me(Some(&token)).await;
    assert_eq!(me.body["data"]["user"]["approval_pending"], true);
    app.update_user(id, json!({"name": "Ada L"}), Some(&token))
        .await
        .assert_error(403, "approval_pending");
    app.get("/api/me/second-factors", Some(&token))
        .await
        .assert_error(403, "approval_pending");
    // The queue, oldest first.
    let (_, bob_token) = app.register("Bob", "bob@example.com", PASSWORD).await;
    let queue = app.get("/api/users/pending", Some(&admin)).await;
    let waiting: Vec<&str> = queue.body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(waiting, ["ada@example.com", "bob@example.com"]);
    // Approved: the same session works at once, on every server.
    let approved = app
        .post_json(&format!("/api/users/{id}/approve"), json!({}), Some(&admin))
        .await;
    assert_eq!(approved.status, 200, "{}", approved.body);
    assert_eq!(approved.body["data"]["user"]["approval_pending"], false);
    let renamed = app.update_user(id, json!({"name": "Ada L"}), Some(&token)).await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    app.post_json(&format!("/api/users/{id}/approve"), json!({}), Some(&admin))
        .await
        .assert_error(409, "conflict");
    // Rejected: deleted, signed out.
    let bob_id = app.me(Some(&bob_token)).await.body["data"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rejected = app
        .post_json(&format!("/api/users/{bob_id}/reject"), json!({}), Some(&admin))
        .await;
    assert_eq!(rejected.status, 200, "{}", rejected.body);
    app.me(Some(&bob_token)).await.assert_error(401, "unauthenticated");
    app.get_user(&bob_id, Some(&admin)).await.assert_error(404, "not_found");
    // An approved account is not rejected by mistake.
    app.post_json(&format!("/api/users/{id}/reject"), json!({}), Some(&admin))
        .await
        .assert_error(409, "conflict");
    // Nobody but administrators decides, and waiting accounts least of all.
    for path in [format!("/api/users/{id}/approve"), format!("/api/users/{id}/reject")] {
        app.post_json(&path, json!({}), Some(&token))
            .await
            .assert_error(403, "forbidden");
    }
    app.get("/api/users/pending", Some(&token))
        .await
        .assert_error(403, "forbidden");
    // A waiting account is no administrator, whatever its role: the last real one stays.
    let bo_waits = app.register("Bo", "bo@example.com", PASSWORD).await.0.body["data"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let promoted = app.update_user(&bo_waits, json!({"role": "admin"}), Some(&admin)).await;
    assert_eq!(promoted.status, 200, "{}", promoted.body);
    let root_id = app.me(Some(&admin)).await.body["data"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.update_user(&root_id, json!({"role": "user"}), Some(&admin))
        .await
        .assert_error(409, "last_admin");
    // Invited people do not wait.
    let (_, secret) = invite(&app, &admin, "cy@example.com", "user").await;
    let cy = app
        .post_json(
            "/api/register",
            register_body("Cy", "cy@example.com", Some(&secret)),
            None,
        )
        .await;
    assert_eq!(cy.body["data"]["user"]["approval_pending"], false, "{}", cy.body);
    assert!(audit_has(&app, &admin, "registered", "waiting for approval").await);
    let decisions = app.audit("limit=100", Some(&admin)).await;
    let actions: Vec<&str> = decisions.body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"registration_approved"), "{actions:?}");
    assert!(actions.contains(&"registration_rejected"), "{actions:?}");
}

async fn the_registration_page_says_how_sign_up_works(backend: Backend) {
    for (mode, says) in [
        ("closed", "Registration is closed"),
        ("invite", "Registration is by invitation"),
        ("approval", "An administrator approves new accounts"),
        ("open", "Create your account"),
    ] {
        let app = spawn_app_with(backend, &["--registration", mode]).await;
        let page = app.http.get(app.url("/register")).send().await.unwrap();
        let html = page.text().await.unwrap();
        assert!(html.contains(says), "{mode}: {says}");
        let form = html.contains("name=\"password\"");
        assert_eq!(
            form,
            mode == "approval" || mode == "open",
            "{mode}: a form only where one may register"
        );
    }
    // With an invitation the address is filled in and fixed, and the secret rides along.
    let app = spawn_app_with(backend, &["--registration", "invite"]).await;
    let admin = operator_admin(&app, "root@example.com").await;
    let (_, secret) = invite(&app, &admin, "ada@example.com", "user").await;
    let html = app
        .http
        .get(app.url(&format!("/register?invitation={secret}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("You were invited to join with"), "{html}");
    assert!(html.contains("value=\"ada@example.com\""));
    assert!(html.contains("readonly"));
    assert!(html.contains(&format!("name=\"invitation\" value=\"{secret}\"")));
    let stale = app
        .http
        .get(app.url("/register?invitation=nonsense"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(stale.contains("This invitation is not valid"));
}

impl TestUser {
    /// A user on a server where registration needs an invitation: invited first.
    pub async fn store_invited(app: &TestApp, admin: &str, email: &str) -> Self {
        let (_, secret) = invite(app, admin, email, "user").await;
        let reply = app
            .post_json("/api/register", register_body("Invited", email, Some(&secret)), None)
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        Self {
            id: reply.body["data"]["user"]["id"].as_str().unwrap().to_owned(),
            email: email.to_owned(),
            password: PASSWORD.to_owned(),
            token: reply.session_cookie(&app.cookie_name).expect("signed in"),
        }
    }
}
