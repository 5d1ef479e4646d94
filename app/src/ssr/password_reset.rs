//! Resetting a forgotten password: a link sent to the account's address, and the
//! one request that sets a new password with it. Asking for a link answers the same
//! whatever the address: the lookup and the mail happen after the answer is sent,
//! so neither its body, its status nor its timing says whether an account exists.

use crate::error::AppError;
use crate::model::AuditAction;
use crate::ssr::caller::ClientMeta;
use crate::ssr::devices::Notify;
use crate::ssr::email_tokens::{self, LinkSecret, LinkServices, Purpose};
use crate::ssr::entity::users;
use crate::ssr::mail::{Action, Mail};
use crate::ssr::password::PasswordHasher;
use crate::ssr::second_factor::{FirstStep, SecondFactors, SignInStep};
use crate::ssr::sessions::{Persistence, SessionToken};
use crate::validation::{EmailInput, ResetPasswordInput};
use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};

/// Where a reset link leads; `?token=` carries the secret.
pub const LINK_PATH: &str = crate::paths::RESET_PASSWORD;

#[derive(Clone)]
pub struct PasswordReset {
    deps: LinkServices,
    hasher: PasswordHasher,
    /// How long a link stays valid (`ROSTER_RESET_TTL`).
    ttl: Duration,
    /// The link replaces the password, not the second factor.
    factors: SecondFactors,
}

impl PasswordReset {
    pub fn new(deps: LinkServices, hasher: PasswordHasher, ttl: Duration, factors: SecondFactors) -> Self {
        Self {
            deps,
            hasher,
            ttl,
            factors,
        }
    }

    /// "I forgot my password": answered the same whatever the address; a link goes
    /// out afterwards if an active account has it (`LinkServices::answer_then_mail`).
    pub async fn request(&self, input: &EmailInput, client: &ClientMeta) -> Result<(), AppError> {
        let email = input.validate().map_err(AppError::validation)?;
        let this = self.clone();
        self.deps
            .answer_then_mail(
                email,
                client,
                "roster_password_reset_requests_total",
                |account, client| async move { this.send_link(&account, &client).await },
            )
            .await
    }

    async fn send_link(&self, account: &users::Model, client: &ClientMeta) -> Result<(), AppError> {
        let secret = LinkSecret::generate();
        let mail = self.compose(account, &secret)?;
        self.deps
            .issue_and_mail(account, Purpose::PasswordReset, self.ttl, secret.hash(), &mail, client)
            .await
    }

    fn compose(&self, account: &users::Model, secret: &LinkSecret) -> Result<Mail, AppError> {
        let product = &self.deps.mail.product;
        let mut content = self.deps.mail.content(
            format!("Reset your {product} password"),
            format!("Hello {},", account.name),
        );
        content.paragraphs = vec![format!(
            "Someone (we hope you) asked to reset the password of the {product} account for {}.",
            account.email
        )];
        content.action = Some(Action {
            label: "Choose a new password".into(),
            url: self.deps.mail.link(&format!("{LINK_PATH}?token={}", secret.expose())),
        });
        content.after = vec![
            format!(
                "The link works once, for {} minutes. Setting a new password signs you out everywhere else.",
                self.ttl.num_minutes()
            ),
            "If you did not ask for this, ignore this mail: your password stays as it is.".into(),
        ];
        Mail::compose("password_reset", &account.email, &content)
    }

    /// Sets a new password with a link's secret. The link is used up, every other
    /// link of the account is void, every session of the account ends (and the one
    /// this browser held, whosever it was), and a fresh session starts here.
    pub async fn reset(
        &self,
        input: &ResetPasswordInput,
        client: &ClientMeta,
        previous: Option<&SessionToken>,
    ) -> Result<SignInStep, AppError> {
        let links = self.deps.refusals(client, Purpose::PasswordReset);
        links.check().await?;
        let password = input.validate().map_err(AppError::validation)?;
        let Some(secret) = LinkSecret::parse(&input.token) else {
            return Err(links.refuse("malformed", None).await);
        };
        // Judged before paying for a hash; used up only in the transaction that
        // writes the new one.
        let token = match email_tokens::check(&self.deps.db, Purpose::PasswordReset, &secret, Utc::now()).await? {
            Ok(token) => token,
            Err(why) => {
                let whose = why.token.as_ref().map(|t| (t.user_id, t.email.as_str()));
                return Err(links.refuse(why.reason.as_str(), whose).await);
            }
        };
        let Some(account) = users::Entity::find_by_id(token.user_id).one(&self.deps.db).await? else {
            return Err(links.refuse("account deleted", None).await);
        };
        let password = password
            .refuse_context_words(&account.name, &account.email)
            .map_err(|e| AppError::invalid_field("password", e))?;
        let hash = self.hasher.hash_new(&password).await?;

        let now = Utc::now();
        let txn = crate::ssr::db::begin_write(&self.deps.db).await?;
        if let Err(why) = email_tokens::redeem(&txn, Purpose::PasswordReset, &secret, now).await? {
            txn.rollback().await?;
            let whose = Some((account.id, account.email.as_str()));
            return Err(links.refuse(why.reason.as_str(), whose).await);
        }
        // Read again inside the transaction: disabling voids the link, but may have
        // come after the check above.
        let account = match users::Entity::find_by_id(token.user_id).one(&txn).await? {
            Some(account) if !account.disabled => account,
            _ => {
                txn.rollback().await?;
                return Err(links.refuse("account disabled or deleted", None).await);
            }
        };
        // Following a link sent to the address proves it, if it is still the account's.
        let proves_address = account.email_verified_at.is_none() && account.email.eq_ignore_ascii_case(&token.email);
        let mut row = account.into_active_model();
        row.password_hash = Set(hash);
        row.updated_at = Set(now);
        if proves_address {
            row.email_verified_at = Set(Some(now));
        }
        let account = row.update(&txn).await?;
        email_tokens::void(&txn, account.id, Purpose::PasswordReset).await?;
        txn.commit().await?;

        if let Some(previous) = previous {
            self.deps.sessions.end(previous).await?;
        }
        self.deps.sessions.end_all_for_user(account.id, None).await?;
        // With a second factor, the new password is set but signing in still takes a code.
        let step = match self
            .factors
            .pending_if_needed(&account, Persistence::BrowserSession, FirstStep::ResetLink)
            .await?
        {
            Some(pending) => SignInStep::SecondFactor(pending),
            None => {
                let session = self
                    .deps
                    .devices
                    .start_session(&account, client, Persistence::BrowserSession, Notify::No)
                    .await?;
                SignInStep::SignedIn(account.to_user(), session)
            }
        };
        let who = Some((account.id, account.email.as_str()));
        let detail = Some(Purpose::PasswordReset.as_str().to_owned());
        self.deps
            .audit
            .record(AuditAction::TokenUsed, None, who, client, detail)
            .await;
        let detail = Some("with a reset link; every session ended".to_owned());
        self.deps
            .audit
            .record(AuditAction::PasswordChanged, None, who, client, detail)
            .await;
        if proves_address {
            self.deps
                .audit
                .record(AuditAction::EmailVerified, None, who, client, None)
                .await;
        }
        Ok(step)
    }
}
