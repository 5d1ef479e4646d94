//! Sign-in's second step. When a first step (password or emailed code) checks out
//! for an account with a second factor, no session starts: the client gets a
//! pending cookie instead (random, 5 minutes, only its SHA-256 stored), which is not
//! a session (`/api/me` stays 401). A code from the app or a recovery code, sent
//! with that cookie, starts the session; five wrong codes end the pending sign-in.

use super::SecondFactors;
use crate::error::AppError;
use crate::model::{AuditAction, SecondFactorMethod, User};
use crate::ssr::caller::ClientMeta;
use crate::ssr::devices::Notify;
use crate::ssr::entity::pending_sign_ins::{self, Column, Entity};
use crate::ssr::entity::users;
use crate::ssr::sessions::{NewSession, Persistence, SessionToken};
use crate::validation::FactorCodeInput;
use chrono::{DateTime, Duration, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

/// How long a sign-in waits for its second step.
pub const PENDING_TTL: Duration = Duration::minutes(5);
/// Codes a pending sign-in survives; the fifth wrong one ends it.
pub const MAX_TRIES: i32 = 5;

/// How the first step of a sign-in was passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstStep {
    Password,
    EmailedCode,
    /// A new password set with a mailed reset link.
    ResetLink,
}

impl FirstStep {
    fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::EmailedCode => "emailed_code",
            Self::ResetLink => "reset_link",
        }
    }

    fn parse(raw: &str) -> Self {
        match raw {
            "emailed_code" => Self::EmailedCode,
            "reset_link" => Self::ResetLink,
            _ => Self::Password,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::EmailedCode => "an emailed code",
            Self::ResetLink => "a reset link",
        }
    }
}

/// Where a sign-in stands once its first step checked out.
#[derive(Debug)]
pub enum SignInStep {
    /// No second factor: signed in.
    SignedIn(User, NewSession),
    /// A second step is needed: the pending cookie's value, and how it can be passed.
    SecondFactor(PendingSignIn),
}

#[derive(Debug)]
pub struct PendingSignIn {
    pub token: SessionToken,
    pub methods: Vec<SecondFactorMethod>,
}

impl SecondFactors {
    /// After a first step checked out: `None` if the account has no second factor
    /// (the caller starts the session), else the pending sign-in to continue.
    pub async fn pending_if_needed(
        &self,
        account: &users::Model,
        persistence: Persistence,
        first: FirstStep,
    ) -> Result<Option<PendingSignIn>, AppError> {
        let methods = self.methods_of(account.id).await?;
        if methods.is_empty() {
            return Ok(None);
        }
        let token = SessionToken::generate();
        let now = Utc::now();
        let row = pending_sign_ins::ActiveModel {
            token_hash: Set(token.hash()),
            user_id: Set(account.id),
            remember: Set(persistence == Persistence::Remembered),
            method: Set(first.as_str().to_owned()),
            attempts: Set(0),
            created_at: Set(now),
            expires_at: Set(now + PENDING_TTL),
        };
        Entity::insert(row).exec_without_returning(self.db()).await?;
        Ok(Some(PendingSignIn { token, methods }))
    }

    /// The account the browser's pending sign-in is for, while it is live; else
    /// `Unauthenticated` (sign in again).
    pub(super) async fn pending_account(&self, pending: Option<&SessionToken>) -> Result<uuid::Uuid, AppError> {
        let pending = pending.ok_or(AppError::Unauthenticated)?;
        let row = live(self.db(), &pending.hash(), Utc::now()).await?;
        row.map(|row| row.user_id).ok_or(AppError::Unauthenticated)
    }

    /// The second step: a code from the app or a recovery code, with the pending
    /// cookie. Starts the session (the one this browser held before is ended).
    pub async fn complete_sign_in(
        &self,
        pending: Option<&SessionToken>,
        input: &FactorCodeInput,
        client: &ClientMeta,
        previous: Option<&SessionToken>,
    ) -> Result<(User, NewSession), AppError> {
        let result = self.try_complete(pending, input, client, previous).await;
        let outcome = match &result {
            Ok(_) => "success",
            Err(err) => err.code(),
        };
        metrics::counter!("roster_second_factor_sign_ins_total", "outcome" => outcome).increment(1);
        result
    }

    async fn try_complete(
        &self,
        pending: Option<&SessionToken>,
        input: &FactorCodeInput,
        client: &ClientMeta,
        previous: Option<&SessionToken>,
    ) -> Result<(User, NewSession), AppError> {
        let code = input.validate().map_err(AppError::validation)?;
        // No pending sign-in (never started, expired, out of tries, or done): start over.
        let pending = pending.ok_or(AppError::Unauthenticated)?;
        let client_for_code = client.clone();
        self.complete_with(pending, client, previous, move |this, account| async move {
            this.verify_code(&account, &code, &client_for_code, "signing in").await
        })
        .await
    }

