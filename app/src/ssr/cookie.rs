//! The session cookie: how it is written, cleared and read back. And the cookie
//! that carries a mailed link's secret from the link to its form (`link_*`).

use crate::ssr::devices::{DEVICE_LIFETIME, DeviceToken};
use crate::ssr::email_tokens::{LinkSecret, Purpose};
use crate::ssr::sessions::{NewSession, Persistence, SessionToken};
use http::header::{COOKIE, HeaderMap, HeaderValue};

#[derive(Debug, Clone)]
pub struct CookieConfig {
    pub name: String,
    /// Secure cookies are only sent over HTTPS: on in production.
    pub secure: bool,
    pub max_age_secs: i64,
}

const PENDING_SIGN_IN: &str = "roster_pending_sign_in";
const FRESH_CODES: &str = "roster_fresh_codes";
const ADMIN_NOTICE: &str = "roster_admin_notice";
/// The session of an administrator's "view as", beside their own.
const VIEW_AS: &str = "roster_view_as";

/// Sent with a sign-out: the browser drops this site's cookies and storage. Not its
/// cache: signed-in answers are never stored (`Cache-Control: no-store`), and the
/// cache holds only the public, content-hashed client files, which would otherwise
/// be downloaded again at the next visit.
pub const CLEAR_SITE_DATA: (http::HeaderName, HeaderValue) = (
    http::HeaderName::from_static("clear-site-data"),
    HeaderValue::from_static("\"cookies\", \"storage\""),
);

impl CookieConfig {
    /// In production the `__Host-` prefix makes browsers insist on Secure, Path=/
    /// and no Domain, so a sibling subdomain cannot plant or overwrite it.
    pub fn new(production: bool, max_age_secs: i64) -> Self {
        let name = if production {
            "__Host-roster_session"
        } else {
            "roster_session"
        };
        Self {
            name: name.to_owned(),
            secure: production,
            max_age_secs,
        }
    }

