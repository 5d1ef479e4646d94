//! A bare axum server that answers `GET /api/me` with a fixed JSON body from an
//! in-memory map keyed by the session cookie, and 401 without a known cookie.
//! `bench/run` measures Roster's authenticated reads as a fraction of this, in the
//! same run on the same machine, so the ratio survives a noisy host.
//!
//! Usage: roster-bench-baseline ADDR COOKIE_NAME COOKIE_VALUE BODY_FILE

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::collections::HashMap;
use std::sync::Arc;

struct Sessions {
    cookie_name: String,
    bodies: HashMap<String, Bytes>,
}

async fn me(State(sessions): State<Arc<Sessions>>, headers: HeaderMap) -> Response {
    let body = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == sessions.cookie_name)
        .and_then(|(_, value)| sessions.bodies.get(value));
    match body {
        Some(body) => ([(header::CONTENT_TYPE, "application/json")], body.clone()).into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, addr, cookie_name, cookie_value, body_file] = args.as_slice() else {
        eprintln!("usage: roster-bench-baseline ADDR COOKIE_NAME COOKIE_VALUE BODY_FILE");
        std::process::exit(2);
    };
    let body = std::fs::read(body_file).expect("readable body file");
    let sessions = Arc::new(Sessions {
        cookie_name: cookie_name.clone(),
        bodies: HashMap::from([(cookie_value.clone(), Bytes::from(body))]),
    });
    let app = Router::new().route("/api/me", get(me)).with_state(sessions);
    let listener = tokio::net::TcpListener::bind(addr.as_str())
        .await
        .expect("bindable address");
    axum::serve(listener, app).await.expect("serving");
}
