//! The mail worker: every process runs one. It claims the due mails (the outbox
//! decides who gets which), sends each, and marks it sent, puts it back with a
//! backoff, or gives it up after `max_attempts` (or at once on a permanent refusal),
//! with a log line and a metric either way. It survives restarts because all of its
//! state is in the outbox rows.

use super::outbox;
use super::transport::{DeliveryError, Transport};
use crate::ssr::entity::mail_outbox;
use chrono::{Duration, Utc};
use lettre::message::Mailbox;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// How often an idle worker looks for due mail.
pub const POLL_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);
/// How long a claim lasts: longer than an SMTP exchange may take, so a live worker
/// never loses its claim mid-send.
pub const LEASE: Duration = Duration::minutes(2);
/// Mails claimed at once by one worker.
const BATCH: u64 = 16;
/// Sent and given-up mails are kept this long (for support), then forgotten.
pub const KEEP: Duration = Duration::days(30);
/// How often the worker forgets old mails.
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

#[derive(Clone)]
pub struct MailWorker {
    db: DatabaseConnection,
    transport: Arc<Transport>,
    from: Mailbox,
    max_attempts: u32,
}

/// What one pass over the queue did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

impl MailWorker {
    pub fn new(db: DatabaseConnection, transport: Transport, from: Mailbox, max_attempts: u32) -> Self {
        Self {
            db,
            transport: Arc::new(transport),
            from,
            max_attempts: max_attempts.max(1),
        }
    }

    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Sends what is due, pass after pass, until the process stops.
    pub async fn run(self) {
        let mut interval = tokio::time::interval(POLL_INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut pruned_at = tokio::time::Instant::now();
        loop {
            interval.tick().await;
            if pruned_at.elapsed() >= PRUNE_EVERY {
                pruned_at = tokio::time::Instant::now();
                match outbox::prune(&self.db, Utc::now() - KEEP).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(removed = n, "old mails forgotten"),
                    Err(err) => tracing::warn!(error = %err, "old mails could not be forgotten"),
                }
            }
            loop {
                match self.send_due().await {
                    // A full batch: there may be more waiting.
                    Ok(pass) if pass.sent + pass.retried + pass.failed == BATCH as usize => continue,
                    Ok(_) => break,
                    Err(err) => {
                        tracing::warn!(error = %err, "the mail outbox could not be read");
                        break;
                    }
                }
            }
        }
    }

    /// One pass: claims a batch of due mails and delivers each.
    pub async fn send_due(&self) -> Result<Pass, crate::error::AppError> {
        let claimed = outbox::claim_due(&self.db, BATCH, LEASE, Utc::now()).await?;
        let mut pass = Pass::default();
        for mail in claimed {
            match self.transport.send(&self.from, &mail).await {
                Ok(()) => {
                    if outbox::mark_sent(&self.db, &mail, Utc::now()).await? {
                        metrics::counter!("roster_mail_sent_total", "kind" => mail.kind.clone()).increment(1);
                    } else {
                        // Sent, but the claim had lapsed: the log says so, for the rare
                        // duplicate this can mean.
                        tracing::warn!(mail = %mail.id, kind = %mail.kind, "mail sent after its claim lapsed");
                    }
                    pass.sent += 1;
                }
                Err(error) => {
                    if self.give_up(&mail, &error) {
                        outbox::mark_failed(&self.db, &mail, &error.reason).await?;
                        metrics::counter!("roster_mail_failed_total", "kind" => mail.kind.clone()).increment(1);
                        tracing::error!(
                            mail = %mail.id, kind = %mail.kind, attempts = mail.attempts,
                            permanent = error.permanent, error = %error.reason,
                            "mail given up"
                        );
                        pass.failed += 1;
                    } else {
                        let next = Utc::now() + outbox::backoff(mail.attempts);
                        outbox::mark_retry(&self.db, &mail, next, &error.reason).await?;
                        metrics::counter!("roster_mail_retries_total", "kind" => mail.kind.clone()).increment(1);
                        tracing::warn!(
                            mail = %mail.id, kind = %mail.kind, attempts = mail.attempts,
                            retry_at = %next, error = %error.reason,
                            "mail not sent; will retry"
                        );
                        pass.retried += 1;
                    }
                }
            }
        }
        Ok(pass)
    }

    fn give_up(&self, mail: &mail_outbox::Model, error: &DeliveryError) -> bool {
        error.permanent || mail.attempts >= self.max_attempts as i32
    }
}
