//! /api/users: every endpoint × every kind of caller, pagination under concurrent
//! inserts, and the rules about roles, the disabled flag and the last admin.

use crate::helpers::{Backend, Reply, TestApp, TestUser, spawn_app};
use crate::on_both_backends;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";

on_both_backends!(
    every_endpoint_for_every_kind_of_caller,
    admin_creates_users_with_validation,
    unknown_and_malformed_ids_are_not_found,
    listing_pages_with_a_stable_order_and_filters,
    pagination_has_no_duplicates_or_gaps_under_concurrent_inserts,
    updating_profile_and_refusing_unknown_fields,
    changing_your_password_needs_the_current_one_and_ends_other_sessions,
    disabling_a_user_ends_their_sessions_and_blocks_sign_in,
    an_admin_ends_every_session_of_a_user_who_can_sign_in_again,
    changing_your_own_email_needs_your_password,
    the_last_active_admin_cannot_be_demoted_disabled_or_deleted,
    deleting_removes_the_user_and_their_sessions,
    an_admin_sees_where_a_user_is_signed_in_and_ends_one_session,
    the_audit_log_filters_to_one_account,
    a_bulk_action_changes_each_account_by_its_own_rules,
    a_bulk_action_is_validated_before_anything_changes,
    a_plain_form_bulk_action_needs_its_confirmation_and_reports_back,
);

