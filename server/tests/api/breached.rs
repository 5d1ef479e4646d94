//! Breached passwords: refused wherever a password is chosen, by a k-anonymity
//! range service the test runs (the Pwned Passwords protocol) or by hashes imported
//! into the database; never consulted at sign-in; an outage accepted or refused as
//! configured.

use crate::helpers::{Backend, TestUser, free_port, spawn_app_with};
use crate::on_both_backends;
use app::ssr::breached::{BREACHED, sha1_hex};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

on_both_backends!(
    a_listed_password_is_refused_wherever_a_password_is_chosen,
    only_a_five_digit_prefix_leaves_the_server_and_sign_in_never_asks,
    an_outage_accepts_new_passwords_by_default_or_refuses_them_when_configured,
    imported_hashes_are_refused_with_no_service_at_all,
);

/// Listed in the stand-in service, with these breach counts.
const BREACHED_PASSWORDS: &[(&str, u64)] = &[("plinth marrow cobalt", 3), ("quiet harbour lantern", 1)];
/// Sent as padding (count 0): must not count as breached.
const PADDED_PASSWORD: &str = "amber thistle gravel";
const FRESH: &str = "correct horse battery";

/// A range service on a free loopback port that answers `/range/{prefix}` like
/// Pwned Passwords (with padding lines) and remembers every path it was asked.
struct RangeService {
    url: String,
    asked: Arc<Mutex<Vec<String>>>,
    up: Arc<AtomicBool>,
}

#[derive(Clone)]
struct Shared {
    asked: Arc<Mutex<Vec<String>>>,
    /// While false, every range answers 503, as a service in trouble does.
    up: Arc<AtomicBool>,
}

impl RangeService {
    async fn start() -> Self {
        let shared = Shared {
            asked: Arc::default(),
            up: Arc::new(AtomicBool::new(true)),
        };
        let router = axum::Router::new()
            .route("/range/{prefix}", axum::routing::get(range))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self {
            url,
            asked: shared.asked,
            up: shared.up,
        }
    }

    fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

async fn range(State(shared): State<Shared>, Path(prefix): Path<String>) -> (StatusCode, String) {
    shared.asked.lock().unwrap().push(prefix.clone());
    if !shared.up.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, String::new());
    }
    let listed = BREACHED_PASSWORDS
        .iter()
        .map(|(password, count)| (sha1_hex(password), *count))
        .chain([(sha1_hex(PADDED_PASSWORD), 0)]);
    let mut body = String::from("0000000000000000000000000000000000A:0\r\n");
    for (hash, count) in listed {
        if let Some(suffix) = hash.strip_prefix(prefix.as_str()) {
            body.push_str(&format!("{suffix}:{count}\r\n"));
        }
    }
    (StatusCode::OK, body)
}

/// An address nothing listens on: the service is down.
fn closed_port_url() -> String {
    format!("http://127.0.0.1:{}", free_port())
}

fn assert_breached(reply: &crate::helpers::Reply) {
    reply.assert_error(422, "validation_failed");
    assert_eq!(reply.body["error"]["fields"]["password"], BREACHED, "{}", reply.body);
}

async fn a_listed_password_is_refused_wherever_a_password_is_chosen(backend: Backend) {
    let service = RangeService::start().await;
    let app = spawn_app_with(backend, &["--pwned-passwords-url", &service.url]).await;
    let hashed = app.state.hasher.computed();
    let r = app
        .post_json(
            "/api/register",
            json!({"name": "Ada", "email": "ada@example.com", "password": "plinth marrow cobalt"}),
            None,
        )
        .await;
    assert_breached(&r);
    assert_eq!(app.state.hasher.computed(), hashed, "refused before any hashing");
    // A padding line (count 0) is not a breach.
    app.register("Ada", "ada@example.com", PADDED_PASSWORD).await;

    let user = TestUser::generate(&app).await;
    let change = json!({"password": "quiet harbour lantern", "current_password": user.password});
    assert_breached(&app.update_user(&user.id, change, Some(&user.token)).await);

    let admin = TestUser::admin(&app, "boss@example.com").await;
    let create = json!({"name": "Cy", "email": "cy@example.com", "password": "plinth marrow cobalt"});
    assert_breached(&app.create_user(create, Some(&admin.token)).await);
    let reset = json!({"password": "quiet harbour lantern"});
    assert_breached(&app.update_user(&user.id, reset, Some(&admin.token)).await);
    let fine = json!({"name": "Cy", "email": "cy@example.com", "password": "lichen ferry cobble"});
    assert_eq!(app.create_user(fine, Some(&admin.token)).await.status, 201);

    // The command line's create-admin goes through the same check.
    let err = app
        .state
        .users
        .create_or_promote_admin("dee@example.com", "Dee", "plinth marrow cobalt")
        .await
        .unwrap_err();
    assert_eq!(err.code(), "validation_failed");
}

