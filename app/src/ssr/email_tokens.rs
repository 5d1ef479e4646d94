//! One-time secrets sent by mail: the link that proves an address, the link that
//! resets a password. Each is 256 random bits; only its SHA-256 is stored, so a copy
//! of the database opens nothing. A secret is used at most once (one UPDATE marks
//! it, so two requests racing with the same link cannot both win), expires, and is
//! void once a newer one of the same kind is issued to the account.

use crate::error::AppError;
use crate::model::AuditAction;
use crate::ssr::audit::AuditLog;
use crate::ssr::caller::ClientMeta;
use crate::ssr::devices::KnownDevices;
use crate::ssr::entity::email_tokens::{self, Column, Entity};
use crate::ssr::entity::users;
use crate::ssr::mail::{Mail, MailSettings, outbox};
use crate::ssr::sessions::SessionService;
use crate::ssr::sessions::SessionToken;
use crate::ssr::throttle::LoginThrottle;
use crate::validation::Email;
use chrono::{DateTime, Duration, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter};
use uuid::Uuid;

/// What a secret opens. Stored as text; a secret of one kind never opens another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Proves the account's address (after registration or a change of address).
    VerifyEmail,
    /// Sets a new password without the old one.
    PasswordReset,
    /// Makes a requested new address the account's (sent to the new address).
    EmailChange,
    /// Puts the old address back and ends every session (sent to the old address
    /// when a change takes effect).
    EmailRevert,
    /// Signs in without the password: 8 digits, stored as an argon2 hash
    /// (`sign_in_code`), not a link.
    SignInCode,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::PasswordReset => "password_reset",
            Self::EmailChange => "email_change",
            Self::EmailRevert => "email_revert",
            Self::SignInCode => "sign_in_code",
        }
    }
}

/// The secret itself, as it goes into a link: the same shape as a session token
/// (256 random bits, hex). Never stored or logged.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkSecret(SessionToken);

impl std::fmt::Debug for LinkSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSecret(<redacted>)")
    }
}

impl LinkSecret {
    pub fn generate() -> Self {
        Self(SessionToken::generate())
    }

    /// Accepts only the shape `generate` produces, so junk costs no lookup.
    pub fn parse(raw: &str) -> Option<Self> {
        SessionToken::from_cookie(raw.trim()).map(Self)
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// What is stored of it.
    pub fn hash(&self) -> String {
        self.0.hash()
    }
}

/// Why a secret opened nothing. Said in the audit log, never to the client (which
/// learns only that the link is not valid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not a secret of this kind that was ever issued, or void since.
    Unknown,
    Used,
    Expired,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Used => "already used",
            Self::Expired => "expired",
        }
    }
}

/// A secret that was refused, with the account it belonged to when that is known.
#[derive(Debug)]
pub struct Refused {
    pub reason: Refusal,
    pub token: Option<email_tokens::Model>,
}

/// What every flow that mails a link needs, shared by `EmailVerification`,
/// `PasswordReset` and `EmailChange`.
#[derive(Clone)]
pub struct LinkServices {
    pub db: DatabaseConnection,
    pub mail: MailSettings,
    pub throttle: LoginThrottle,
    pub audit: AuditLog,
    pub sessions: SessionService,
    /// Signing in with a reset link or a code notes the browser.
    pub devices: KnownDevices,
}

/// What became of a visitor's request for mail (a reset link, a sign-in code), for
/// its `…_requests_total{outcome}` counter: the visitor is answered the same in
/// every case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requested {
    Sent,
    NoAccount,
    Disabled,
    Failed,
}

impl Requested {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::NoAccount => "no_account",
            Self::Disabled => "disabled",
            Self::Failed => "failed",
        }
    }
}

impl LinkServices {
    /// A visitor asks for mail to `email` ("I forgot my password", "mail me a code"):
    /// counted against the address and the IP (an account or not), then answered at
    /// once. Only afterwards, in a task of its own, is the address looked up and, if
    /// an active account has it, `send` run with that account: neither the answer's
    /// body, its status nor its timing says whether an account exists. `metric`
    /// counts what became of each request.
    pub async fn answer_then_mail<F, Fut>(
        &self,
        email: Email,
        client: &ClientMeta,
        metric: &'static str,
        send: F,
    ) -> Result<(), AppError>
    where
        F: FnOnce(users::Model, ClientMeta) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<(), AppError>> + Send,
    {
        let keys = self.throttle.mail_keys(email.as_str(), client.ip.as_deref());
        self.throttle.check(&keys).await?;
        self.throttle.record_failure(&keys).await?;
        let (db, client) = (self.db.clone(), client.clone());
        tokio::spawn(async move {
            let outcome = async {
                let Some(account) = users::find_by_email(&db, email.as_str()).await? else {
                    return Ok(Requested::NoAccount);
                };
                if account.disabled {
                    return Ok(Requested::Disabled);
                }
                send(account, client).await?;
                Ok::<_, AppError>(Requested::Sent)
            }
            .await
            .unwrap_or(Requested::Failed);
            metrics::counter!(metric, "outcome" => outcome.as_str()).increment(1);
        });
        Ok(())
    }

