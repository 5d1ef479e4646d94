//! Proving an address: a link sent to it after registration and after a change of
//! address, and the one request that follows it. The link's secret is one of
//! `email_tokens`; the mail is queued in the transaction that makes the address
//! the account's, so there is never an unproven address without a link on its way.

use crate::error::AppError;
use crate::model::{AuditAction, User};
use crate::policy::{Action as Permission, Target, authorize};
use crate::ssr::caller::{Caller, ClientMeta};
use crate::ssr::email_tokens::{self, LinkSecret, LinkServices, Opened, Purpose};
use crate::ssr::entity::users;
use crate::ssr::mail::{Action, Mail, outbox};
use crate::validation::VerifyEmailInput;
use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, IntoActiveModel};

/// Where a verification link leads; `?token=` carries the secret.
pub const LINK_PATH: &str = crate::paths::VERIFY_EMAIL;

#[derive(Clone)]
pub struct EmailVerification {
    deps: LinkServices,
    /// How long a link stays valid (`ROSTER_VERIFY_TTL`).
    ttl: Duration,
}

impl EmailVerification {
    pub fn new(deps: LinkServices, ttl: Duration) -> Self {
        Self { deps, ttl }
    }

    /// Issues a link for the account's current address and queues the mail carrying
    /// it, through `txn`: the transaction that gave the account this address. Record
    /// it with `record_sent` once that transaction commits.
    pub async fn queue<C: ConnectionTrait>(&self, txn: &C, account: &users::Model) -> Result<(), AppError> {
        let secret = email_tokens::issue(txn, account.id, Purpose::VerifyEmail, &account.email, self.ttl).await?;
        outbox::enqueue(txn, &self.compose(account, &secret)?).await?;
        Ok(())
    }

    /// The audit line for a link queued by `queue`.
    pub async fn record_sent(&self, account: &users::Model, actor: Option<uuid::Uuid>, client: &ClientMeta) {
        self.deps
            .audit
            .record(
                AuditAction::TokenIssued,
                actor,
                Some((account.id, &account.email)),
                client,
                Some(Purpose::VerifyEmail.as_str().to_owned()),
            )
            .await;
    }

    fn compose(&self, account: &users::Model, secret: &LinkSecret) -> Result<Mail, AppError> {
        let product = &self.deps.mail.product;
        let mut content = self.deps.mail.content(
            format!("Confirm your address for {product}"),
            format!("Hello {},", account.name),
        );
        content.paragraphs = vec![format!(
            "Please confirm that {} is your address, so that {product} can reach you about your account \
             (a forgotten password, a sign-in from a new device).",
            account.email
        )];
        content.action = Some(Action {
            label: "Confirm my address".into(),
            url: self.deps.mail.link(&format!("{LINK_PATH}?token={}", secret.expose())),
        });
        content.after = vec![
            format!("The link works once, for {} hours.", self.ttl.num_hours()),
            format!("If you did not make an account at {product}, ignore this mail: nothing happens without the link."),
        ];
        Mail::compose("verify_email", &account.email, &content)
    }

    /// A new link for the caller's own address ("send it again"): counted against
    /// the address and the IP like every mail a visitor can cause.
    pub async fn resend(&self, caller: &Caller) -> Result<(), AppError> {
        authorize(caller.actor, Permission::ResendVerification, Target::Myself)?;
        let me = caller.user.as_ref().ok_or(AppError::Unauthenticated)?;
        if me.email_verified {
            return Err(AppError::bad_request("Your address is confirmed already."));
        }
        let keys = self.deps.throttle.mail_keys(&me.email, caller.client.ip.as_deref());
        self.deps.throttle.check(&keys).await?;
        self.deps.throttle.record_failure(&keys).await?;
        let account = users::Entity::find_by_id(me.id)
            .one(&self.deps.db)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let txn = crate::ssr::db::begin_write(&self.deps.db).await?;
        self.queue(&txn, &account).await?;
        txn.commit().await?;
        self.record_sent(&account, Some(account.id), &caller.client).await;
        Ok(())
    }

    /// Follows a link: the account's address is proven if the link is valid and the
    /// address is still the one it was sent to.
    pub async fn verify(&self, input: &VerifyEmailInput, client: &ClientMeta) -> Result<User, AppError> {
        let links = self.deps.refusals(client, Purpose::VerifyEmail);
        let now = Utc::now();
        let Opened { txn, token, account } = links.open(&self.deps.db, &input.token, now).await?;
        if !account.email.eq_ignore_ascii_case(&token.email) {
            txn.rollback().await?;
            let whose = Some((account.id, account.email.as_str()));
            return Err(links.refuse("the address changed since", whose).await);
        }
        let newly_verified = account.email_verified_at.is_none();
        let account = if newly_verified {
            let mut row = account.into_active_model();
            row.email_verified_at = Set(Some(now));
            row.update(&txn).await?
        } else {
            account
        };
        txn.commit().await?;
        // Cached copies of the account still say "unverified".
        self.deps.sessions.cache().forget_user(account.id).await;
        let who = Some((account.id, account.email.as_str()));
        let detail = Some(Purpose::VerifyEmail.as_str().to_owned());
        self.deps
            .audit
            .record(AuditAction::TokenUsed, None, who, client, detail)
            .await;
        if newly_verified {
            self.deps
                .audit
                .record(AuditAction::EmailVerified, None, who, client, None)
                .await;
        }
        Ok(account.to_user())
    }
}
