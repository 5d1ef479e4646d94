//! Signing in with a code mailed to the address, instead of the password. Asking for
//! a code answers the same whatever the address (the lookup and the mail come after
//! the answer, as for a reset link). The code is 8 random digits, valid for 10
//! minutes, for 5 tries, once; only its argon2 hash is stored, so a copy of the
//! database does not give it away even though it is short. Signing in with it counts
//! against the same limits as a password, and proves the address.

use crate::error::AppError;
use crate::model::AuditAction;
use crate::ssr::caller::ClientMeta;
use crate::ssr::devices::Notify;
use crate::ssr::email_tokens::{LinkServices, Purpose};
use crate::ssr::entity::email_tokens::{self as rows, Column, Entity};
use crate::ssr::entity::users;
use crate::ssr::mail::Mail;
use crate::ssr::password::PasswordHasher;
use crate::ssr::second_factor::{FirstStep, SecondFactors, SignInStep};
use crate::ssr::sessions::{Persistence, SessionToken};
use crate::validation::{CodeSignInInput, EmailInput, Password, SIGN_IN_CODE_DIGITS, SignInCode};
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use uuid::Uuid;

/// How long a code stays valid.
pub const CODE_TTL: Duration = Duration::minutes(10);
/// Wrong codes a code survives; the fifth wrong try ends it.
pub const MAX_TRIES: i32 = 5;

#[derive(Clone)]
pub struct SignInCodes {
    deps: LinkServices,
    hasher: PasswordHasher,
    /// The code replaces the password, not the second factor.
    factors: SecondFactors,
}

/// A fresh code: uniform over all 8-digit strings, from the OS's generator.
fn generate_code() -> SignInCode {
    let n: u32 = rand::rngs::OsRng.gen_range(0..10u32.pow(SIGN_IN_CODE_DIGITS as u32));
    SignInCode::parse(&format!("{n:0width$}", width = SIGN_IN_CODE_DIGITS)).expect("8 digits")
}

/// A code as the hasher takes it (a code is never empty nor too long).
fn as_password(code: &SignInCode) -> Result<Password, AppError> {
    Password::parse_existing(code.expose()).map_err(AppError::internal)
}

impl SignInCodes {
    pub fn new(deps: LinkServices, hasher: PasswordHasher, factors: SecondFactors) -> Self {
        Self { deps, hasher, factors }
    }

    /// "Mail me a code": answered the same whatever the address; a code goes out
    /// afterwards if an active account has it (`LinkServices::answer_then_mail`).
    pub async fn request(&self, input: &EmailInput, client: &ClientMeta) -> Result<(), AppError> {
        let email = input.validate().map_err(AppError::validation)?;
        let this = self.clone();
        self.deps
            .answer_then_mail(
                email,
                client,
                "roster_sign_in_code_requests_total",
                |account, client| async move { this.send_code(&account, &client).await },
            )
            .await
    }

    async fn send_code(&self, account: &users::Model, client: &ClientMeta) -> Result<(), AppError> {
        let code = generate_code();
        let hash = self.hasher.hash(&as_password(&code)?).await?;
        let mail = self.compose(account, &code)?;
        self.deps
            .issue_and_mail(account, Purpose::SignInCode, CODE_TTL, hash, &mail, client)
            .await
    }

    fn compose(&self, account: &users::Model, code: &SignInCode) -> Result<Mail, AppError> {
        let product = &self.deps.mail.product;
        let digits = code.expose();
        // Not in the subject: the outbox keeps a sent mail's subject (for the
        // operator) but empties its body, so the code does not outlive the mail.
        let mut content = self.deps.mail.content(
            format!("Your {product} sign-in code"),
            format!("Hello {},", account.name),
        );
        content.paragraphs = vec![
            format!(
                "Someone (we hope you) asked to sign in to the {product} account for {} with a code.",
                account.email
            ),
            format!("Your code: {} {}", &digits[..4], &digits[4..]),
        ];
        content.after = vec![
            format!(
                "It works once, for {} minutes. Never tell it to anyone: we will never ask for it.",
                CODE_TTL.num_minutes()
            ),
            "If you did not ask for it, ignore this mail: nobody can sign in without the code.".into(),
        ];
        Mail::compose("sign_in_code", &account.email, &content)
    }

