//! `/.well-known/security.txt` (RFC 9116): where to report a vulnerability. Served
//! only when `ROSTER_SECURITY_CONTACT` is set (an address nobody reads would be
//! worse than none); `Expires` is a year ahead of each response, so a deployment
//! that stays up never serves a stale file, and the canonical URL is the public one.

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::header::CONTENT_TYPE;

#[derive(Debug, Clone)]
pub struct SecurityTxt {
    contacts: Vec<String>,
    policy: Option<String>,
}

impl SecurityTxt {
    /// None without a contact.
    pub fn new(contacts: &[String], policy: Option<&str>) -> Option<Self> {
        (!contacts.is_empty()).then(|| Self {
            contacts: contacts.to_vec(),
            policy: policy.map(str::to_owned),
        })
    }

    fn render(&self, now: chrono::DateTime<chrono::Utc>) -> String {
        let mut text = String::new();
        for contact in &self.contacts {
            text.push_str(&format!("Contact: {contact}\n"));
        }
        let expires = now + chrono::Duration::days(365);
        text.push_str(&format!(
            "Expires: {}\n",
            expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
        if let Some(policy) = &self.policy {
            text.push_str(&format!("Policy: {policy}\n"));
        }
        text.push_str("Preferred-Languages: en\n");
        text
    }
}

pub fn router<S: Clone + Send + Sync + 'static>(file: SecurityTxt) -> Router<S> {
    Router::new().route(
        "/.well-known/security.txt",
        get(move || {
            let file = file.clone();
            async move { serve(&file) }
        }),
    )
}

fn serve(file: &SecurityTxt) -> Response {
    (
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        file.render(chrono::Utc::now()),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_contact_an_expiry_a_year_ahead_and_the_policy() {
        let file = SecurityTxt::new(
            &[
                "mailto:security@example.com".into(),
                "https://example.com/report".into(),
            ],
            Some("https://example.com/disclosure"),
        )
        .unwrap();
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            file.render(now),
            "Contact: mailto:security@example.com\nContact: https://example.com/report\n\
             Expires: 2027-11-30T10:00:00Z\nPolicy: https://example.com/disclosure\nPreferred-Languages: en\n"
        );
        assert!(SecurityTxt::new(&[], None).is_none(), "no contact, no file");
    }
}
