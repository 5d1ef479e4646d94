//! The audit log records who did what to whom, is visible to admins only, and
//! never holds a password or a token.

use crate::helpers::{Backend, spawn_app};
use crate::on_both_backends;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

on_both_backends!(security_events_are_audited_without_secrets);

const PASSWORD: &str = "correct horse battery";
const NEW_PASSWORD: &str = "a much better passphrase";

async fn security_events_are_audited_without_secrets(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, boss) = app.register("Boss", "boss@example.com", PASSWORD).await;
    app.make_admin("boss@example.com", "correct horse battery").await;
    let (reply, ada) = app.register("Ada", "ada@example.com", PASSWORD).await;
    let ada_id = reply.body["data"]["user"]["id"].as_str().unwrap().to_owned();
    let wrong = "wrong password guess";
    app.login_as("ada@example.com", wrong, None).await;
    app.login_as("nobody@example.com", wrong, None).await;
    let ada2 = app.login("ada@example.com", PASSWORD).await;
    let path = format!("/api/users/{ada_id}");
    let r = app
        .call(
            "PUT",
            &path,
            Some(json!({"password": NEW_PASSWORD, "current_password": PASSWORD})),
            Some(&ada2),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.update_user(&ada_id, json!({"name": "Ada King"}), Some(&ada2)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ada3 = app.login("ada@example.com", NEW_PASSWORD).await;
    let r = app.rpc("account/sessions/revoke-others", "", &ada3).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .create_user(
            json!({"name": "Cy", "email": "cy@example.com", "password": PASSWORD}),
            Some(&boss),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    app.call("PUT", &path, Some(json!({"role": "admin"})), Some(&boss))
        .await;
    app.call("PUT", &path, Some(json!({"disabled": true})), Some(&boss))
        .await;
    app.call("PUT", &path, Some(json!({"disabled": false})), Some(&boss))
        .await;
    app.call("POST", "/api/logout", None, Some(&boss)).await;
    let boss = app.login("boss@example.com", PASSWORD).await;
    app.call("DELETE", &path, None, Some(&boss)).await;

    // Only admins read it.
    app.audit("", None).await.assert_error(401, "unauthenticated");
    let (_, plain) = app.register("Plain", "plain@example.com", PASSWORD).await;
    app.audit("", Some(&plain)).await.assert_error(403, "forbidden");

    let r = app.audit("limit=100", Some(&boss)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = r.body["data"]["items"].as_array().unwrap();
    let actions: Vec<&str> = items.iter().map(|e| e["action"].as_str().unwrap()).collect();
    for expected in [
        "registered",
        "sign_in_failed",
        "sign_in",
        "password_changed",
        "role_changed",
        "user_disabled",
        "user_enabled",
        "sign_out",
        "user_deleted",
        "profile_updated",
        "user_created",
        "sessions_revoked",
    ] {
        assert!(actions.contains(&expected), "{expected} missing from {actions:?}");
    }
    let deleted = items.iter().find(|e| e["action"] == "user_deleted").unwrap();
    assert_eq!(deleted["actor_email"], "boss@example.com");
    assert_eq!(deleted["target_email"], "ada@example.com");
    assert_eq!(deleted["ip"], "127.0.0.1");
    let profile = items.iter().find(|e| e["action"] == "profile_updated").unwrap();
    assert_eq!(profile["actor_email"], "ada@example.com");
    let created = items.iter().find(|e| e["action"] == "user_created").unwrap();
    assert_eq!(created["actor_email"], "boss@example.com");
    assert_eq!(created["target_email"], "cy@example.com");
    assert_eq!(created["detail"], "role user");
    let revoked = items.iter().find(|e| e["action"] == "sessions_revoked").unwrap();
    assert_eq!(revoked["actor_email"], "ada@example.com");
    assert_eq!(revoked["detail"], "1 other session(s)");
    let role = items.iter().find(|e| e["action"] == "role_changed").unwrap();
    assert_eq!(role["detail"], "user → admin");
    let unknown = items
        .iter()
        .find(|e| e["action"] == "sign_in_failed" && e["target_email"].is_null())
        .unwrap();
    assert!(unknown["detail"].as_str().unwrap().contains("nobody@example.com"));

    // Filters.
    let r = app.audit("action=sign_in_failed", Some(&boss)).await;
    assert!(
        r.body["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"] == "sign_in_failed")
    );
    assert_eq!(r.body["data"]["items"].as_array().unwrap().len(), 2);
    let r = app.audit("q=ADA%40example", Some(&boss)).await;
    assert!(!r.body["data"]["items"].as_array().unwrap().is_empty());
    app.audit("action=nope", Some(&boss))
        .await
        .assert_error(422, "validation_failed");

    // Never a password or a token, in any column.
    let backend = app.db.get_database_backend();
    let rows = app
        .db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT action, COALESCE(actor_email, ''), COALESCE(target_email, ''), COALESCE(ip, ''), \
             COALESCE(detail, '') FROM audit_events",
        ))
        .await
        .unwrap();
    let dump: String = rows
        .iter()
        .map(|row| {
            (0..5)
                .map(|i| row.try_get_by_index::<String>(i).unwrap())
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect::<Vec<_>>()
        .join("\n");
    for secret in [PASSWORD, NEW_PASSWORD, wrong, &ada, &ada2, &ada3, &boss, &plain] {
        assert!(!dump.contains(secret), "audit log holds a secret: {dump}");
    }
}