    /// The second step, whatever proves it: takes one of the pending sign-in's tries,
    /// runs `verify` (a code, or a passkey's answer), and on success starts the
    /// session. A failed proof counts like a wrong password; the fifth ends the
    /// pending sign-in.
    pub(super) async fn complete_with<F, Fut>(
        &self,
        pending: &SessionToken,
        client: &ClientMeta,
        previous: Option<&SessionToken>,
        verify: F,
    ) -> Result<(User, NewSession), AppError>
    where
        F: FnOnce(SecondFactors, users::Model) -> Fut,
        Fut: std::future::Future<Output = Result<Option<SecondFactorMethod>, AppError>>,
    {
        let hash = pending.hash();
        let now = Utc::now();
        let row = claim_try(self.db(), &hash, now)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let account = self.account(row.user_id).await?;
        let keys = self.deps.throttle.keys(&account.email, client.ip.as_deref());
        self.deps.throttle.check(&keys).await?;
        let first = FirstStep::parse(&row.method);
        let who = Some((account.id, account.email.as_str()));
        let Some(method) = verify(self.clone(), account.clone()).await? else {
            self.deps.throttle.record_failure(&keys).await?;
            let tries_left = MAX_TRIES - row.attempts - 1;
            if tries_left <= 0 {
                Entity::delete_by_id(hash.clone()).exec(self.db()).await?;
            }
            let detail = Some(format!("second step: wrong code ({tries_left} tries left)"));
            self.deps
                .audit
                .record(AuditAction::SignInFailed, None, who, client, detail)
                .await;
            return Err(AppError::InvalidCode);
        };
        self.deps.throttle.record_success(&keys).await?;
        // Used up: two requests with the same pending cookie cannot both sign in.
        let done = Entity::delete_by_id(hash).exec(self.db()).await?.rows_affected;
        if done != 1 {
            return Err(AppError::Unauthenticated);
        }
        // The account may have been disabled between the steps.
        let account = self.account(account.id).await?;
        let detail = format!(
            "with {} and {}",
            first.describe(),
            match method {
                SecondFactorMethod::Totp => "an authenticator code",
                SecondFactorMethod::RecoveryCode => "a recovery code",
                SecondFactorMethod::Passkey => "a passkey",
            }
        );
        self.start_checked_session(&account, client, Persistence::chosen(row.remember), previous, detail)
            .await
    }

    /// How a sign-in that proved a second factor (or a passkey) ends: refused if
    /// the account is disabled, else the browser's previous session ended, a new one
    /// started (the browser noted) and the sign-in audited with `detail`.
    pub(super) async fn start_checked_session(
        &self,
        account: &users::Model,
        client: &ClientMeta,
        persistence: Persistence,
        previous: Option<&SessionToken>,
        detail: String,
    ) -> Result<(User, NewSession), AppError> {
        let who = Some((account.id, account.email.as_str()));
        if account.disabled {
            let refused = Some("account disabled".to_owned());
            self.deps
                .audit
                .record(AuditAction::SignInFailed, None, who, client, refused)
                .await;
            return Err(AppError::AccountDisabled);
        }
        if let Some(previous) = previous {
            self.deps.sessions.end(previous).await?;
        }
        let session = self
            .deps
            .devices
            .start_session(account, client, persistence, Notify::Yes)
            .await?;
        self.deps
            .audit
            .record(AuditAction::SignIn, Some(account.id), who, client, Some(detail))
            .await;
        Ok((account.to_user(), session))
    }
}

/// The live pending sign-in with one of its tries taken (counted before the code is
/// checked, so racing guesses get at most `MAX_TRIES` between them). `None` when
/// there is none with a try left.
pub(super) async fn claim_try<C: ConnectionTrait>(
    db: &C,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<pending_sign_ins::Model>, AppError> {
    let Some(row) = live(db, hash, now).await? else {
        return Ok(None);
    };
    let claimed = Entity::update_many()
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .filter(Column::TokenHash.eq(hash))
        .filter(Column::Attempts.lt(MAX_TRIES))
        .exec(db)
        .await?
        .rows_affected;
    Ok((claimed == 1).then_some(row))
}

/// The pending sign-in named by `hash`, if it is within its time and has a try left.
async fn live<C: ConnectionTrait>(
    db: &C,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<pending_sign_ins::Model>, AppError> {
    Ok(Entity::find_by_id(hash.to_owned())
        .filter(Column::ExpiresAt.gt(now))
        .filter(Column::Attempts.lt(MAX_TRIES))
        .one(db)
        .await?)
}

/// Forgets pending sign-ins past their time. Run with the session sweep.
pub async fn sweep<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> Result<u64, AppError> {
    Ok(Entity::delete_many()
        .filter(Column::ExpiresAt.lt(now))
        .exec(db)
        .await?
        .rows_affected)
}
