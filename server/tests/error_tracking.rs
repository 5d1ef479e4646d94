//! Error tracking against a real receiver: a small HTTP server started by the test
//! stands in for Sentry (it takes the envelopes the `sentry` crate posts). A panic
//! and an internal error, each inside a request that carries a session cookie and a
//! password, must arrive as events tagged with the request id, route and release, and
//! hold neither the password, nor the token, nor the cookie.
//!
//! Its own test binary: Sentry's client and the tracing subscriber are process-wide.

use app::error::AppError;
use axum::Router;
use axum::routing::{get, post};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple";
const TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// Accepts HTTP requests and keeps each one's path and body.
fn start_receiver() -> (u16, Arc<Mutex<Vec<(String, String)>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let received: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let store = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let path = request_line.split_whitespace().nth(1).unwrap_or("").to_owned();
            store
                .lock()
                .unwrap()
                .push((path, String::from_utf8_lossy(&body).into_owned()));
            // One request per connection, said so: a client that kept the connection
            // for its next event would send it into a socket this loop has closed.
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
            );
        }
    });
    (port, received)
}

async fn boom() -> &'static str {
    panic!("the handler gave up")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panics_and_internal_errors_reach_the_tracker_tagged_and_without_secrets() {
    let (port, received) = start_receiver();
    let dsn = format!("http://publickey@127.0.0.1:{port}/42");
    let cli = roster::configuration::Cli::try_parse_flags_only(["roster", "--sentry-dsn", &dsn]).unwrap();
    let tracking = roster::error_tracking::init(cli.settings.sentry_dsn.as_deref(), false).unwrap();
    assert!(tracking.enabled());
    let _logs = roster::telemetry::init("info", false, None, 1, true).unwrap();

    // Two handlers that fail the ways production code does, behind the real middleware.
    let routes = Router::new().route("/api/boom", get(boom)).route(
        "/api/fail",
        post(|| async { Err::<(), AppError>(AppError::internal("the database said no")) }),
    );
    let app = roster::startup::with_middleware(routes, &cli.settings, None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .await
            .unwrap()
    });

    let http = reqwest::Client::new();
    let cookie = format!("roster_session={TOKEN}");
    let boom = http
        .get(format!("{base}/api/boom"))
        .header("cookie", &cookie)
        .header("x-request-id", "probe-panic")
        .send()
        .await
        .unwrap();
    assert_eq!(boom.status(), 500);
    let fail = http
        .post(format!("{base}/api/fail?token={TOKEN}"))
        .header("cookie", &cookie)
        .header("x-request-id", "probe-internal")
        .json(&serde_json::json!({"email": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(fail.status(), 500);

    let deadline = Instant::now() + Duration::from_secs(20);
    let events = loop {
        let events: Vec<(String, String)> = received.lock().unwrap().clone();
        if events.len() >= 2 {
            break events;
        }
        assert!(Instant::now() < deadline, "events received: {events:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        events.len(),
        2,
        "one event per failure, not one per log line: {events:#?}"
    );
    for (path, _) in &events {
        assert_eq!(path, "/api/42/envelope/");
    }
    let everything: String = events.iter().map(|(_, body)| body.as_str()).collect();
    for secret in [PASSWORD, TOKEN, "roster_session", "ada@example.com"] {
        assert!(!everything.contains(secret), "{secret} was sent: {everything}");
    }
    let event_of = |id: &str| -> serde_json::Value {
        let body = &events
            .iter()
            .find(|(_, body)| body.contains(id))
            .unwrap_or_else(|| panic!("no event for {id}: {events:#?}"))
            .1;
        // An envelope: a header line, an item header line, then the event.
        serde_json::from_str(body.lines().nth(2).expect("an event item")).unwrap()
    };
    let panic = event_of("probe-panic");
    assert_eq!(panic["tags"]["request_id"], "probe-panic");
    assert_eq!(panic["tags"]["route"], "/api/boom");
    assert_eq!(panic["release"], concat!("roster@", env!("CARGO_PKG_VERSION")));
    assert!(panic.to_string().contains("the handler gave up"));
    let internal = event_of("probe-internal");
    assert_eq!(internal["tags"]["request_id"], "probe-internal");
    assert_eq!(internal["tags"]["route"], "/api/fail");
    // `error` is the protocol's default level, so it may be left out.
    assert!(matches!(internal["level"].as_str(), None | Some("error")), "{internal}");
    assert_eq!(panic["level"], "fatal");
    assert!(internal.to_string().contains("the database said no"));
}