async fn only_a_five_digit_prefix_leaves_the_server_and_sign_in_never_asks(backend: Backend) {
    let service = RangeService::start().await;
    let app = spawn_app_with(backend, &["--pwned-passwords-url", &service.url]).await;
    let user = TestUser::generate(&app).await;
    let asked = service.asked();
    assert_eq!(
        asked,
        vec![sha1_hex(&user.password)[..5].to_owned()],
        "one range, by prefix"
    );
    assert!(
        asked
            .iter()
            .all(|p| p.len() == 5 && p.bytes().all(|b| b.is_ascii_hexdigit()))
    );

    let mut user = user;
    user.log_in(&app).await;
    app.login_as(&user.email, "not the password at all", None)
        .await
        .assert_error(401, "invalid_credentials");
    assert_eq!(service.asked().len(), 1, "sign-in never asks the range service");
}

async fn an_outage_accepts_new_passwords_by_default_or_refuses_them_when_configured(backend: Backend) {
    // Nothing listening: accepted by default, and signing in never needed it.
    let app = spawn_app_with(backend, &["--pwned-passwords-url", &closed_port_url()]).await;
    let mut user = TestUser::generate(&app).await;
    user.log_in(&app).await;

    let service = RangeService::start().await;
    let strict = spawn_app_with(
        backend,
        &[
            "--pwned-passwords-url",
            &service.url,
            "--pwned-passwords-unavailable",
            "refuse",
        ],
    )
    .await;
    let mut user = TestUser::generate(&strict).await;
    service.set_up(false);
    let r = strict
        .post_json(
            "/api/register",
            json!({"name": "Ada", "email": "ada@example.com", "password": FRESH}),
            None,
        )
        .await;
    r.assert_error(503, "unavailable");
    assert!(r.headers.contains_key("retry-after"), "{:?}", r.headers);
    let change = json!({"password": "lichen ferry cobble", "current_password": user.password});
    strict
        .update_user(&user.id, change.clone(), Some(&user.token))
        .await
        .assert_error(503, "unavailable");
    user.log_in(&strict).await;
    service.set_up(true);
    assert_eq!(
        strict.update_user(&user.id, change, Some(&user.token)).await.status,
        200
    );
}

async fn imported_hashes_are_refused_with_no_service_at_all(backend: Backend) {
    let app = spawn_app_with(backend, &[]).await;
    let corpus = format!(
        "{}:12\n{}\nnot a hash\n\n{}:0\n",
        sha1_hex("plinth marrow cobalt"),
        sha1_hex("quiet harbour lantern").to_lowercase(),
        sha1_hex(PADDED_PASSWORD),
    );
    let report = app::ssr::breached::import(&app.db, corpus.as_bytes()).await.unwrap();
    assert_eq!((report.imported, report.skipped), (2, 3));
    // Importing again changes nothing and fails nothing.
    app::ssr::breached::import(&app.db, corpus.as_bytes()).await.unwrap();
    let r = app
        .post_json(
            "/api/register",
            json!({"name": "Ada", "email": "ada@example.com", "password": "quiet harbour lantern"}),
            None,
        )
        .await;
    assert_breached(&r);
    app.register("Ada", "ada@example.com", PADDED_PASSWORD).await;
    assert_eq!(app::ssr::breached::clear(&app.db).await.unwrap(), 2);
    app.register("Bo", "bo@example.com", "quiet harbour lantern").await;
}
