//! Moving in from another system: `POST /api/users/import` (the admin page's
//! server function shares its service) with password hashes made by the real
//! Werkzeug, Django, bcrypt and argon2-cffi libraries
//! (`tests/fixtures/legacy_hashes.json`, from `tests/support/make_legacy_hashes.py`):
//! each account signs in with its old password, and the hash is replaced by
//! Roster's argon2id on the way. An import with any bad row writes nothing.

use crate::helpers::{Backend, TestApp, TestUser, spawn_app};
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(
    imported_accounts_sign_in_with_their_old_passwords_and_are_rehashed,
    an_import_with_a_refused_row_writes_nothing_and_a_dry_run_lists_them,
    only_administrators_import,
);

pub(crate) fn vectors() -> Vec<Value> {
    let raw = include_str!("../fixtures/legacy_hashes.json");
    let parsed: Value = serde_json::from_str(raw).expect("the fixture is JSON");
    parsed["vectors"].as_array().expect("vectors").clone()
}

async fn import(app: &TestApp, admin: &str, body: &str, dry_run: bool) -> crate::helpers::Reply {
    let req = app
        .http
        .post(app.url(&format!("/api/users/import?dry_run={dry_run}")))
        .header("content-type", "text/csv")
        .body(body.to_owned());
    app.send(app.with_session(req, Some(admin))).await
}

async fn stored_hash(app: &TestApp, email: &str) -> String {
    app::ssr::entity::users::find_by_email(&app.db, email)
        .await
        .unwrap()
        .expect("the account exists")
        .password_hash
}

