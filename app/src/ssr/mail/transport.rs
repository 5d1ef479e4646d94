//! How a mail leaves: over SMTP (`lettre`), or, with no SMTP configured, as an
//! `.eml` file under the mail directory, so every flow works on a machine with
//! nothing installed. In development the file's links are also logged, so a person
//! trying Roster locally can follow them from the terminal; in production they never
//! are (a link carries a token, and tokens stay out of logs).

use crate::ssr::entity::mail_outbox;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;

/// How long one SMTP exchange may take; the worker's lease is longer.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Directory { dir: PathBuf, log_links: bool },
}

/// Why a delivery failed, and whether trying again could help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryError {
    pub reason: String,
    /// A 5xx answer (the address does not exist, the message is refused): retrying
    /// would get the same answer.
    pub permanent: bool,
}

impl DeliveryError {
    fn retryable(reason: impl std::fmt::Display) -> Self {
        Self {
            reason: reason.to_string(),
            permanent: false,
        }
    }
}

impl Transport {
    /// SMTP from `smtp://user:pass@host:port[?tls=required|opportunistic]` or
    /// `smtps://…` (implicit TLS).
    /// The error never repeats the URL, which may hold a password.
    pub fn smtp(url: &str) -> Result<Self, String> {
        const EXPECTED: &str =
            "ROSTER_SMTP_URL: expected smtp://USER:PASS@HOST:PORT[?tls=required] or smtps://USER:PASS@HOST:PORT";
        let mailer = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|_| EXPECTED.to_owned())?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Self::Smtp(mailer))
    }

    pub fn directory(dir: PathBuf, log_links: bool) -> Self {
        Self::Directory { dir, log_links }
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Smtp(_) => "smtp".into(),
            Self::Directory { dir, .. } => format!("files in {}", dir.display()),
        }
    }

    pub async fn send(&self, from: &Mailbox, mail: &mail_outbox::Model) -> Result<(), DeliveryError> {
        let message = message(from, mail)?;
        match self {
            Self::Smtp(mailer) => match mailer.send(message).await {
                Ok(_) => Ok(()),
                Err(err) => Err(DeliveryError {
                    permanent: err.is_permanent(),
                    reason: err.to_string(),
                }),
            },
            Self::Directory { dir, log_links } => {
                let path = write_eml(dir, mail, &message.formatted())
                    .await
                    .map_err(DeliveryError::retryable)?;
                if *log_links {
                    // A mail without a link (a sign-in code, a notice) is named by its file.
                    if links(&mail.body_text).next().is_none() {
                        tracing::info!(to = %mail.recipient, kind = %mail.kind, file = %path.display(), "mail written (no SMTP configured)");
                    }
                    for link in links(&mail.body_text) {
                        tracing::info!(to = %mail.recipient, kind = %mail.kind, %link, file = %path.display(), "mail written (no SMTP configured)");
                    }
                }
                Ok(())
            }
        }
    }
}

fn message(from: &Mailbox, mail: &mail_outbox::Model) -> Result<Message, DeliveryError> {
    let to: Mailbox = mail.recipient.parse().map_err(|e| DeliveryError {
        reason: format!("not a deliverable address: {e}"),
        permanent: true,
    })?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(&mail.subject)
        .message_id(None)
        .multipart(MultiPart::alternative_plain_html(
            mail.body_text.clone(),
            mail.body_html.clone(),
        ))
        .map_err(|e| DeliveryError {
            reason: format!("the message cannot be built: {e}"),
            permanent: true,
        })
}

/// Writes the message beside a temporary name and renames it into place, so a
/// reader never sees half a file; named by time and id, so `ls` lists them in order.
async fn write_eml(dir: &std::path::Path, mail: &mail_outbox::Model, bytes: &[u8]) -> std::io::Result<PathBuf> {
    tokio::fs::create_dir_all(dir).await?;
    let name = format!("{}-{}.eml", mail.created_at.format("%Y%m%dT%H%M%S"), mail.id);
    let path = dir.join(&name);
    let partial = dir.join(format!(".{name}.partial"));
    tokio::fs::write(&partial, bytes).await?;
    tokio::fs::rename(&partial, &path).await?;
    Ok(path)
}