async fn every_endpoint_for_every_kind_of_caller(backend: Backend) {
    let app = spawn_app(backend).await;
    let boss = TestUser::admin(&app, "boss@example.com").await;
    let ada = TestUser::store(&app, "Ada", "ada@example.com").await;
    let bob = TestUser::store(&app, "Bob", "bob@example.com").await;

    // (method, path builder, body, anonymous, user→self/collection, user→other, admin)
    type Cell = (&'static str, fn(&str) -> String, Option<Value>, u16, u16, u16, u16);
    let table: Vec<Cell> = vec![
        ("GET", |_| "/api/users".into(), None, 401, 403, 403, 200),
        // "View as" (before Bob is made an admin below: administrators are not viewed as).
        (
            "POST",
            |id| format!("/api/users/{id}/impersonate"),
            None,
            401,
            403,
            403,
            200,
        ),
        ("GET", |_| "/api/impersonation".into(), None, 401, 200, 200, 200),
        ("POST", |_| "/api/impersonation/end".into(), None, 401, 409, 409, 409),
        ("GET", |_| "/api/me/activity".into(), None, 401, 200, 200, 200),
        (
            "POST",
            |_| "/api/users".into(),
            Some(json!({"name": "N", "email": "n@example.com", "password": PASSWORD})),
            401,
            403,
            403,
            201,
        ),
        ("GET", |id| format!("/api/users/{id}"), None, 401, 200, 403, 200),
        (
            "PUT",
            |id| format!("/api/users/{id}"),
            Some(json!({"name": "Renamed"})),
            401,
            200,
            403,
            200,
        ),
        (
            "PUT",
            |id| format!("/api/users/{id}"),
            // Same password again, so later rows can still use it.
            Some(json!({"password": PASSWORD, "current_password": PASSWORD})),
            401,
            200,
            403,
            200,
        ),
        (
            "PUT",
            |id| format!("/api/users/{id}"),
            Some(json!({"role": "admin"})),
            401,
            403,
            403,
            200,
        ),
        (
            "PUT",
            |id| format!("/api/users/{id}"),
            Some(json!({"disabled": false})),
            401,
            403,
            403,
            200,
        ),
        (
            "PUT",
            |id| format!("/api/users/{id}"),
            Some(json!({"email_verified": true})),
            401,
            403,
            403,
            200,
        ),
        (
            "GET",
            |id| format!("/api/users/{id}/sessions"),
            None,
            401,
            403,
            403,
            200,
        ),
        // A session id that is not the account's: found for the admin only after
        // the policy let them ask.
        (
            "DELETE",
            |id| format!("/api/users/{id}/sessions/{}", uuid::Uuid::nil()),
            None,
            401,
            403,
            403,
            404,
        ),
        // An id that is no account's: refused in the report, the request itself 200.
        (
            "POST",
            |_| "/api/users/bulk".into(),
            Some(json!({"action": "sign_out", "ids": [uuid::Uuid::nil()]})),
            401,
            403,
            403,
            200,
        ),
        (
            "DELETE",
            |id| format!("/api/users/{id}/sessions"),
            None,
            401,
            403,
            403,
            200,
        ),
        // Always the caller's own address (no id in the path): Ada's is unproven,
        // the administrator's was proven when they were made one (400, nothing to send).
        ("POST", |_| "/api/email/verify/resend".into(), None, 401, 200, 200, 400),
        (
            "DELETE",
            |id| format!("/api/users/{id}/second-factors"),
            None,
            401,
            403,
            403,
            200,
        ),
        // The caller's own factors (no id in the path).
        ("GET", |_| "/api/me/second-factors".into(), None, 401, 200, 200, 200),
        ("GET", |_| "/api/me/passkeys".into(), None, 401, 200, 200, 200),
        ("POST", |_| "/api/me/totp".into(), None, 401, 200, 200, 200),
        // No factor yet: nothing for recovery codes to stand in for.
        ("POST", |_| "/api/me/recovery-codes".into(), None, 401, 409, 409, 409),
        // An empty proof is a field error for anyone signed in.
        (
            "POST",
            |_| "/api/me/reauthenticate".into(),
            Some(json!({})),
            401,
            422,
            422,
            422,
        ),
        (
            "POST",
            |_| "/api/me/passkeys/register/start".into(),
            None,
            401,
            200,
            200,
            200,
        ),
        // Ids are the caller's own passkeys: none here.
        (
            "PUT",
            |id| format!("/api/me/passkeys/{id}"),
            Some(json!({"name": "Laptop"})),
            401,
            404,
            404,
            404,
        ),
        (
            "DELETE",
            |id| format!("/api/me/passkeys/{id}"),
            None,
            401,
            404,
            404,
            404,
        ),
        (
            "POST",
            |_| "/api/me/reauthenticate/passkey/start".into(),
            None,
            401,
            409,
            409,
            409,
        ),
        // Who may join: the approval queue, invitations, imports.
        ("GET", |_| "/api/users/pending".into(), None, 401, 403, 403, 200),
        // Bob does not wait for approval: the administrator is told so.
        (
            "POST",
            |id| format!("/api/users/{id}/approve"),
            None,
            401,
            403,
            403,
            409,
        ),
        ("POST", |id| format!("/api/users/{id}/reject"), None, 401, 403, 403, 409),
        ("GET", |_| "/api/invitations".into(), None, 401, 403, 403, 200),
        (
            "POST",
            |_| "/api/invitations".into(),
            Some(json!({"email": "n@example.com"})),
            401,
            403,
            403,
            201,
        ),
        // A user's id is no invitation's.
        (
            "DELETE",
            |id| format!("/api/invitations/{id}"),
            None,
            401,
            403,
            403,
            404,
        ),
        // Public: how sign-up works, and what a (here: bogus) invitation link is for.
        ("GET", |_| "/api/registration".into(), None, 200, 200, 200, 200),
        (
            "GET",
            |_| "/api/invitations/preview?token=nonsense".into(),
            None,
            400,
            400,
            400,
            400,
        ),
        // The dashboard's figures.
        ("GET", |_| "/api/admin/stats".into(), None, 401, 403, 403, 200),
        // An empty file: refused as unreadable, but only to an administrator.
        ("POST", |_| "/api/users/import".into(), None, 401, 403, 403, 422),
    ];
    for (i, (method, path, body, anonymous, user_self, user_other, as_admin)) in table.into_iter().enumerate() {
        let body = body.map(|b| {
            // Unique emails for the create row.
            let mut b = b;
            if let Some(e) = b.get_mut("email") {
                *e = json!(format!("n{i}-{}@example.com", rand_suffix()));
            }
            b
        });
        let r = app.call(method, &path(&ada.id), body.clone(), None).await;
        assert_eq!(r.status, anonymous, "{method} anonymous: {}", r.body);
        if anonymous == 401 {
            assert_eq!(r.code(), "unauthenticated");
        }
        let r = app.call(method, &path(&ada.id), body.clone(), Some(&ada.token)).await;
        assert_eq!(r.status, user_self, "{method} {} user self: {}", path("ID"), r.body);
        if user_self == 403 {
            assert_eq!(r.code(), "forbidden");
        }
        let r = app.call(method, &path(&bob.id), body.clone(), Some(&ada.token)).await;
        assert_eq!(r.status, user_other, "{method} {} user other: {}", path("ID"), r.body);
        let body = body.map(|mut b| {
            if let Some(e) = b.get_mut("email") {
                *e = json!(format!("admin-made-{i}-{}@example.com", rand_suffix()));
            }
            b
        });
        let r = app.call(method, &path(&bob.id), body, Some(&boss.token)).await;
        assert_eq!(r.status, as_admin, "{method} {} admin: {}", path("ID"), r.body);
    }
    // Delete: anonymous 401, user→other 403, user→self (with password) 200, admin→other 200.
    app.delete_user(&bob.id, None, None)
        .await
        .assert_error(401, "unauthenticated");
    app.delete_user(&bob.id, None, Some(&ada.token))
        .await
        .assert_error(403, "forbidden");
    let r = app
        .delete_user(&ada.id, Some(json!({"password": PASSWORD})), Some(&ada.token))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.delete_user(&bob.id, None, Some(&boss.token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// The newest audit event of one action.
async fn newest_event(app: &TestApp, action: &str, admin: &str) -> Value {
    let audit = app.audit(&format!("action={action}"), Some(admin)).await;
    audit.body["data"]["items"][0].clone()
}

fn rand_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_owned()
}

async fn admin_creates_users_with_validation(backend: Backend) {
    let app = spawn_app(backend).await;
    let boss = TestUser::admin(&app, "boss@example.com").await;
    let r = app
        .create_user(
            json!({"name": "Cy", "email": "cy@example.com", "password": PASSWORD, "role": "admin"}),
            Some(&boss.token),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["data"]["user"]["role"], "admin");
    assert_eq!(r.body["data"]["user"]["disabled"], false);
    assert!(
        r.set_cookie(&app.cookie_name).is_none(),
        "creating a user does not sign the admin in as them"
    );
    let r = app
        .create_user(
            json!({"name": "Cy", "email": "CY@example.com", "password": PASSWORD}),
            Some(&boss.token),
        )
        .await;
    r.assert_error(409, "email_taken");
    let r = app
        .create_user(
            json!({"name": "", "email": "x", "password": "p", "role": "root"}),
            Some(&boss.token),
        )
        .await;
    r.assert_error(422, "validation_failed");
    assert_eq!(r.body["error"]["fields"].as_object().unwrap().len(), 4, "{}", r.body);
    // The new account can sign in.
    let r = app.login_as("cy@example.com", PASSWORD, None).await;
    assert_eq!(r.status, 200);
}

async fn unknown_and_malformed_ids_are_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let boss = TestUser::admin(&app, "boss@example.com").await;
    for id in [
        "00000000-0000-7000-8000-000000000000",
        "not-an-id",
        "1",
        "%27%20OR%201=1--",
    ] {
        for method in ["GET", "PUT", "DELETE"] {
            let body = (method == "PUT").then(|| json!({"name": "x"}));
            app.call(method, &format!("/api/users/{id}"), body, Some(&boss.token))
                .await
                .assert_error(404, "not_found");
        }
    }
}

async fn list_all(app: &TestApp, token: &str, query: &str) -> (Vec<Value>, Vec<Reply>) {
    let mut items = Vec::new();
    let mut replies = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let sep = if query.is_empty() { "" } else { "&" };
        let path = match &cursor {
            None => format!("/api/users?{query}"),
            Some(c) => format!("/api/users?{query}{sep}cursor={c}"),
        };
        let r = app.get(&path, Some(token)).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        items.extend(r.body["data"]["items"].as_array().unwrap().iter().cloned());
        cursor = r.body["data"]["next_cursor"].as_str().map(str::to_owned);
        replies.push(r);
        if cursor.is_none() {
            return (items, replies);
        }
    }
}

async fn listing_pages_with_a_stable_order_and_filters(backend: Backend) {
    let app = spawn_app(backend).await;
    let boss = TestUser::admin(&app, "boss@example.com").await;
    for i in 0..7 {
        TestUser::store(&app, &format!("Member {i}"), &format!("member{i}@example.com")).await;
    }
    TestUser::store(&app, "Zed 100%_sure", "zed@other.org").await;
    let (items, pages) = list_all(&app, &boss.token, "limit=3").await;
    assert_eq!(items.len(), 9);
    assert_eq!(pages.len(), 3);
    assert!(pages.last().unwrap().body["data"]["next_cursor"].is_null());
    assert_eq!(items[0]["email"], "zed@other.org", "newest first");
    assert_eq!(items[8]["email"], "boss@example.com");
    // Default page size 20 holds everyone.
    let r = app.list_users("", Some(&boss.token)).await;
    assert_eq!(r.body["data"]["items"].as_array().unwrap().len(), 9);
    // Search over email and name, case-insensitively; wildcards are literal.
    let r = app.list_users("q=MEMBER%203", Some(&boss.token)).await;
    assert_eq!(r.body["data"]["items"].as_array().unwrap().len(), 1);
    let r = app.list_users("q=other.org", Some(&boss.token)).await;
    assert_eq!(r.body["data"]["items"][0]["name"], "Zed 100%_sure");
    let r = app.list_users("q=%25", Some(&boss.token)).await;
    assert_eq!(
        r.body["data"]["items"].as_array().unwrap().len(),
        1,
        "a literal percent sign"
    );
    let r = app.list_users("role=admin", Some(&boss.token)).await;
    assert_eq!(r.body["data"]["items"].as_array().unwrap().len(), 1);
    let r = app.list_users("disabled=true", Some(&boss.token)).await;
    assert_eq!(r.body["data"]["items"].as_array().unwrap().len(), 0);
    for bad in ["limit=0", "limit=101", "role=root", "cursor=bogus"] {
        app.get(&format!("/api/users?{bad}"), Some(&boss.token))
            .await
            .assert_error(422, "validation_failed");
    }
    app.list_users("limit=abc", Some(&boss.token))
        .await
        .assert_error(400, "bad_request");
}

async fn pagination_has_no_duplicates_or_gaps_under_concurrent_inserts(backend: Backend) {
    let app = std::sync::Arc::new(spawn_app(backend).await);
    let boss = TestUser::admin(&app, "boss@example.com").await;
    for i in 0..24 {
        TestUser::store(&app, &format!("Early {i}"), &format!("early{i}@example.com")).await;
    }
    // Keep inserting while we page.
    let writer = {
        let app = app.clone();
        let token = boss.token.clone();
        tokio::spawn(async move {
            for i in 0..15 {
                let body =
                    json!({"name": format!("Late {i}"), "email": format!("late{i}@example.com"), "password": PASSWORD});
                let r = app.call("POST", "/api/users", Some(body), Some(&token)).await;
                assert_eq!(r.status, 201);
            }
        })
    };
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => "/api/users?limit=5".to_owned(),
            Some(c) => format!("/api/users?limit=5&cursor={c}"),
        };
        let r = app.get(&path, Some(&boss.token)).await;
        seen.extend(
            r.body["data"]["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["email"].as_str().unwrap().to_owned()),
        );
        cursor = r.body["data"]["next_cursor"].as_str().map(str::to_owned);
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        if cursor.is_none() {
            break;
        }
    }
    writer.await.unwrap();
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no duplicates: {seen:?}");
    for i in 0..24 {
        assert!(seen.contains(&format!("early{i}@example.com")), "early{i} not skipped");
    }
    assert!(seen.contains(&"boss@example.com".to_owned()));
}