    /// Signs in with the code mailed to the address: a new session, the one this
    /// browser held before ended (or, with a second factor, a pending sign-in). A
    /// wrong code, an unknown address and a used or expired code all answer
    /// `InvalidCode` after the same work.
    pub async fn sign_in(
        &self,
        input: &CodeSignInInput,
        client: &ClientMeta,
        previous: Option<&SessionToken>,
    ) -> Result<SignInStep, AppError> {
        let result = self.try_sign_in(input, client, previous).await;
        let outcome = match &result {
            Ok(SignInStep::SignedIn(..)) => "success",
            Ok(SignInStep::SecondFactor(_)) => "second_factor_required",
            Err(err) => err.code(),
        };
        metrics::counter!("roster_sign_ins_total", "outcome" => outcome).increment(1);
        result
    }

    async fn try_sign_in(
        &self,
        input: &CodeSignInInput,
        client: &ClientMeta,
        previous: Option<&SessionToken>,
    ) -> Result<SignInStep, AppError> {
        let valid = input.validate().map_err(AppError::validation)?;
        let keys = self.deps.throttle.keys(valid.email.as_str(), client.ip.as_deref());
        // Locked out: refuse before paying for a hash.
        self.deps.throttle.check(&keys).await?;
        let now = Utc::now();
        let account = users::find_by_email(&self.deps.db, valid.email.as_str()).await?;
        let live = match &account {
            Some(account) => self.claim_try(account.id, now).await?,
            None => None,
        };
        // No live code costs the same hash as a wrong one (the hasher's dummy).
        let stored = live.as_ref().map(|row| row.token_hash.as_str());
        let matched = self.hasher.verify(&as_password(&valid.code)?, stored).await?;
        let whose = account.as_ref().map(|a| (a.id, a.email.as_str()));
        let (Some(account), Some(code), true) = (&account, &live, matched) else {
            self.deps.throttle.record_failure(&keys).await?;
            let reason = match (&account, &live) {
                (None, _) => format!("unknown email {}", valid.email.as_str()),
                (Some(account), None) => self.why_no_live_code(account.id, now).await?.to_owned(),
                (Some(_), Some(_)) => "wrong code".to_owned(),
            };
            let detail = Some(format!("{}: {reason}", Purpose::SignInCode.as_str()));
            self.deps
                .audit
                .record(AuditAction::TokenRefused, None, whose, client, detail)
                .await;
            return Err(AppError::InvalidCode);
        };
        self.deps.throttle.record_success(&keys).await?;
        let txn = crate::ssr::db::begin_write(&self.deps.db).await?;
        // One UPDATE uses the code up, so two requests with it cannot both sign in;
        // it is the transaction's first statement (SQLite's write lock at once).
        let used = Entity::update_many()
            .col_expr(Column::UsedAt, Expr::value(now))
            .filter(Column::Id.eq(code.id))
            .filter(Column::UsedAt.is_null())
            .exec(&txn)
            .await?
            .rows_affected;
        let account = match users::Entity::find_by_id(account.id).one(&txn).await? {
            Some(current) if used == 1 && current.email.eq_ignore_ascii_case(&code.email) => current,
            _ => {
                txn.rollback().await?;
                let detail = Some(format!(
                    "{}: used meanwhile, or the address changed",
                    Purpose::SignInCode.as_str()
                ));
                self.deps
                    .audit
                    .record(AuditAction::TokenRefused, None, whose, client, detail)
                    .await;
                return Err(AppError::InvalidCode);
            }
        };
        // Only after the code checks out, as for a password.
        if account.disabled {
            txn.commit().await?;
            let detail = Some("account disabled".to_owned());
            self.deps
                .audit
                .record(AuditAction::SignInFailed, None, whose, client, detail)
                .await;
            return Err(AppError::AccountDisabled);
        }
        // The code reached the address: that proves it.
        let proves_address = account.email_verified_at.is_none();
        let account = if proves_address {
            let mut row = account.into_active_model();
            row.email_verified_at = Set(Some(now));
            row.update(&txn).await?
        } else {
            account
        };
        txn.commit().await?;
        if proves_address {
            self.deps.sessions.cache().forget_user(account.id).await;
        }
        let who = Some((account.id, account.email.as_str()));
        let audit = &self.deps.audit;
        let detail = Some(Purpose::SignInCode.as_str().to_owned());
        audit.record(AuditAction::TokenUsed, None, who, client, detail).await;
        let persistence = Persistence::chosen(valid.remember);
        if let Some(pending) = self
            .factors
            .pending_if_needed(&account, persistence, FirstStep::EmailedCode)
            .await?
        {
            if proves_address {
                audit.record(AuditAction::EmailVerified, None, who, client, None).await;
            }
            return Ok(SignInStep::SecondFactor(pending));
        }
        if let Some(previous) = previous {
            self.deps.sessions.end(previous).await?;
        }
        let session = self
            .deps
            .devices
            .start_session(&account, client, persistence, Notify::Yes)
            .await?;
        let detail = Some("with an emailed code".to_owned());
        audit
            .record(AuditAction::SignIn, Some(account.id), who, client, detail)
            .await;
        if proves_address {
            audit.record(AuditAction::EmailVerified, None, who, client, None).await;
        }
        Ok(SignInStep::SignedIn(account.to_user(), session))
    }