    /// `max_age: None` makes a browser-session cookie, dropped when the browser closes.
    fn attributes(&self, max_age: Option<i64>) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        let max_age = max_age.map(|secs| format!("; Max-Age={secs}")).unwrap_or_default();
        format!("Path=/; HttpOnly; SameSite=Lax{max_age}{secure}")
    }

    /// The cookie for a session just started: kept for the session's lifetime if
    /// the person chose to stay signed in, otherwise only until the browser closes.
    pub fn set(&self, session: &NewSession) -> HeaderValue {
        let max_age = match session.persistence {
            Persistence::Remembered => Some(self.max_age_secs),
            Persistence::BrowserSession => None,
        };
        let value = format!("{}={}; {}", self.name, session.token.expose(), self.attributes(max_age));
        HeaderValue::from_str(&value).expect("token and attributes are ASCII")
    }

    /// Every cookie a sign-in sets: the session's and, once sign-in has noted the
    /// browser, its device cookie (refreshed for its whole lifetime).
    pub fn sign_in(&self, session: &NewSession) -> Vec<HeaderValue> {
        let mut cookies = vec![self.set(session)];
        if let Some(device) = &session.device {
            let value = format!(
                "{}={}; {}",
                self.device_name(),
                device.expose(),
                self.attributes(Some(DEVICE_LIFETIME.num_seconds()))
            );
            cookies.push(HeaderValue::from_str(&value).expect("token and attributes are ASCII"));
        }
        cookies
    }

    /// The device cookie outlives sign-outs (it names the browser, not a session)
    /// and is `__Host-` in production, so a sibling subdomain cannot plant a known
    /// device in a victim's browser.
    fn device_name(&self) -> &'static str {
        if self.secure {
            "__Host-roster_device"
        } else {
            "roster_device"
        }
    }

    /// Between asking for a sign-in code and typing it, the page keeps the address
    /// here (hex, so any address is a valid cookie value), for as long as the code
    /// lives, instead of in the URL.
    pub fn set_code_email(&self, email: &str) -> HeaderValue {
        let value = format!(
            "{}={}; {}",
            self.code_email_name(),
            hex::encode(email.trim()),
            self.attributes(Some(crate::ssr::sign_in_code::CODE_TTL.num_seconds()))
        );
        HeaderValue::from_str(&value).expect("hex and attributes are ASCII")
    }

    pub fn clear_code_email(&self) -> HeaderValue {
        let value = format!("{}=; {}", self.code_email_name(), self.attributes(Some(0)));
        HeaderValue::from_str(&value).expect("ASCII")
    }

    pub fn code_email(&self, headers: &HeaderMap) -> Option<String> {
        cookie_value(headers, &self.code_email_name())
            .and_then(|value| hex::decode(value).ok())
            .and_then(|bytes| String::from_utf8(bytes).ok())
    }

    fn code_email_name(&self) -> String {
        self.prefixed("roster_code_email")
    }

    /// A cookie of this app named `name`: `__Host-` in production, like the session's.
    fn prefixed(&self, name: &str) -> String {
        let prefix = if self.secure { "__Host-" } else { "" };
        format!("{prefix}{name}")
    }

    fn short_lived(&self, name: &str, value: &str, max_age_secs: i64) -> HeaderValue {
        let value = format!(
            "{}={value}; {}",
            self.prefixed(name),
            self.attributes(Some(max_age_secs))
        );
        HeaderValue::from_str(&value).expect("value and attributes are ASCII")
    }

    /// An administrator's "view as" session, beside their own (which stays as it
    /// is, to be theirs again when this one ends or is dropped).
    pub fn set_view_as(&self, token: &SessionToken, max_age_secs: i64) -> HeaderValue {
        self.short_lived(VIEW_AS, token.expose(), max_age_secs)
    }

    pub fn clear_view_as(&self) -> HeaderValue {
        self.short_lived(VIEW_AS, "", 0)
    }

    pub fn view_as(&self, headers: &HeaderMap) -> Option<SessionToken> {
        cookie_value(headers, &self.prefixed(VIEW_AS)).and_then(SessionToken::from_cookie)
    }

    /// Between a sign-in's first step and its second factor: the pending sign-in's
    /// token, for as long as it waits. Not a session: nothing else reads it.
    pub fn set_pending_sign_in(&self, token: &SessionToken) -> HeaderValue {
        let ttl = crate::ssr::second_factor::PENDING_TTL.num_seconds();
        self.short_lived(PENDING_SIGN_IN, token.expose(), ttl)
    }

    pub fn clear_pending_sign_in(&self) -> HeaderValue {
        self.short_lived(PENDING_SIGN_IN, "", 0)
    }

    pub fn pending_sign_in(&self, headers: &HeaderMap) -> Option<SessionToken> {
        cookie_value(headers, &self.prefixed(PENDING_SIGN_IN)).and_then(SessionToken::from_cookie)
    }

    /// Recovery codes just made, sealed for their owner (`secret_box`), until the
    /// security page has shown them and they are put away: so a page that works
    /// without JavaScript can show them after a redirect. Ten minutes at most.
    pub fn set_fresh_codes(&self, sealed: &str) -> HeaderValue {
        self.short_lived(FRESH_CODES, sealed, 600)
    }

    pub fn clear_fresh_codes(&self) -> HeaderValue {
        self.short_lived(FRESH_CODES, "", 0)
    }

    pub fn fresh_codes<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        cookie_value(headers, &self.prefixed(FRESH_CODES)).filter(|v| !v.is_empty())
    }

    /// What an admin form just did (an invitation's link, an import's report),
    /// sealed for that administrator, for the page a plain form post returns to.
    /// Read once; ten minutes at most.
    pub fn set_admin_notice(&self, sealed: &str) -> HeaderValue {
        self.short_lived(ADMIN_NOTICE, sealed, 600)
    }

    pub fn clear_admin_notice(&self) -> HeaderValue {
        self.short_lived(ADMIN_NOTICE, "", 0)
    }

    pub fn admin_notice<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        cookie_value(headers, &self.prefixed(ADMIN_NOTICE)).filter(|v| !v.is_empty())
    }

    /// The browser's device cookie, if well-formed.
    pub fn device(&self, headers: &HeaderMap) -> Option<DeviceToken> {
        cookie_value(headers, self.device_name()).and_then(DeviceToken::parse)
    }

    pub fn clear(&self) -> HeaderValue {
        HeaderValue::from_str(&format!("{}=; {}", self.name, self.attributes(Some(0)))).expect("ASCII")
    }

    /// The session token from the request's cookies, if well-formed.
    pub fn token(&self, headers: &HeaderMap) -> Option<SessionToken> {
        cookie_value(headers, &self.name).and_then(SessionToken::from_cookie)
    }

    /// The cookie that holds a link's secret while its page is open: named by the
    /// link's purpose, `__Host-` in production like the session cookie.
    fn link_name(&self, purpose: Purpose) -> String {
        self.prefixed(&format!("roster_link_{}", purpose.as_str()))
    }

    /// Holds a link's secret for `max_age_secs`: long enough to fill in the form
    /// the link leads to.
    pub fn set_link(&self, purpose: Purpose, secret: &LinkSecret, max_age_secs: i64) -> HeaderValue {
        let value = format!(
            "{}={}; {}",
            self.link_name(purpose),
            secret.expose(),
            self.attributes(Some(max_age_secs))
        );
        HeaderValue::from_str(&value).expect("secret and attributes are ASCII")
    }

    /// Forgets a link's secret (once used).
    pub fn clear_link(&self, purpose: Purpose) -> HeaderValue {
        let value = format!("{}=; {}", self.link_name(purpose), self.attributes(Some(0)));
        HeaderValue::from_str(&value).expect("ASCII")
    }

    /// The secret of a link of `purpose` that this browser followed, if it holds one.
    pub fn link_secret(&self, headers: &HeaderMap, purpose: Purpose) -> Option<LinkSecret> {
        cookie_value(headers, &self.link_name(purpose)).and_then(LinkSecret::parse)
    }
}

