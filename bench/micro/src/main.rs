//! Times, in-process, the per-request work a running server cannot do without:
//! reading the session cookie and hashing its token (every authenticated request),
//! and serializing `/api/me`'s envelope. Prints one `name ns_per_op` line each, for
//! bench/run's per-request cost table. Release build only.

use app::model::{Role, User, UserData};
use app::ssr::cookie::CookieConfig;
use app::ssr::http::Envelope;
use app::ssr::sessions::SessionToken;
use http::header::{COOKIE, HeaderMap, HeaderValue};
use std::hint::black_box;
use std::time::Instant;

/// Runs `op` until about half a second has passed; returns nanoseconds per call.
fn time(mut op: impl FnMut()) -> f64 {
    for _ in 0..10_000 {
        op();
    }
    let mut calls = 0u64;
    let started = Instant::now();
    while started.elapsed().as_millis() < 500 {
        for _ in 0..1_000 {
            op();
        }
        calls += 1_000;
    }
    started.elapsed().as_nanos() as f64 / calls as f64
}

fn main() {
    let cookies = CookieConfig::new(false, 3600);
    let token = SessionToken::generate();
    let mut headers = HeaderMap::new();
    let cookie = format!("theme=dark; {}={}; other=1", cookies.name, token.expose());
    headers.insert(COOKIE, HeaderValue::from_str(&cookie).expect("ASCII"));
    let read_and_hash = time(|| {
        let token = cookies.token(black_box(&headers)).expect("the cookie is there");
        black_box(token.hash());
    });
    println!("cookie_and_token_hash {read_and_hash:.0}");

    let now = chrono::Utc::now();
    let user = User {
        id: uuid::Uuid::now_v7(),
        email: "ada.lovelace.123456@seed.example.com".into(),
        name: "Ada Lovelace 123456".into(),
        role: Role::User,
        disabled: false,
        email_verified: true,
        created_at: now,
        updated_at: now,
        approval_pending: false,
        role_expires_at: None,
    };
    let envelope = time(|| {
        let body = serde_json::to_vec(&Envelope::ok(UserData {
            user: black_box(user.clone()),
        }))
        .expect("serializes");
        black_box(body);
    });
    println!("envelope_serialization {envelope:.0}");
}
