//! The browsers an account signs in from. Each browser holds a long-lived, HttpOnly
//! device cookie (a random name, not a fingerprint); each account lists the SHA-256
//! of the device cookies it has signed in with. A sign-in from a browser the account
//! has not used before mails its owner a notice with the time, the IP and the browser,
//! and a link to the page where they can end that session.
//!
//! No notice goes out for an account's first browser (nothing to compare with: a new
//! account, or the first sign-in after this feature arrived); nor when the account
//! noted a browser with the same IP and user agent within the hour (most likely the
//! same person in a client that keeps no cookies, such as a script, which would
//! otherwise flood the inbox); nor when signing in by registering or with a reset
//! link (the mailbox itself just proved it is the owner's).

use crate::error::AppError;
use crate::model::AuditAction;
use crate::ssr::audit::AuditLog;
use crate::ssr::caller::ClientMeta;
use crate::ssr::entity::known_devices::{self, Column, Entity};
use crate::ssr::entity::users;
use crate::ssr::mail::{Action, Mail, MailSettings, outbox};
use crate::ssr::sessions::{NewSession, Persistence, SessionService, SessionToken};
use chrono::{DateTime, Duration, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

/// How long a browser keeps its device cookie, and an account its entry: the
/// longest cookie lifetime browsers honour (400 days).
pub const DEVICE_LIFETIME: Duration = Duration::days(400);

/// Within this of noting a browser, a new one with the same IP and user agent sends
/// no notice.
const QUIET_PERIOD: Duration = Duration::hours(1);

/// The device cookie's value: 256 random bits, hex, like a session token. Never
/// stored (only its hash) or logged.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceToken(SessionToken);

impl std::fmt::Debug for DeviceToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceToken(<redacted>)")
    }
}

impl DeviceToken {
    pub fn generate() -> Self {
        Self(SessionToken::generate())
    }

    /// Accepts only the shape `generate` produces.
    pub fn parse(raw: &str) -> Option<Self> {
        SessionToken::from_cookie(raw).map(Self)
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    fn hash(&self) -> String {
        self.0.hash()
    }
}

/// Whether a sign-in from a new browser should tell the account's owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notify {
    /// A sign-in with a password or an emailed code.
    Yes,
    /// The account was just made here, or its password was just reset by mail.
    No,
}

#[derive(Clone)]
pub struct KnownDevices {
    db: DatabaseConnection,
    mail: MailSettings,
    audit: AuditLog,
    sessions: SessionService,
}

/// What became of a sign-in from a browser the account had not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NewBrowser {
    NoticeQueued,
    FirstBrowser,
    SameClientRecently,
    NotNotified,
}

impl NewBrowser {
    fn detail(self) -> &'static str {
        match self {
            Self::NoticeQueued => "notice mailed",
            Self::FirstBrowser => "the account's first browser: no notice",
            Self::SameClientRecently => "no notice: a browser with this IP and user agent was noted within the hour",
            Self::NotNotified => "no notice: signed in by registering or with a reset link",
        }
    }
}

impl KnownDevices {
    pub fn new(db: DatabaseConnection, mail: MailSettings, audit: AuditLog, sessions: SessionService) -> Self {
        Self {
            db,
            mail,
            audit,
            sessions,
        }
    }

    /// How every sign-in ends, once the credentials, link or code checked out: a
    /// new session for the account in this browser, and the browser noted (its
    /// device cookie rides on the session). Noted only once the session exists, so a
    /// sign-in refused on the way (the session store unreachable) leaves no trace of
    /// a new browser.
    pub async fn start_session(
        &self,
        account: &users::Model,
        client: &ClientMeta,
        persistence: Persistence,
        notify: Notify,
    ) -> Result<NewSession, AppError> {
        let mut session = self.sessions.start(account.id, client, persistence).await?;
        session.device = Some(self.signed_in(account, client, notify).await?);
        Ok(session)
    }

    /// Notes the browser for the account (and queues the notice if it is new to it).
    /// Returns the device cookie's value to set again, refreshing its lifetime: the
    /// browser's own, or a new one.
    async fn signed_in(
        &self,
        account: &users::Model,
        client: &ClientMeta,
        notify: Notify,
    ) -> Result<DeviceToken, AppError> {
        let now = Utc::now();
        let device = client.device.clone().unwrap_or_else(DeviceToken::generate);
        let hash = device.hash();
        let seen_before = Entity::update_many()
            .col_expr(Column::LastSeenAt, Expr::value(now))
            .filter(Column::UserId.eq(account.id))
            .filter(Column::DeviceHash.eq(hash.as_str()))
            .exec(&self.db)
            .await?
            .rows_affected;
        if seen_before > 0 {
            return Ok(device);
        }
        let Some(outcome) = self.note_new(account, client, &hash, notify, now).await? else {
            // Another request from this browser noted it first.
            return Ok(device);
        };
        let who = Some((account.id, account.email.as_str()));
        self.audit
            .record(
                AuditAction::NewDevice,
                None,
                who,
                client,
                Some(outcome.detail().to_owned()),
            )
            .await;
        Ok(device)
    }

