//! Error tracking with Sentry, when `SENTRY_DSN` is set: every internal error (each
//! is logged at `error` level where it happens) and every panic becomes an event,
//! tagged with the request id and route of the request it happened in and with the
//! release (`roster@<version>`). Nothing that identifies a session or a person is
//! sent: no request headers, cookies, body or query, no user, no client address.
//!
//! The `sentry` crate (0.46: its reqwest 0.12 transport over rustls with ring, the TLS
//! stack Roster already builds, where later versions need a second HTTP client and a
//! second crypto library) does the work: the event format, a background sender with
//! a bounded queue, panic capture. Sending never blocks a request.

use sentry::protocol::Event;
use std::sync::Arc;

/// Keeps the Sentry client; dropping it sends what is queued (for up to 2 s).
pub struct ErrorTracking(#[allow(dead_code)] Option<sentry::ClientInitGuard>);

impl ErrorTracking {
    pub fn enabled(&self) -> bool {
        self.0.is_some()
    }
}

/// Starts error tracking if a DSN is given; a malformed DSN is a configuration error.
pub fn init(dsn: Option<&str>, production: bool) -> Result<ErrorTracking, String> {
    let Some(dsn) = dsn.map(str::trim).filter(|d| !d.is_empty()) else {
        return Ok(ErrorTracking(None));
    };
    let dsn: sentry::types::Dsn = dsn
        .parse()
        .map_err(|e| format!("invalid SENTRY_DSN: {e} (expected https://KEY@HOST/PROJECT)"))?;
    let guard = sentry::init(sentry::ClientOptions {
        dsn: Some(dsn),
        release: Some(concat!("roster@", env!("CARGO_PKG_VERSION")).into()),
        environment: Some(if production { "production" } else { "development" }.into()),
        send_default_pii: false,
        attach_stacktrace: true,
        before_send: Some(Arc::new(scrub)),
        ..Default::default()
    });
    Ok(ErrorTracking(Some(guard)))
}

/// What leaves the process: the error, where it happened, the request id and route.
fn scrub(mut event: Event<'static>) -> Option<Event<'static>> {
    if let Some(request) = &mut event.request {
        request.cookies = None;
        request.headers.clear();
        request.data = None;
        request.query_string = None;
        request.env.clear();
    }
    event.user = None;
    event.breadcrumbs.values.clear();
    Some(event)
}

/// The tracing layer that turns `error` events into Sentry events (and nothing else:
/// no breadcrumbs, no spans). A handler's panic is logged at `error` too, under the
/// `roster::panic` target; the panic itself is already an event, so that line is not.
pub fn tracing_layer<S>() -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use sentry::integrations::tracing::EventFilter;
    sentry::integrations::tracing::layer()
        .event_filter(|metadata| {
            if *metadata.level() == tracing::Level::ERROR && metadata.target() != PANIC_TARGET {
                EventFilter::Event
            } else {
                EventFilter::Ignore
            }
        })
        .span_filter(|_| false)
}

/// The log target of a caught handler panic.
pub const PANIC_TARGET: &str = "roster::panic";

/// Runs a request with its own Sentry scope, tagged with its id and route, so an
/// event raised while it runs (an internal error, a panic) says which request.
pub async fn in_request_scope<F: Future>(request_id: Option<&str>, route: &str, request: F) -> F::Output {
    use sentry::SentryFutureExt;
    let hub = Arc::new(sentry::Hub::new_from_top(sentry::Hub::current()));
    hub.configure_scope(|scope| {
        if let Some(id) = request_id {
            scope.set_tag("request_id", id);
        }
        scope.set_tag("route", route);
    });
    request.bind_hub(hub).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_dsn_is_a_configuration_error_and_none_is_off() {
        assert!(init(Some("not a dsn"), false).is_err());
        assert!(!init(None, false).unwrap().enabled());
        assert!(!init(Some("  "), false).unwrap().enabled());
    }

    #[test]
    fn scrubbing_leaves_no_cookie_header_body_or_user() {
        let mut event = Event::default();
        event.request = Some(sentry::protocol::Request {
            cookies: Some("roster_session=secret".into()),
            headers: [("cookie".to_owned(), "roster_session=secret".to_owned())].into(),
            data: Some(r#"{"password":"hunter2"}"#.into()),
            query_string: Some("token=secret".into()),
            ..Default::default()
        });
        event.user = Some(sentry::protocol::User {
            email: Some("ada@example.com".into()),
            ..Default::default()
        });
        let event = scrub(event).unwrap();
        let json = serde_json::to_string(&event).unwrap();
        for secret in ["secret", "hunter2", "ada@example.com"] {
            assert!(!json.contains(secret), "{secret} in {json}");
        }
    }
}