    /// Stores a secret of `purpose` for the account by its hash (a newer one voids the
    /// older) and queues the mail that carries it, in one transaction, so there is
    /// never one without the other; then audits `token_issued`.
    pub async fn issue_and_mail(
        &self,
        account: &users::Model,
        purpose: Purpose,
        ttl: Duration,
        token_hash: String,
        mail: &Mail,
        client: &ClientMeta,
    ) -> Result<(), AppError> {
        let txn = crate::ssr::db::begin_write(&self.db).await?;
        issue_hashed(&txn, account.id, purpose, &account.email, ttl, token_hash).await?;
        outbox::enqueue(&txn, mail).await?;
        txn.commit().await?;
        let detail = Some(purpose.as_str().to_owned());
        self.audit
            .record(
                AuditAction::TokenIssued,
                None,
                Some((account.id, &account.email)),
                client,
                detail,
            )
            .await;
        Ok(())
    }

    /// How this request's links of `purpose` are opened, and refused.
    pub fn refusals<'a>(&'a self, client: &'a ClientMeta, purpose: Purpose) -> RefusedLinks<'a> {
        RefusedLinks {
            throttle: &self.throttle,
            audit: &self.audit,
            client,
            purpose,
        }
    }
}

/// Links that open nothing, for one kind of link and one request: counted against
/// the client's IP (past the limit, every link is refused for a while, before any
/// lookup) and written to the audit log with the reason, which the client never
/// learns.
pub struct RefusedLinks<'a> {
    pub throttle: &'a LoginThrottle,
    pub audit: &'a AuditLog,
    pub client: &'a ClientMeta,
    pub purpose: Purpose,
}

impl RefusedLinks<'_> {
    /// `RateLimited` while the client's IP is locked out.
    pub async fn check(&self) -> Result<(), AppError> {
        let keys = self.throttle.link_keys(self.client.ip.as_deref());
        self.throttle.check(&keys).await
    }

    /// Opens the link whose secret is `raw`, in a new transaction on `db`: the
    /// client's IP is checked, the secret used up (the transaction's first write) and
    /// its account read. A refusal rolls the transaction back, releasing its lock,
    /// before it is counted and audited. The caller commits what it then writes.
    pub async fn open(&self, db: &DatabaseConnection, raw: &str, now: DateTime<Utc>) -> Result<Opened, AppError> {
        self.check().await?;
        let Some(secret) = LinkSecret::parse(raw) else {
            return Err(self.refuse("malformed", None).await);
        };
        let txn = crate::ssr::db::begin_write(db).await?;
        let token = match redeem(&txn, self.purpose, &secret, now).await? {
            Ok(token) => token,
            Err(why) => {
                txn.rollback().await?;
                let whose = why.token.as_ref().map(|t| (t.user_id, t.email.as_str()));
                return Err(self.refuse(why.reason.as_str(), whose).await);
            }
        };
        let Some(account) = users::Entity::find_by_id(token.user_id).one(&txn).await? else {
            txn.rollback().await?;
            return Err(self.refuse("account deleted", None).await);
        };
        Ok(Opened { txn, token, account })
    }

    /// Counts and records one refusal; the error to answer with.
    pub async fn refuse(&self, reason: &str, whose: Option<(Uuid, &str)>) -> AppError {
        let keys = self.throttle.link_keys(self.client.ip.as_deref());
        if let Err(err) = self.throttle.record_failure(&keys).await {
            return err;
        }
        let detail = Some(format!("{}: {reason}", self.purpose.as_str()));
        self.audit
            .record(AuditAction::TokenRefused, None, whose, self.client, detail)
            .await;
        AppError::InvalidToken
    }
}

/// A link just opened: its transaction (holding the write that used it up), the
/// secret's row, and the account it belongs to.
pub struct Opened {
    pub txn: DatabaseTransaction,
    pub token: email_tokens::Model,
    pub account: users::Model,
}

