//! Mail: what a message says (`Content`, rendered from the templates in
//! `app/templates/mail/` into a plain-text and an HTML part), how it is queued with
//! the change that causes it (`outbox`), how it leaves (`transport`), and the worker
//! that sends what is queued (`worker`).

pub mod outbox;
pub mod transport;
pub mod worker;

use crate::error::AppError;
use askama::Template;

/// A mail ready to queue: both parts rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// What it is for (`verify_email`, `password_reset`, …), for metrics and support.
    pub kind: &'static str,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What a mail says. Every mail has this one shape (a greeting, paragraphs, at most
/// one action, closing lines), so every mail looks alike and its HTML is escaped by
/// one template; no remote image or stylesheet is ever referenced.
#[derive(Debug, Clone, Default)]
pub struct Content {
    pub product: String,
    pub subject: String,
    pub greeting: String,
    pub paragraphs: Vec<String>,
    pub action: Option<Action>,
    /// After the action: why the person got this mail, what to do if it was not them.
    pub after: Vec<String>,
}

/// The one thing a mail asks the reader to do: a button in HTML, a line in text.
#[derive(Debug, Clone)]
pub struct Action {
    pub label: String,
    pub url: String,
}

#[derive(Template)]
#[template(path = "mail/message.txt")]
struct TextPart<'a> {
    c: &'a Content,
}

#[derive(Template)]
#[template(path = "mail/message.html")]
struct HtmlPart<'a> {
    c: &'a Content,
}

impl Mail {
    pub fn compose(kind: &'static str, to: &str, content: &Content) -> Result<Self, AppError> {
        let text = TextPart { c: content }.render().map_err(AppError::internal)?;
        let html = HtmlPart { c: content }.render().map_err(AppError::internal)?;
        Ok(Self {
            kind,
            to: to.to_owned(),
            subject: content.subject.clone(),
            text,
            html,
        })
    }
}

/// Mail for the services: what composing needs, and the worker that sends (which
/// `run_until_stopped` starts, and tests drive directly).
#[derive(Clone)]
pub struct MailService {
    pub settings: MailSettings,
    pub worker: worker::MailWorker,
}

/// What every mail needs from the deployment: the product's name and the public
/// address its links start with.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `ROSTER_PRODUCT_NAME`.
    pub product: String,
    /// `ROSTER_PUBLIC_URL`, without a trailing slash.
    pub public_url: String,
}

impl MailSettings {
    /// An absolute link to `path` (which starts with `/`) on this deployment.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }

    /// A content skeleton with the product name filled in.
    pub fn content(&self, subject: impl Into<String>, greeting: impl Into<String>) -> Content {
        Content {
            product: self.product.clone(),
            subject: subject.into(),
            greeting: greeting.into(),
            ..Content::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content() -> Content {
        let settings = MailSettings {
            product: "Acme <Accounts>".into(),
            public_url: "https://accounts.example.com".into(),
        };
        let mut content = settings.content("Confirm your address", "Hello <b>Ada</b>,");
        content.paragraphs = vec!["Please confirm this is your address & inbox.".into()];
        content.action = Some(Action {
            label: "Confirm my address".into(),
            url: settings.link("/verify?token=abc&x=1"),
        });
        content.after = vec!["If this was not you, ignore this mail.".into()];
        content
    }

    #[test]
    fn the_text_part_is_plain_and_carries_the_link_on_its_own_line() {
        let mail = Mail::compose("test", "ada@example.com", &content()).unwrap();
        assert!(mail.text.starts_with("Hello <b>Ada</b>,\n"), "{}", mail.text);
        assert!(
            mail.text
                .contains("\nhttps://accounts.example.com/verify?token=abc&x=1\n"),
            "{}",
            mail.text
        );
        assert!(mail.text.contains("Please confirm this is your address & inbox."));
        assert!(mail.text.trim_end().ends_with("Acme <Accounts>"), "{}", mail.text);
        assert_eq!(mail.subject, "Confirm your address");
    }

    #[test]
    fn the_html_part_escapes_everything_and_loads_nothing_remote() {
        let mail = Mail::compose("test", "ada@example.com", &content()).unwrap();
        assert!(mail.html.contains("Hello &#60;b&#62;Ada&#60;/b&#62;,"), "{}", mail.html);
        assert!(mail.html.contains("Acme &#60;Accounts&#62;"), "{}", mail.html);
        assert!(mail.html.contains("address &#38; inbox"), "{}", mail.html);
        assert!(
            mail.html
                .contains("href=\"https://accounts.example.com/verify?token=abc&#38;x=1\""),
            "{}",
            mail.html
        );
        assert!(!mail.html.contains("<b>"), "no markup from the content survives");
        assert!(
            !mail.html.contains("<img") && !mail.html.contains("<link"),
            "nothing remote"
        );
    }

    #[test]
    fn a_mail_without_an_action_has_no_button() {
        let mut content = content();
        content.action = None;
        let mail = Mail::compose("test", "ada@example.com", &content).unwrap();
        assert!(!mail.html.contains("<a "), "{}", mail.html);
        assert!(!mail.text.contains("https://"), "{}", mail.text);
    }
}
