//! Read-your-writes with a read replica (`app::ssr::replica`): a request that wrote
//! to the database is answered with a short-lived cookie, and a request that carries
//! it reads from the primary, on whichever instance it lands. Only installed when a
//! replica is configured.

use app::ssr::replica::{RECENT_WRITE_COOKIE, RECENT_WRITE_COOKIE_SECURE, tracking_writes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;
use http::header::SET_COOKIE;
use std::time::Duration;

#[derive(Clone)]
pub struct RecentWrites {
    cookie: HeaderValue,
}

impl RecentWrites {
    /// The cookie lasts `window`; it holds nothing secret (forging it only sends
    /// the forger's own reads to the primary).
    pub fn new(window: Duration, secure: bool) -> Self {
        let (name, secure) = if secure {
            (RECENT_WRITE_COOKIE_SECURE, "; Secure")
        } else {
            (RECENT_WRITE_COOKIE, "")
        };
        let cookie = format!(
            "{name}=1; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            window.as_secs().max(1)
        );
        Self {
            cookie: HeaderValue::try_from(cookie).expect("an ASCII cookie"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_production_the_marker_is_a_secure_host_cookie() {
        let cookie = RecentWrites::new(Duration::from_secs(15), true).cookie;
        assert_eq!(
            cookie,
            "__Host-roster_recent_write=1; Path=/; HttpOnly; SameSite=Lax; Max-Age=15; Secure"
        );
        let cookie = RecentWrites::new(Duration::from_secs(15), false).cookie;
        assert_eq!(
            cookie,
            "roster_recent_write=1; Path=/; HttpOnly; SameSite=Lax; Max-Age=15"
        );
    }
}

pub async fn mark_recent_writes(State(recent): State<RecentWrites>, request: Request, next: Next) -> Response {
    let (mut response, wrote) = tracking_writes(next.run(request)).await;
    if wrote {
        response.headers_mut().append(SET_COOKIE, recent.cookie.clone());
    }
    response
}