/// Issues a new secret of `purpose` for the account, sent to `email`, valid for
/// `ttl`; every earlier unused one of the same purpose becomes void. Pass the
/// transaction that also queues the mail carrying it.
pub async fn issue<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    purpose: Purpose,
    email: &str,
    ttl: Duration,
) -> Result<LinkSecret, AppError> {
    let secret = LinkSecret::generate();
    issue_hashed(db, user_id, purpose, email, ttl, secret.hash()).await?;
    Ok(secret)
}

/// Stores a new secret of `purpose` by its hash (`issue` for links; a sign-in code
/// brings its own argon2 hash); every earlier unused one of the purpose is void.
pub async fn issue_hashed<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    purpose: Purpose,
    email: &str,
    ttl: Duration,
    token_hash: String,
) -> Result<(), AppError> {
    void(db, user_id, purpose).await?;
    let now = Utc::now();
    let row = email_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        purpose: Set(purpose.as_str().to_owned()),
        token_hash: Set(token_hash),
        email: Set(email.to_owned()),
        created_at: Set(now),
        expires_at: Set(now + ttl),
        used_at: Set(None),
        attempts: Set(0),
    };
    Entity::insert(row).exec_without_returning(db).await?;
    Ok(())
}

/// The secret's row if it would be accepted now, without using it: for checks that
/// come before the work a secret pays for (hashing a new password).
pub async fn check<C: ConnectionTrait>(
    db: &C,
    purpose: Purpose,
    secret: &LinkSecret,
    now: DateTime<Utc>,
) -> Result<Result<email_tokens::Model, Refused>, AppError> {
    let found = Entity::find()
        .filter(Column::TokenHash.eq(secret.hash()))
        .filter(Column::Purpose.eq(purpose.as_str()))
        .one(db)
        .await?;
    Ok(match found {
        None => Err(Refused {
            reason: Refusal::Unknown,
            token: None,
        }),
        Some(token) if token.used_at.is_some() => Err(Refused {
            reason: Refusal::Used,
            token: Some(token),
        }),
        Some(token) if token.expires_at <= now => Err(Refused {
            reason: Refusal::Expired,
            token: Some(token),
        }),
        Some(token) => Ok(token),
    })
}

/// Uses the secret: accepted once, by whichever request marks it first. The mark
/// is the first statement, so a transaction begins by writing (SQLite then waits its
/// turn instead of failing a read-then-write upgrade) and two requests racing with
/// one link cannot both win; only a refusal reads, to say why.
pub async fn redeem<C: ConnectionTrait>(
    db: &C,
    purpose: Purpose,
    secret: &LinkSecret,
    now: DateTime<Utc>,
) -> Result<Result<email_tokens::Model, Refused>, AppError> {
    let hash = secret.hash();
    let marked = Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(now))
        .filter(Column::TokenHash.eq(hash.as_str()))
        .filter(Column::Purpose.eq(purpose.as_str()))
        .filter(Column::UsedAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .exec(db)
        .await?
        .rows_affected;
    if marked == 0 {
        return check(db, purpose, secret, now).await.map(|checked| match checked {
            // Marked by another request between the two statements.
            Ok(token) => Err(Refused {
                reason: Refusal::Used,
                token: Some(token),
            }),
            refused => refused,
        });
    }
    let token = Entity::find()
        .filter(Column::TokenHash.eq(hash))
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("a token marked used could not be read back"))?;
    Ok(Ok(token))
}

/// Voids the account's unused secrets of `purpose` (a newer one was issued, the
/// password changed, the account was disabled).
pub async fn void<C: ConnectionTrait>(db: &C, user_id: Uuid, purpose: Purpose) -> Result<u64, AppError> {
    Ok(Entity::delete_many()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::Purpose.eq(purpose.as_str()))
        .filter(Column::UsedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// Deletes what can never be used again: used or expired for a day. Run with the
/// session sweep; it only reclaims space (expiry is checked on every use).
pub async fn sweep<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> Result<u64, AppError> {
    Ok(Entity::delete_many()
        .filter(Column::ExpiresAt.lt(now - Duration::days(1)))
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_says_nothing_in_debug_output_and_parses_only_its_own_shape() {
        let secret = LinkSecret::generate();
        assert_eq!(format!("{secret:?}"), "LinkSecret(<redacted>)");
        assert_eq!(LinkSecret::parse(secret.expose()), Some(secret.clone()));
        assert_eq!(
            LinkSecret::parse(&format!(" {} ", secret.expose())),
            Some(secret.clone())
        );
        assert!(LinkSecret::parse("short").is_none());
        assert!(LinkSecret::parse(&"z".repeat(64)).is_none());
        assert_ne!(secret.hash(), secret.expose(), "only the hash is stored");
        assert_ne!(LinkSecret::generate(), secret);
    }
}