async fn imported_accounts_sign_in_with_their_old_passwords_and_are_rehashed(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = TestUser::admin(&app, "root@example.com").await;
    let admin = app.login(&admin.email, &admin.password).await;
    let vectors = vectors();
    assert!(vectors.len() >= 16, "two per format");
    // JSON lines, as a Django or Flask app's dump script would write them.
    let file: String = vectors
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let line = json!({
                "email": format!("moved{i}@example.com"),
                "name": format!("Moved {i}"),
                "role": "user",
                "created_at": "2021-03-04 05:06:07+00:00",
                "password_hash": v["hash"],
                "email_verified": true,
            });
            format!("{line}\n")
        })
        .collect();
    let reply = import(&app, &admin, &file, false).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["imported"], vectors.len());
    let formats = &reply.body["data"]["hash_formats"];
    for format in ["argon2", "bcrypt", "bcrypt_sha256", "pbkdf2", "scrypt"] {
        assert!(formats[format].as_u64().unwrap_or(0) >= 2, "{format} in {formats}");
    }
    for (i, vector) in vectors.iter().enumerate() {
        let email = format!("moved{i}@example.com");
        let format = vector["format"].as_str().unwrap();
        let password = vector["password"].as_str().unwrap();
        let old = stored_hash(&app, &email).await;
        assert_eq!(old, vector["hash"].as_str().unwrap(), "kept as it came");
        // A wrong password is refused, and leaves the hash alone.
        let wrong = app.login_as(&email, "not the password at all", None).await;
        wrong.assert_error(401, "invalid_credentials");
        assert_eq!(stored_hash(&app, &email).await, old, "{format}");
        // The old password works, and the hash becomes Roster's own.
        let signed_in = app.login_as(&email, password, None).await;
        assert_eq!(signed_in.status, 200, "{format} ({password}): {}", signed_in.body);
        let new = stored_hash(&app, &email).await;
        assert!(new.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{format}: {new}");
        // And keeps working.
        assert_eq!(app.login_as(&email, password, None).await.status, 200, "{format}");
        let user = &signed_in.body["data"]["user"];
        assert_eq!(user["email_verified"], true);
        assert!(user["created_at"].as_str().unwrap().starts_with("2021-03-04T05:06:07"));
    }
    let audit = app.audit("action=password_rehashed&limit=100", Some(&admin)).await;
    assert_eq!(audit.body["data"]["items"].as_array().unwrap().len(), vectors.len());
    let imported = app.audit("action=users_imported", Some(&admin)).await;
    assert!(
        imported.body["data"]["items"][0]["detail"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{} accounts", vectors.len()))
    );
}

async fn an_import_with_a_refused_row_writes_nothing_and_a_dry_run_lists_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = TestUser::admin(&app, "root@example.com").await;
    let admin = app.login(&admin.email, &admin.password).await;
    let bcrypt = vectors().into_iter().find(|v| v["format"] == "bcrypt_2b").unwrap()["hash"]
        .as_str()
        .unwrap()
        .to_owned();
    let file = format!(
        "email,name,role,created_at,password_hash\n\
         ada@example.com,Ada,admin,2020-01-01T00:00:00Z,{bcrypt}\n\
         root@example.com,Taken,user,,\n\
         bob@example.com,Bob,user,,md5$abc$def\n\
         ADA@example.com,Ada Again,user,,\n\
         cy@example.com,Cy,,,\n"
    );
    let before = app.list_users("limit=100", Some(&admin)).await.body["data"]["items"]
        .as_array()
        .unwrap()
        .len();
    let refused = import(&app, &admin, &file, false).await;
    refused.assert_error(422, "import_refused");
    let rows: Vec<(u64, String)> = refused.body["error"]["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["reason"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), [3, 4, 5], "{rows:?}");
    assert!(rows[0].1.contains("already exists"), "{rows:?}");
    assert!(rows[1].1.starts_with("password_hash:"), "{rows:?}");
    assert!(rows[2].1.contains("also on line 2"), "{rows:?}");
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("3 of 5 rows")
    );
    let after = app.list_users("limit=100", Some(&admin)).await.body["data"]["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(after, before, "nothing was written");
    // A dry run reports the same and writes nothing either.
    let dry = import(&app, &admin, &file, true).await;
    assert_eq!(dry.status, 200, "{}", dry.body);
    assert_eq!(dry.body["data"]["dry_run"], true);
    assert_eq!(dry.body["data"]["imported"], 0);
    assert_eq!(dry.body["data"]["refused"].as_array().unwrap().len(), 3);
    // Without the bad rows it goes in whole: roles, times and names as given.
    let good: String = file
        .lines()
        .enumerate()
        .filter(|(i, _)| [0, 1, 5].contains(i))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let done = import(&app, &admin, &good, false).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.body["data"]["imported"], 2);
    let ada = app.list_users("q=ada%40example", Some(&admin)).await.body["data"]["items"][0].clone();
    assert_eq!(ada["role"], "admin");
    assert_eq!(ada["created_at"], "2020-01-01T00:00:00Z");
    // No hash: no password matches until the owner resets it.
    app.login_as("cy@example.com", "", None)
        .await
        .assert_error(422, "validation_failed");
    app.login_as("cy@example.com", "correct horse battery", None)
        .await
        .assert_error(401, "invalid_credentials");
    // Files that cannot be read at all.
    import(&app, &admin, "name,nickname\nA,B\n", false)
        .await
        .assert_error(422, "validation_failed");
    import(&app, &admin, "", false)
        .await
        .assert_error(422, "validation_failed");
}

async fn only_administrators_import(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = TestUser::generate(&app).await;
    let file = "email\nx@example.com\n";
    import(&app, &user.token, file, false)
        .await
        .assert_error(403, "forbidden");
    let anonymous = app
        .send(
            app.http
                .post(app.url("/api/users/import"))
                .header("content-type", "text/csv")
                .body(file),
        )
        .await;
    anonymous.assert_error(401, "unauthenticated");
    // Refused before the body is read (up to 32 MiB of it): a user's file that is
    // not even text is 403, not the 400 an administrator gets for it.
    let not_text = |token: &str| {
        let req = app
            .http
            .post(app.url("/api/users/import"))
            .header("content-type", "text/csv")
            .body(vec![0xff, 0xfe, 0x00]);
        app.send(app.with_session(req, Some(token)))
    };
    not_text(&user.token).await.assert_error(403, "forbidden");
    let admin = TestUser::admin(&app, "boss@example.com").await;
    not_text(&admin.token).await.assert_error(400, "bad_request");
}
