//! Changing one's own address, the sign-in identifier and the way back into an
//! account. A session alone (left open, stolen) must not be able to move the
//! account to another inbox, so a change asked for with the current password takes
//! effect only when the link mailed to the new address is followed. When it does,
//! the old address gets a notice with a link that puts it back and ends every
//! session, valid for a week: the owner of the old inbox can undo a takeover.

use crate::error::{AppError, UniqueViolation};
use crate::model::{AuditAction, User};
use crate::ssr::caller::ClientMeta;
use crate::ssr::email_tokens::{self, LinkSecret, LinkServices, Opened, Purpose};
use crate::ssr::entity::users;
use crate::ssr::mail::{Action, Mail, outbox};
use crate::validation::VerifyEmailInput;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, IntoActiveModel};

/// How long the old address can undo a change.
pub const REVERT_TTL: Duration = Duration::days(7);

#[derive(Clone)]
pub struct EmailChange {
    deps: LinkServices,
    /// How long the link to the new address stays valid (`ROSTER_VERIFY_TTL`).
    ttl: Duration,
}

impl EmailChange {
    pub fn new(deps: LinkServices, ttl: Duration) -> Self {
        Self { deps, ttl }
    }

    /// Asks for the change: a link to the new address, queued through `txn` (the
    /// update that the caller's password authorised). Nothing else changes yet.
    pub async fn request<C: ConnectionTrait>(
        &self,
        txn: &C,
        account: &users::Model,
        new_email: &str,
    ) -> Result<(), AppError> {
        let secret = email_tokens::issue(txn, account.id, Purpose::EmailChange, new_email, self.ttl).await?;
        let product = &self.deps.mail.product;
        let mut content = self.deps.mail.content(
            format!("Confirm your new address for {product}"),
            format!("Hello {},", account.name),
        );
        content.paragraphs = vec![format!(
            "You asked to change the address of your {product} account from {} to {new_email}. \
             It changes when you follow this link.",
            account.email
        )];
        content.action = Some(Action {
            label: "Use this address".into(),
            url: self
                .deps
                .mail
                .link(&format!("{}?token={}", crate::paths::CHANGE_EMAIL, secret.expose())),
        });
        content.after = vec![
            format!("The link works once, for {} hours.", self.ttl.num_hours()),
            "If you did not ask for this, ignore this mail: the address stays as it is.".into(),
        ];
        outbox::enqueue(txn, &Mail::compose("email_change", new_email, &content)?).await?;
        Ok(())
    }

    /// Follows the link sent to the new address: the address becomes the account's,
    /// proven; reset and verification links sent before stop working; and the old
    /// address is told, with a link that undoes the change.
    pub async fn confirm(&self, input: &VerifyEmailInput, client: &ClientMeta) -> Result<User, AppError> {
        let links = self.deps.refusals(client, Purpose::EmailChange);
        let now = Utc::now();
        let Opened { txn, token, account } = links.open(&self.deps.db, &input.token, now).await?;
        let old_email = account.email.clone();
        let account = move_to(&txn, account, &token.email, now).await?;
        let revert = email_tokens::issue(&txn, account.id, Purpose::EmailRevert, &old_email, REVERT_TTL).await?;
        outbox::enqueue(&txn, &self.compose_notice(&account, &old_email, &revert)?).await?;
        txn.commit().await?;
        self.deps.sessions.cache().forget_user(account.id).await;

        let who = Some((account.id, account.email.as_str()));
        let used = Some(Purpose::EmailChange.as_str().to_owned());
        self.deps
            .audit
            .record(AuditAction::TokenUsed, None, who, client, used)
            .await;
        let detail = Some(format!("email was {old_email}; confirmed from the new address"));
        self.deps
            .audit
            .record(AuditAction::ProfileUpdated, None, who, client, detail)
            .await;
        let issued = Some(Purpose::EmailRevert.as_str().to_owned());
        self.deps
            .audit
            .record(AuditAction::TokenIssued, None, who, client, issued)
            .await;
        Ok(account.to_user())
    }

    fn compose_notice(&self, account: &users::Model, old_email: &str, secret: &LinkSecret) -> Result<Mail, AppError> {
        let product = &self.deps.mail.product;
        let mut content = self.deps.mail.content(
            format!("Your {product} address was changed"),
            format!("Hello {},", account.name),
        );
        content.paragraphs = vec![format!(
            "The address of your {product} account is now {}, no longer {old_email}.",
            account.email
        )];
        content.action = Some(Action {
            label: "This was not me: undo it".into(),
            url: self
                .deps
                .mail
                .link(&format!("{}?token={}", crate::paths::REVERT_EMAIL, secret.expose())),
        });
        content.after = vec![
            format!(
                "Undoing it puts {old_email} back and signs the account out everywhere. The link works once, for {} days.",
                REVERT_TTL.num_days()
            ),
            "If you made the change yourself, there is nothing to do.".into(),
        ];
        Mail::compose("email_changed", old_email, &content)
    }

    /// Follows the old address's link: the old address is the account's again
    /// (proven: its owner just followed a link sent to it), every session ends, and
    /// every link sent to the other address stops working.
    pub async fn revert(&self, input: &VerifyEmailInput, client: &ClientMeta) -> Result<User, AppError> {
        let links = self.deps.refusals(client, Purpose::EmailRevert);
        let now = Utc::now();
        let Opened { txn, token, account } = links.open(&self.deps.db, &input.token, now).await?;
        let replaced = account.email.clone();
        let account = move_to(&txn, account, &token.email, now).await?;
        txn.commit().await?;
        let ended = self.deps.sessions.end_all_for_user(account.id, None).await?;

        let who = Some((account.id, account.email.as_str()));
        let used = Some(Purpose::EmailRevert.as_str().to_owned());
        self.deps
            .audit
            .record(AuditAction::TokenUsed, None, who, client, used)
            .await;
        let detail = Some(format!("email was {replaced}; put back from the old address"));
        self.deps
            .audit
            .record(AuditAction::ProfileUpdated, None, who, client, detail)
            .await;
        let detail = Some(format!("{ended} ended by undoing a change of address"));
        self.deps
            .audit
            .record(AuditAction::SessionsRevoked, None, who, client, detail)
            .await;
        Ok(account.to_user())
    }
}

/// Gives the account `email`, proven (a link sent to it was just followed), and
/// voids every link and code sent before: reset and verification links and sign-in
/// codes went to the other address, and a pending change is superseded. An address another account took in
/// the meantime is `EmailTaken` (the unique index decides).
async fn move_to<C: ConnectionTrait>(
    txn: &C,
    account: users::Model,
    email: &str,
    now: DateTime<Utc>,
) -> Result<users::Model, AppError> {
    let mut row = account.into_active_model();
    row.email = Set(email.to_owned());
    row.email_verified_at = Set(Some(now));
    row.updated_at = Set(now);
    let account = row.update(txn).await.conflict_on_unique(AppError::EmailTaken)?;
    for stale in [
        Purpose::PasswordReset,
        Purpose::VerifyEmail,
        Purpose::EmailChange,
        Purpose::SignInCode,
    ] {
        email_tokens::void(txn, account.id, stale).await?;
    }
    Ok(account)
}