    /// Lists the browser for the account and, in the same transaction, queues the
    /// notice. `None` if a concurrent sign-in from the same browser listed it first.
    async fn note_new(
        &self,
        account: &users::Model,
        client: &ClientMeta,
        hash: &str,
        notify: Notify,
        now: DateTime<Utc>,
    ) -> Result<Option<NewBrowser>, AppError> {
        let id = Uuid::now_v7();
        let user_agent = client
            .user_agent
            .as_deref()
            .map(|ua| ua.chars().take(512).collect::<String>());
        let row = known_devices::ActiveModel {
            id: Set(id),
            user_id: Set(account.id),
            device_hash: Set(hash.to_owned()),
            ip: Set(client.ip.clone()),
            user_agent: Set(user_agent.clone()),
            created_at: Set(now),
            last_seen_at: Set(now),
        };
        // The insert is the transaction's first statement (SQLite then takes its
        // write lock at once); the unique index settles a race between two sign-ins.
        let txn = crate::ssr::db::begin_write(&self.db).await?;
        match Entity::insert(row).exec_without_returning(&txn).await {
            Ok(_) => {}
            Err(err) if matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
                txn.rollback().await?;
                return Ok(None);
            }
            Err(err) => return Err(err.into()),
        }
        let others = Entity::find()
            .filter(Column::UserId.eq(account.id))
            .filter(Column::Id.ne(id));
        let outcome = if notify == Notify::No {
            NewBrowser::NotNotified
        } else if others.clone().count(&txn).await? == 0 {
            NewBrowser::FirstBrowser
        } else if same_browser_recently(others, client, user_agent.as_deref(), now)
            .count(&txn)
            .await?
            > 0
        {
            NewBrowser::SameClientRecently
        } else {
            outbox::enqueue(&txn, &self.compose(account, client, now)?).await?;
            NewBrowser::NoticeQueued
        };
        txn.commit().await?;
        Ok(Some(outcome))
    }

    fn compose(&self, account: &users::Model, client: &ClientMeta, at: DateTime<Utc>) -> Result<Mail, AppError> {
        let product = &self.mail.product;
        let mut content = self.mail.content(
            format!("New sign-in to your {product} account"),
            format!("Hello {},", account.name),
        );
        content.paragraphs = vec![
            format!(
                "Your {product} account {} was just signed in to from a browser it has not used before.",
                account.email
            ),
            format!("When: {}", at.format("%Y-%m-%d %H:%M UTC")),
            format!("IP address: {}", client.ip.as_deref().unwrap_or("unknown")),
            format!("Browser: {}", crate::user_agent::describe(client.user_agent.as_deref())),
        ];
        content.action = Some(Action {
            label: "See where you are signed in".into(),
            url: self.mail.link(crate::paths::ACCOUNT_SESSIONS),
        });
        content.after = vec![
            "If this was you, there is nothing to do.".into(),
            "If it was not, sign that session out on the page above and change your password.".into(),
        ];
        Mail::compose("new_device", &account.email, &content)
    }
}

/// The account's other browsers first listed within the quiet period from the same
/// IP and browser.
fn same_browser_recently(
    others: sea_orm::Select<Entity>,
    client: &ClientMeta,
    user_agent: Option<&str>,
    now: DateTime<Utc>,
) -> sea_orm::Select<Entity> {
    let others = others.filter(Column::CreatedAt.gt(now - QUIET_PERIOD));
    let others = match client.ip.as_deref() {
        Some(ip) => others.filter(Column::Ip.eq(ip)),
        None => others.filter(Column::Ip.is_null()),
    };
    match user_agent {
        Some(ua) => others.filter(Column::UserAgent.eq(ua)),
        None => others.filter(Column::UserAgent.is_null()),
    }
}

/// Forgets browsers not seen for the device cookie's lifetime (their cookie is gone).
/// Run with the session sweep.
pub async fn sweep<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> Result<u64, AppError> {
    Ok(Entity::delete_many()
        .filter(Column::LastSeenAt.lt(now - DEVICE_LIFETIME))
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_token_says_nothing_in_debug_output_and_parses_only_its_own_shape() {
        let token = DeviceToken::generate();
        assert_eq!(format!("{token:?}"), "DeviceToken(<redacted>)");
        assert_eq!(DeviceToken::parse(token.expose()), Some(token.clone()));
        assert!(DeviceToken::parse("not-a-token").is_none());
        assert_ne!(token.hash(), token.expose(), "only the hash is stored");
    }
}