/// The value of the cookie named `name` in the request's `Cookie` headers.
fn cookie_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_session(persistence: Persistence) -> NewSession {
        NewSession {
            token: SessionToken::generate(),
            persistence,
            device: None,
        }
    }

    #[test]
    fn development_cookie_is_httponly_lax_and_not_secure() {
        let cfg = CookieConfig::new(false, 60);
        let set = cfg.set(&new_session(Persistence::Remembered));
        let s = set.to_str().unwrap();
        assert!(s.starts_with("roster_session="));
        assert!(s.contains("HttpOnly") && s.contains("SameSite=Lax") && s.contains("Max-Age=60"));
        assert!(!s.contains("Secure"));
    }

    #[test]
    fn production_cookie_is_secure_with_host_prefix() {
        for persistence in [Persistence::Remembered, Persistence::BrowserSession] {
            let s = CookieConfig::new(true, 60)
                .set(&new_session(persistence))
                .to_str()
                .unwrap()
                .to_owned();
            assert!(
                s.starts_with("__Host-roster_session=") && s.ends_with("; Secure"),
                "{s}"
            );
        }
    }

    #[test]
    fn only_a_remembered_session_has_a_lasting_cookie() {
        let cfg = CookieConfig::new(false, 60);
        let remembered = cfg.set(&new_session(Persistence::Remembered));
        assert!(remembered.to_str().unwrap().contains("; Max-Age=60"));
        let browser = cfg.set(&new_session(Persistence::BrowserSession));
        let browser = browser.to_str().unwrap();
        assert!(
            !browser.contains("Max-Age") && !browser.contains("Expires"),
            "{browser}"
        );
        assert!(browser.ends_with("Path=/; HttpOnly; SameSite=Lax"), "{browser}");
    }

    #[test]
    fn reads_the_token_among_other_cookies() {
        let cfg = CookieConfig::new(false, 60);
        let token = SessionToken::generate();
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_str(&format!("a=1; roster_session={}; b=2", token.expose())).unwrap(),
        );
        assert_eq!(cfg.token(&headers), Some(token));
        headers.insert(COOKIE, HeaderValue::from_static("roster_session=garbage"));
        assert_eq!(cfg.token(&headers), None);
    }

    #[test]
    fn a_noted_browser_gets_a_lasting_httponly_device_cookie() {
        let cfg = CookieConfig::new(true, 60);
        let mut session = new_session(Persistence::BrowserSession);
        assert_eq!(
            cfg.sign_in(&session).len(),
            1,
            "no device cookie before sign-in notes the browser"
        );
        let device = DeviceToken::generate();
        session.device = Some(device.clone());
        let cookies = cfg.sign_in(&session);
        let set = cookies[1].to_str().unwrap();
        assert!(
            set.starts_with(&format!("__Host-roster_device={}", device.expose())),
            "{set}"
        );
        assert!(
            set.contains("HttpOnly") && set.contains("Max-Age=34560000") && set.ends_with("; Secure"),
            "{set}"
        );
        let mut headers = HeaderMap::new();
        let cookie = format!(
            "roster_device={}; __Host-roster_device={}",
            DeviceToken::generate().expose(),
            device.expose()
        );
        headers.insert(COOKIE, HeaderValue::from_str(&cookie).unwrap());
        assert_eq!(
            cfg.device(&headers),
            Some(device),
            "only the prefixed name counts in production"
        );
    }

    #[test]
    fn the_address_a_code_was_asked_for_round_trips_through_its_cookie() {
        let cfg = CookieConfig::new(false, 60);
        let set = cfg.set_code_email(" a;b@example.com ");
        let set = set.to_str().unwrap();
        assert!(set.contains("HttpOnly") && set.contains("Max-Age=600"), "{set}");
        let pair = set.split(';').next().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(pair).unwrap());
        assert_eq!(cfg.code_email(&headers).as_deref(), Some("a;b@example.com"));
    }

    #[test]
    fn the_pending_sign_in_cookie_is_short_lived_and_separate_from_the_session() {
        let cfg = CookieConfig::new(true, 60);
        let token = SessionToken::generate();
        let set = cfg.set_pending_sign_in(&token);
        let set = set.to_str().unwrap();
        assert!(set.starts_with("__Host-roster_pending_sign_in="), "{set}");
        assert!(
            set.contains("HttpOnly") && set.contains("Max-Age=300") && set.ends_with("; Secure"),
            "{set}"
        );
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(set.split(';').next().unwrap()).unwrap());
        assert_eq!(cfg.pending_sign_in(&headers), Some(token));
        assert_eq!(cfg.token(&headers), None, "a pending sign-in is not a session");
        assert!(cfg.clear_pending_sign_in().to_str().unwrap().contains("Max-Age=0"));
    }

    #[test]
    fn clearing_expires_immediately() {
        let s = CookieConfig::new(false, 60).clear().to_str().unwrap().to_owned();
        assert!(s.starts_with("roster_session=;") && s.contains("Max-Age=0"));
    }
}
