//! Where the links in mail land. A link carries its secret in the query
//! (`/password/reset?token=…`), and a secret left in the address bar leaks: into
//! the history, into the `Referer` of whatever the page loads next, into a
//! screenshot. So before any page renders, the secret moves into a short-lived
//! HttpOnly cookie (`CookieConfig::set_link`) and the browser goes (303) to the same
//! page without it; that answer itself sends `Referrer-Policy: no-referrer`. The
//! page's form then posts with the cookie, and works without JavaScript.

use app::paths;
use app::ssr::cookie::CookieConfig;
use app::ssr::email_tokens::{LinkSecret, Purpose};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, LOCATION, REFERRER_POLICY, SET_COOKIE};
use http::{HeaderValue, Method, StatusCode};

/// How long the secret waits in its cookie for the form to be sent.
const FORM_WINDOW_SECS: i64 = 60 * 60;

/// The page each kind of link leads to.
fn purpose_of(path: &str) -> Option<Purpose> {
    match path {
        paths::RESET_PASSWORD => Some(Purpose::PasswordReset),
        paths::VERIFY_EMAIL => Some(Purpose::VerifyEmail),
        paths::CHANGE_EMAIL => Some(Purpose::EmailChange),
        paths::REVERT_EMAIL => Some(Purpose::EmailRevert),
        _ => None,
    }
}

#[derive(serde::Deserialize)]
struct LinkQuery {
    token: Option<String>,
}

/// The `token` of a request's query string, if there is one.
fn token_in(uri: &http::Uri) -> Option<String> {
    axum::extract::Query::<LinkQuery>::try_from_uri(uri)
        .ok()
        .and_then(|query| query.0.token)
}

pub async fn land_links(State(cookies): State<CookieConfig>, request: Request, next: Next) -> Response {
    let landing = (request.method() == Method::GET)
        .then(|| purpose_of(request.uri().path()))
        .flatten()
        .and_then(|purpose| Some((purpose, token_in(request.uri())?)));
    let Some((purpose, token)) = landing else {
        return next.run(request).await;
    };
    // The same page, without the secret in its address (the path is one of the
    // constants `purpose_of` matched, so it is a valid header value).
    let location = HeaderValue::from_str(request.uri().path()).expect("a page's path");
    // A malformed secret is not kept: the page then says the link is not valid.
    let cookie = match LinkSecret::parse(&token) {
        Some(secret) => cookies.set_link(purpose, &secret, FORM_WINDOW_SECS),
        None => cookies.clear_link(purpose),
    };
    (
        StatusCode::SEE_OTHER,
        [
            (LOCATION, location),
            (SET_COOKIE, cookie),
            (REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_link_pages_land_and_only_their_token_is_read() {
        assert_eq!(purpose_of("/password/reset"), Some(Purpose::PasswordReset));
        assert_eq!(purpose_of("/email/verify"), Some(Purpose::VerifyEmail));
        assert_eq!(purpose_of("/email/change"), Some(Purpose::EmailChange));
        assert_eq!(purpose_of("/email/revert"), Some(Purpose::EmailRevert));
        assert_eq!(purpose_of("/login"), None);
        let uri = |s: &str| s.parse::<http::Uri>().unwrap();
        assert_eq!(
            token_in(&uri("/password/reset?a=1&token=abc%20d")),
            Some("abc d".to_owned())
        );
        assert_eq!(token_in(&uri("/password/reset?tokens=abc")), None);
        assert_eq!(token_in(&uri("/password/reset")), None);
    }
}