    /// Why the account has no code to try, for the audit log (the client learns only
    /// `InvalidCode`). A voided code is gone, so it reads as none asked for.
    async fn why_no_live_code(&self, user_id: Uuid, now: DateTime<Utc>) -> Result<&'static str, AppError> {
        let newest = Entity::find()
            .filter(Column::UserId.eq(user_id))
            .filter(Column::Purpose.eq(Purpose::SignInCode.as_str()))
            .order_by_desc(Column::CreatedAt)
            .one(&self.deps.db)
            .await?;
        Ok(match newest {
            None => "no code asked for, or void since",
            Some(code) if code.used_at.is_some() => "already used",
            Some(code) if code.attempts >= MAX_TRIES => "out of tries",
            Some(code) if code.expires_at <= now => "expired",
            // Its last try was taken by a request racing this one.
            Some(_) => "out of tries",
        })
    }

    /// The account's newest live code, with one of its tries taken: the try is
    /// counted before the hash is compared, so racing guesses get at most
    /// `MAX_TRIES` comparisons between them. `None` when no code has a try left.
    async fn claim_try(&self, user_id: Uuid, now: DateTime<Utc>) -> Result<Option<rows::Model>, AppError> {
        let Some(code) = Entity::find()
            .filter(Column::UserId.eq(user_id))
            .filter(Column::Purpose.eq(Purpose::SignInCode.as_str()))
            .filter(Column::UsedAt.is_null())
            .filter(Column::ExpiresAt.gt(now))
            .filter(Column::Attempts.lt(MAX_TRIES))
            .order_by_desc(Column::CreatedAt)
            .one(&self.deps.db)
            .await?
        else {
            return Ok(None);
        };
        let claimed = Entity::update_many()
            .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
            .filter(Column::Id.eq(code.id))
            .filter(Column::UsedAt.is_null())
            .filter(Column::Attempts.lt(MAX_TRIES))
            .exec(&self.deps.db)
            .await?
            .rows_affected;
        Ok((claimed == 1).then_some(code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_eight_digits_and_vary() {
        let codes: std::collections::HashSet<String> = (0..200).map(|_| generate_code().expose().to_owned()).collect();
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 8 && c.bytes().all(|b| b.is_ascii_digit()))
        );
        assert!(
            codes.len() > 190,
            "200 codes drawn from 10^8 should almost never repeat"
        );
        // Leading zeros are kept: "00001234" is a code like any other.
        assert_eq!(format!("{:0width$}", 1234, width = SIGN_IN_CODE_DIGITS), "00001234");
    }
}