async fn updating_profile_and_refusing_unknown_fields(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = TestUser::store(&app, "Ada", "ada@example.com").await;
    TestUser::store(&app, "Bob", "bob@example.com").await;
    let path = format!("/api/users/{}", ada.id);
    let r = app
        .call(
            "PUT",
            &path,
            Some(json!({"name": "  Ada King ", "email": "ada.king@example.com", "current_password": PASSWORD})),
            Some(&ada.token),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"]["user"]["name"], "Ada King");
    // The new address waits for its link (email_links.rs follows it).
    assert_eq!(r.body["data"]["user"]["email"], "ada@example.com");
    assert_ne!(
        r.body["data"]["user"]["updated_at"],
        r.body["data"]["user"]["created_at"]
    );
    let r = app
        .call("PUT", &path, Some(json!({"rol": "admin", "name": 5})), Some(&ada.token))
        .await;
    r.assert_error(422, "validation_failed");
    assert_eq!(r.body["error"]["fields"]["rol"], "Unknown field.");
    assert_eq!(r.body["error"]["fields"]["name"], "Must be a string.");
    // null means "leave as it is", for text and flags alike.
    let r = app
        .update_user(
            &ada.id,
            json!({"name": null, "email": null, "disabled": null}),
            Some(&ada.token),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"]["user"]["name"], "Ada King");
    assert_eq!(r.body["data"]["user"]["disabled"], false);
    app.call(
        "PUT",
        &path,
        Some(json!({"email": "BOB@example.com", "current_password": PASSWORD})),
        Some(&ada.token),
    )
    .await
    .assert_error(409, "email_taken");
    app.call("PUT", &path, Some(json!({"email": "nope"})), Some(&ada.token))
        .await
        .assert_error(422, "validation_failed");
    app.call("PUT", &path, Some(json!({"role": "admin"})), Some(&ada.token))
        .await
        .assert_error(403, "forbidden");
    app.call("PUT", &path, Some(json!({"disabled": true})), Some(&ada.token))
        .await
        .assert_error(403, "forbidden");
    let me = app.me(Some(&ada.token)).await;
    assert_eq!(
        me.body["data"]["user"]["role"], "user",
        "nothing changed by the refused requests"
    );
}

async fn changing_your_password_needs_the_current_one_and_ends_other_sessions(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = TestUser::store(&app, "Ada", "ada@example.com").await;
    let other_token = app.login("ada@example.com", PASSWORD).await;
    let path = format!("/api/users/{}", ada.id);
    let new = "a much better passphrase";
    let r = app
        .call("PUT", &path, Some(json!({"password": new})), Some(&ada.token))
        .await;
    r.assert_error(422, "validation_failed");
    assert!(r.body["error"]["fields"]["current_password"].is_string());
    let r = app
        .call(
            "PUT",
            &path,
            Some(json!({"password": new, "current_password": "wrong one"})),
            Some(&ada.token),
        )
        .await;
    r.assert_error(422, "validation_failed");
    let r = app
        .call(
            "PUT",
            &path,
            Some(json!({"password": new, "current_password": PASSWORD})),
            Some(&ada.token),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        app.me(Some(&ada.token)).await.status,
        200,
        "this device stays signed in"
    );
    app.me(Some(&other_token)).await.assert_error(401, "unauthenticated");
    let old = app.login_as("ada@example.com", PASSWORD, None).await;
    old.assert_error(401, "invalid_credentials");
    let fresh = app.login_as("ada@example.com", new, None).await;
    assert_eq!(fresh.status, 200);
}

async fn disabling_a_user_ends_their_sessions_and_blocks_sign_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let boss = TestUser::admin(&app, "boss@example.com").await;
    let ada = TestUser::store(&app, "Ada", "ada@example.com").await;
    let r = app
        .update_user(&ada.id, json!({"disabled": true}), Some(&boss.token))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"]["user"]["disabled"], true);
    app.me(Some(&ada.token)).await.assert_error(401, "unauthenticated");
    let login = app.login_as("ada@example.com", PASSWORD, None).await;
    login.assert_error(403, "account_disabled");
    let wrong = app.login_as("ada@example.com", "wrong password", None).await;
    wrong.assert_error(401, "invalid_credentials");
    let r = app.list_users("disabled=true", Some(&boss.token)).await;
    assert_eq!(r.body["data"]["items"][0]["email"], "ada@example.com");
    app.update_user(&ada.id, json!({"disabled": false}), Some(&boss.token))
        .await;
    let login = app.login_as("ada@example.com", PASSWORD, None).await;
    assert_eq!(login.status, 200);
}

/// The email is the sign-in identifier: changing one's own needs the current
/// password (a session left open elsewhere cannot take the account over); the name
/// does not, nor does an administrator changing another's email.
async fn changing_your_own_email_needs_your_password(backend: Backend) {
    let app = spawn_app(backend).await;
    let boss = TestUser::admin(&app, "boss@example.com").await;
    let ada = TestUser::store(&app, "Ada", "ada@example.com").await;
    let r = app
        .update_user(&ada.id, json!({"email": "ada.new@example.com"}), Some(&ada.token))
        .await;
    r.assert_error(422, "validation_failed");
    assert!(
        r.body["error"]["fields"]["current_password"]
            .as_str()
            .unwrap()
            .contains("current password")
    );
    let wrong = json!({"email": "ada.new@example.com", "current_password": "not my password"});
    app.update_user(&ada.id, wrong, Some(&ada.token))
        .await
        .assert_error(422, "validation_failed");
    let same = json!({"name": "Ada L", "email": "ADA@example.com"});
    let r = app.update_user(&ada.id, same, Some(&ada.token)).await;
    assert_eq!(
        r.status, 200,
        "the same address (any case) and a new name need nothing: {}",
        r.body
    );
    let right = json!({"email": "ada.new@example.com", "current_password": PASSWORD});
    let r = app.update_user(&ada.id, right, Some(&ada.token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["data"]["user"]["email"], "ADA@example.com",
        "asked for: it takes effect when the link mailed to the new address is followed"
    );
    let r = app
        .update_user(
            &ada.id,
            json!({"email": "ada.admin.set@example.com"}),
            Some(&boss.token),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// For a lost or stolen device: every session of the account ends at once, the
/// account itself is untouched, and the act is in the audit log.
async fn an_admin_ends_every_session_of_a_user_who_can_sign_in_again(backend: Backend) {
    let app = spawn_app(backend).await;
    let boss = TestUser::admin(&app, "boss@example.com").await;
    let ada = TestUser::store(&app, "Ada", "ada@example.com").await;
    let laptop = app.login("ada@example.com", PASSWORD).await;
    let path = format!("/api/users/{}/sessions", ada.id);
    let r = app.call("DELETE", &path, None, Some(&boss.token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"]["ended"], 2);
    for token in [&ada.token, &laptop] {
        app.me(Some(token)).await.assert_error(401, "unauthenticated");
    }
    assert_eq!(app.me(Some(&boss.token)).await.status, 200, "nobody else is signed out");
    app.login("ada@example.com", PASSWORD).await;
    let event = newest_event(&app, "sessions_revoked", &boss.token).await;
    assert_eq!(event["target_email"], "ada@example.com");
    assert_eq!(event["actor_email"], "boss@example.com");
    assert_eq!(event["detail"], "2 ended by an administrator");
    let missing = format!("/api/users/{}/sessions", uuid::Uuid::now_v7());
    app.call("DELETE", &missing, None, Some(&boss.token))
        .await
        .assert_error(404, "not_found");
}

async fn the_last_active_admin_cannot_be_demoted_disabled_or_deleted(backend: Backend) {
    let app = spawn_app(backend).await;
    let boss = TestUser::admin(&app, "boss@example.com").await;
    let path = format!("/api/users/{}", boss.id);
    app.call("PUT", &path, Some(json!({"role": "user"})), Some(&boss.token))
        .await
        .assert_error(409, "last_admin");
    app.call("PUT", &path, Some(json!({"disabled": true})), Some(&boss.token))
        .await
        .assert_error(409, "last_admin");
    app.call("DELETE", &path, Some(json!({"password": PASSWORD})), Some(&boss.token))
        .await
        .assert_error(409, "last_admin");
    assert_eq!(app.me(Some(&boss.token)).await.body["data"]["user"]["role"], "admin");
    // With a second admin, the first may step down.
    let second = TestUser::admin(&app, "second@example.com").await;
    let r = app
        .call("PUT", &path, Some(json!({"role": "user"})), Some(&boss.token))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.update_user(&second.id, json!({"disabled": true}), Some(&second.token))
        .await
        .assert_error(409, "last_admin");
}

async fn deleting_removes_the_user_and_their_sessions(backend: Backend) {
    let app = spawn_app(backend).await;
    let boss = TestUser::admin(&app, "boss@example.com").await;
    let ada = TestUser::store(&app, "Ada", "ada@example.com").await;
    let path = format!("/api/users/{}", ada.id);
    app.call("DELETE", &path, None, Some(&ada.token))
        .await
        .assert_error(422, "validation_failed");
    app.call(
        "DELETE",
        &path,
        Some(json!({"password": "wrong password"})),
        Some(&ada.token),
    )
    .await
    .assert_error(422, "validation_failed");
    let r = app.call("DELETE", &path, None, Some(&boss.token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.me(Some(&ada.token)).await.assert_error(401, "unauthenticated");
    app.call("GET", &path, None, Some(&boss.token))
        .await
        .assert_error(404, "not_found");
    assert_eq!(app.stored_sessions().await.len(), 1, "only the admin's session is left");
}

/// The user page's sessions: listed for an administrator (newest use first), one
/// ended while the others stay, audited with both identities; another account's
/// session id is not found.
async fn an_admin_sees_where_a_user_is_signed_in_and_ends_one_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let boss = TestUser::admin(&app, "boss@example.com").await;
    let ada = TestUser::store(&app, "Ada", "ada@example.com").await;
    let laptop = app.login("ada@example.com", PASSWORD).await;
    let path = format!("/api/users/{}/sessions", ada.id);
    let r = app.call("GET", &path, None, Some(&boss.token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = r.body["data"]["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert!(
        items.iter().all(|s| s["current"] == false),
        "neither is the admin's own"
    );

    // End the one the laptop holds: its id is the newer sign-in's.
    let newest = items
        .iter()
        .max_by_key(|s| s["created_at"].as_str().unwrap().to_owned())
        .unwrap();
    let one = format!("{path}/{}", newest["id"].as_str().unwrap());
    let r = app.call("DELETE", &one, None, Some(&boss.token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.me(Some(&laptop)).await.assert_error(401, "unauthenticated");
    assert_eq!(app.me(Some(&ada.token)).await.status, 200, "the other session stays");
    app.call("DELETE", &one, None, Some(&boss.token))
        .await
        .assert_error(404, "not_found");
    let r = app.call("GET", &path, None, Some(&boss.token)).await;
    assert_eq!(r.body["data"]["items"].as_array().unwrap().len(), 1);

    // The administrator's own session id, named under Ada's account: not hers.
    let own = app
        .call(
            "GET",
            &format!("/api/users/{}/sessions", boss.id),
            None,
            Some(&boss.token),
        )
        .await;
    assert_eq!(
        own.body["data"]["items"][0]["current"], true,
        "the admin's own is marked"
    );
    let boss_session = own.body["data"]["items"][0]["id"].as_str().unwrap().to_owned();
    app.call("DELETE", &format!("{path}/{boss_session}"), None, Some(&boss.token))
        .await
        .assert_error(404, "not_found");
    assert_eq!(app.me(Some(&boss.token)).await.status, 200);

    let event = newest_event(&app, "sessions_revoked", &boss.token).await;
    assert_eq!(event["actor_email"], "boss@example.com");
    assert_eq!(event["target_email"], "ada@example.com");
    assert!(event["detail"].as_str().unwrap().ends_with("ended by an administrator"));
    let missing = format!("/api/users/{}/sessions", uuid::Uuid::now_v7());
    app.call("GET", &missing, None, Some(&boss.token))
        .await
        .assert_error(404, "not_found");
}

/// `?user=` keeps the events an account did or had done to it, and nobody else's.
async fn the_audit_log_filters_to_one_account(backend: Backend) {
    let app = spawn_app(backend).await;
    let boss = TestUser::admin(&app, "boss@example.com").await;
    let ada = TestUser::store(&app, "Ada", "ada@example.com").await;
    TestUser::store(&app, "Bob", "bob@example.com").await;
    app.login_as("ada@example.com", "wrong password here", None).await;
    app.update_user(&ada.id, json!({"email_verified": true}), Some(&boss.token))
        .await;
    let r = app.audit(&format!("user={}", ada.id), Some(&boss.token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = r.body["data"]["items"].as_array().unwrap();
    assert!(items.len() >= 3, "registered, failed sign-in, changed: {items:#?}");
    for event in items {
        let ada_id = json!(ada.id);
        assert!(event["actor_id"] == ada_id || event["target_id"] == ada_id, "{event:#}");
    }
    let actions: Vec<&str> = items.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"sign_in_failed"), "{actions:?}");
    assert!(
        actions
            .iter()
            .any(|a| a.starts_with("user_updated") || a.contains("verified")),
        "{actions:?}"
    );
    app.audit("user=not-an-id", Some(&boss.token))
        .await
        .assert_error(400, "bad_request");
}

async fn bulk(app: &TestApp, action: &str, ids: &[&str], token: &str) -> Reply {
    app.call(
        "POST",
        "/api/users/bulk",
        Some(json!({"action": action, "ids": ids})),
        Some(token),
    )
    .await
}

/// Each selected account goes through its own endpoint's rules: disabling signs
/// out, the caller's own account and a missing one are refused in the report
/// while the rest are done, and the last administrator stays.
async fn a_bulk_action_changes_each_account_by_its_own_rules(backend: Backend) {
    let app = spawn_app(backend).await;
    let boss = TestUser::admin(&app, "boss@example.com").await;
    let ada = TestUser::store(&app, "Ada", "ada@example.com").await;
    let bob = TestUser::store(&app, "Bob", "bob@example.com").await;
    let cy = TestUser::store(&app, "Cy", "cy@example.com").await;
    let nobody = uuid::Uuid::now_v7().to_string();

    let r = bulk(
        &app,
        "disable",
        &[&ada.id, &bob.id, &boss.id, &nobody, &ada.id],
        &boss.token,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let data = &r.body["data"];
    assert_eq!(data["action"], "disable");
    assert_eq!(data["done"], json!([ada.id, bob.id]), "repeats count once");
    let refused = data["refused"].as_array().unwrap();
    assert_eq!(refused.len(), 2, "{refused:#?}");
    assert_eq!(refused[0]["id"], json!(boss.id));
    assert_eq!(refused[0]["code"], "forbidden");
    assert_eq!(refused[0]["email"], "boss@example.com");
    assert_eq!(refused[1]["code"], "not_found");
    assert_eq!(refused[1]["email"], Value::Null);
    for token in [&ada.token, &bob.token] {
        app.me(Some(token)).await.assert_error(401, "unauthenticated");
    }
    app.login_as("ada@example.com", PASSWORD, None)
        .await
        .assert_error(403, "account_disabled");
    assert_eq!(app.me(Some(&cy.token)).await.status, 200, "Cy was not selected");
    assert_eq!(app.me(Some(&boss.token)).await.status, 200);

    let r = bulk(&app, "enable", &[&ada.id, &bob.id], &boss.token).await;
    assert_eq!(r.body["data"]["done"].as_array().unwrap().len(), 2, "{}", r.body);
    let ada_token = app.login("ada@example.com", PASSWORD).await;

    let r = bulk(&app, "sign_out", &[&ada.id, &cy.id], &boss.token).await;
    assert_eq!(r.body["data"]["done"].as_array().unwrap().len(), 2, "{}", r.body);
    for token in [&ada_token, &cy.token] {
        app.me(Some(token)).await.assert_error(401, "unauthenticated");
    }

    // Another administrator can be deleted in bulk; then the last one is refused
    // by the same rule the one-account endpoint applies (here: via a second admin).
    let second = TestUser::admin(&app, "second@example.com").await;
    let r = bulk(&app, "delete", &[&bob.id, &cy.id], &second.token).await;
    assert_eq!(r.body["data"]["done"].as_array().unwrap().len(), 2, "{}", r.body);
    app.get_user(&bob.id, Some(&boss.token))
        .await
        .assert_error(404, "not_found");
    app.update_user(&second.id, json!({"disabled": true}), Some(&boss.token))
        .await;
    let r = bulk(&app, "disable", &[&boss.id], &second.token).await;
    // A disabled admin is signed out: their bulk request is refused outright.
    r.assert_error(401, "unauthenticated");

    let audit = app.audit("action=user_deleted", Some(&boss.token)).await;
    let deleted: Vec<&str> = audit.body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["target_email"].as_str().unwrap())
        .collect();
    assert!(
        deleted.contains(&"bob@example.com") && deleted.contains(&"cy@example.com"),
        "{deleted:?}"
    );
}

async fn a_bulk_action_is_validated_before_anything_changes(backend: Backend) {
    let app = spawn_app(backend).await;
    let boss = TestUser::admin(&app, "boss@example.com").await;
    let ada = TestUser::store(&app, "Ada", "ada@example.com").await;
    let r = bulk(&app, "explode", &[&ada.id], &boss.token).await;
    r.assert_error(422, "validation_failed");
    assert!(r.body["error"]["fields"]["action"].is_string(), "{}", r.body);
    let r = bulk(&app, "disable", &[], &boss.token).await;
    r.assert_error(422, "validation_failed");
    assert!(r.body["error"]["fields"]["ids"].is_string(), "{}", r.body);
    let many: Vec<String> = (0..101).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let r = bulk(&app, "disable", &many, &boss.token).await;
    r.assert_error(422, "validation_failed");
    assert!(
        r.body["error"]["fields"]["ids"].as_str().unwrap().contains("100"),
        "{}",
        r.body
    );
    let r = app
        .call(
            "POST",
            "/api/users/bulk",
            Some(json!({"action": "disable", "ids": ["nope"]})),
            Some(&boss.token),
        )
        .await;
    assert!(matches!(r.status, 400 | 422), "{}", r.body);
    assert_eq!(app.me(Some(&ada.token)).await.status, 200, "nothing changed");
}

/// The admin table without JavaScript: the selected boxes and the action go in one
/// form; without its confirmation box nothing happens, with it the accounts change
/// and the users page shows what was done.
async fn a_plain_form_bulk_action_needs_its_confirmation_and_reports_back(backend: Backend) {
    let app = spawn_app(backend).await;
    let boss = TestUser::admin(&app, "boss@example.com").await;
    let ada = TestUser::store(&app, "Ada", "ada@example.com").await;
    let bob = TestUser::store(&app, "Bob", "bob@example.com").await;
    let fields = [
        ("action", "sign_out"),
        ("ids[]", ada.id.as_str()),
        ("ids[]", bob.id.as_str()),
    ];
    let r = app
        .post_form("/rpc/users/bulk", "/admin/users", &fields, Some(&boss.token))
        .await;
    assert!(r.status == 302 || r.status == 303, "{} {}", r.status, r.body);
    assert_eq!(
        app.me(Some(&ada.token)).await.status,
        200,
        "not confirmed: nothing happened"
    );

    let mut confirmed = fields.to_vec();
    confirmed.push(("confirmed", "true"));
    let r = app
        .post_form("/rpc/users/bulk", "/admin/users", &confirmed, Some(&boss.token))
        .await;
    assert!(r.status == 302 || r.status == 303, "{} {}", r.status, r.body);
    for token in [&ada.token, &bob.token] {
        app.me(Some(token)).await.assert_error(401, "unauthenticated");
    }
    // The report travels to the next page in a sealed cookie.
    let notice = r
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("roster_admin_notice="))
        .and_then(|v| v.split(';').next())
        .expect("the report is kept for the page")
        .to_owned();
    let page = app
        .send(
            app.http
                .get(app.url("/admin/users"))
                .header("cookie", format!("{}={}; {notice}", app.cookie_name, boss.token)),
        )
        .await;
    assert_eq!(page.status, 200);
    let html = page.body.as_str().unwrap_or_default().to_owned();
    assert!(html.contains("Sign out: 2 accounts done, 0 refused."), "{html}");
}