/// The links in a plain-text body: every word that starts with http:// or https://.
fn links(text: &str) -> impl Iterator<Item = &str> {
    text.split_whitespace()
        .filter(|word| word.starts_with("https://") || word.starts_with("http://"))
}

/// `ROSTER_MAIL_FROM` as a mailbox (`Name <address>` or a bare address).
pub fn parse_from(raw: &str) -> Result<Mailbox, String> {
    raw.trim()
        .parse::<Mailbox>()
        .map_err(|e| format!("expected an address like \"Roster <roster@example.com>\": {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn row(recipient: &str) -> mail_outbox::Model {
        mail_outbox::Model {
            id: uuid::Uuid::now_v7(),
            kind: "test".into(),
            recipient: recipient.into(),
            subject: "Héllo <there>".into(),
            body_text: "Follow https://example.com/verify?token=abc to go on.".into(),
            body_html: "<p>Follow <a href=\"https://example.com/verify?token=abc\">this</a>.</p>".into(),
            state: "queued".into(),
            attempts: 1,
            created_at: Utc::now(),
            next_attempt_at: Utc::now(),
            locked_until: None,
            claim: None,
            sent_at: None,
            last_error: None,
        }
    }

    #[test]
    fn a_message_has_a_text_and_an_html_part() {
        let from = parse_from("Roster <roster@example.com>").unwrap();
        let bytes = message(&from, &row("ada@example.com")).unwrap().formatted();
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("multipart/alternative"), "{text}");
        assert!(text.contains("text/plain") && text.contains("text/html"), "{text}");
        assert!(
            text.contains("Message-ID:") && text.contains("To: ada@example.com"),
            "{text}"
        );
    }

    #[test]
    fn a_line_break_in_a_subject_or_an_address_adds_no_header() {
        let from = parse_from("Roster <roster@example.com>").unwrap();
        let mut mail = row("ada@example.com");
        mail.subject = "Hello\r\nBcc: victim@example.com".into();
        let bytes = message(&from, &mail).unwrap().formatted();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.lines().any(|line| line.starts_with("Bcc:")),
            "the subject stays one (encoded) header: {text}"
        );
        let smuggled = row("ada@example.com\r\nBcc: victim@example.com");
        assert!(message(&from, &smuggled).is_err(), "not an address");
    }

    #[test]
    fn an_undeliverable_address_is_a_permanent_failure() {
        let from = parse_from("roster@example.com").unwrap();
        let err = message(&from, &row("not an address")).unwrap_err();
        assert!(err.permanent, "{err:?}");
    }

    #[test]
    fn links_are_found_in_the_text() {
        let found: Vec<_> = links("Go to https://a.example/x?token=1 or http://b.example now").collect();
        assert_eq!(found, ["https://a.example/x?token=1", "http://b.example"]);
    }

    #[tokio::test]
    async fn a_bad_smtp_url_is_refused_without_repeating_it() {
        for bad in [
            "http://u:secret@mail.example.com",
            "smtp://u:secret@mail.example.com:587?tls=sometimes",
        ] {
            let err = Transport::smtp(bad).err().expect("refused");
            assert!(err.contains("ROSTER_SMTP_URL") && !err.contains("secret"), "{err}");
        }
        assert!(Transport::smtp("smtps://u:p@mail.example.com:465").is_ok());
        assert!(Transport::smtp("smtp://127.0.0.1:2525").is_ok());
    }

    #[test]
    fn the_sender_must_be_an_address() {
        assert!(parse_from("Roster <roster@example.com>").is_ok());
        assert!(parse_from("no at sign").is_err());
    }

    #[tokio::test]
    async fn without_smtp_each_mail_is_a_file() {
        let dir = std::env::temp_dir().join(format!("roster-mail-{}", uuid::Uuid::new_v4().simple()));
        let transport = Transport::directory(dir.clone(), false);
        let from = parse_from("roster@example.com").unwrap();
        let mail = row("ada@example.com");
        transport.send(&from, &mail).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(files.len(), 1, "{files:?}");
        let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.ends_with(&format!("-{}.eml", mail.id)), "{name}");
        let eml = std::fs::read_to_string(&files[0]).unwrap();
        assert!(eml.contains("To: ada@example.com"), "{eml}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
