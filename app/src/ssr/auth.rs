//! Credentials: registering, and signing in with an email and password (throttled,
//! timing-safe). The one implementation behind both the REST API and the server
//! functions. What happens to a session after it starts is `sessions`' business.

use crate::error::AppError;
use crate::model::{AuditAction, Role, User};
use crate::ssr::audit::AuditLog;
use crate::ssr::caller::ClientMeta;
use crate::ssr::devices::{KnownDevices, Notify};
use crate::ssr::entity::users;
use crate::ssr::password::PasswordHasher;
use crate::ssr::second_factor::{FirstStep, SecondFactors, SignInStep};
use crate::ssr::sessions::{NewSession, Persistence, SessionService, SessionToken};
use crate::ssr::throttle::LoginThrottle;
use crate::ssr::verification::EmailVerification;
use crate::validation::{LoginInput, RegisterInput};
use sea_orm::DatabaseConnection;

#[derive(Clone)]
pub struct AuthService {
    db: DatabaseConnection,
    sessions: SessionService,
    hasher: PasswordHasher,
    throttle: LoginThrottle,
    audit: AuditLog,
    verification: EmailVerification,
    devices: KnownDevices,
    /// An account with a second factor signs in in two steps.
    factors: SecondFactors,
    /// `ROSTER_REQUIRE_VERIFIED_EMAIL`: no session for an account whose address
    /// is not proven yet.
    require_verified_email: bool,
}

impl AuthService {
    pub fn new(
        db: DatabaseConnection,
        sessions: SessionService,
        hasher: PasswordHasher,
        throttle: LoginThrottle,
        audit: AuditLog,
        verification: EmailVerification,
        devices: KnownDevices,
        factors: SecondFactors,
        require_verified_email: bool,
    ) -> Self {
        Self {
            db,
            sessions,
            hasher,
            throttle,
            audit,
            verification,
            devices,
            factors,
            require_verified_email,
        }
    }

    pub fn requires_verified_email(&self) -> bool {
        self.require_verified_email
    }

    /// Creates the account and sends the link that proves its address (in the
    /// same transaction: no account without its link on the way). Signs it in for
    /// this browser session (staying signed in is a choice made at sign-in), unless
    /// sign-in waits for a proven address.
    pub async fn register(
        &self,
        input: &RegisterInput,
        client: &ClientMeta,
    ) -> Result<(User, Option<NewSession>), AppError> {
        let valid = input.validate().map_err(AppError::validation)?;
        // Refused before any work while the client's address is over its limit.
        let keys = self.throttle.registration_keys(client.ip.as_deref());
        self.throttle.check(&keys).await?;
        // Fail fast on a taken email before paying for a hash; the unique index
        // decides a race.
        users::ensure_email_free(&self.db, valid.email.as_str()).await?;
        // Counted before the hash it is about to cost, whatever comes of it.
        self.throttle.record_failure(&keys).await?;
        let password_hash = self.hasher.hash_new(&valid.password).await?;
        let txn = crate::ssr::db::begin_write(&self.db).await?;
        let account = users::insert_new(
            &txn,
            valid.name.into_inner(),
            valid.email.into_inner(),
            password_hash,
            Role::User,
        )
        .await?;
        self.verification.queue(&txn, &account).await?;
        txn.commit().await?;
        let user = account.to_user();
        let session = match self.require_verified_email {
            true => None,
            false => {
                let session = self
                    .devices
                    .start_session(&account, client, Persistence::BrowserSession, Notify::No)
                    .await?;
                Some(session)
            }
        };
        self.audit
            .record(
                AuditAction::Registered,
                Some(user.id),
                Some((user.id, &user.email)),
                client,
                None,
            )
            .await;
        self.verification.record_sent(&account, Some(user.id), client).await;
        metrics::counter!("roster_registrations_total").increment(1);
        Ok((user, session))
    }

    /// Verifies the credentials and starts a new session, or, for an account with a
    /// second factor, a pending sign-in that waits for its code. Unknown email and
    /// wrong password take the same time and give the same answer. The session the
    /// client held before (if any) is ended: a token planted before sign-in is
    /// worthless after it (no session fixation).
    pub async fn login(
        &self,
        input: &LoginInput,
        client: &ClientMeta,
        previous: Option<&SessionToken>,
    ) -> Result<SignInStep, AppError> {
        let result = self.try_login(input, client, previous).await;
        let outcome = match &result {
            Ok(SignInStep::SignedIn(..)) => "success",
            Ok(SignInStep::SecondFactor(_)) => "second_factor_required",
            Err(err) => err.code(),
        };
        metrics::counter!("roster_sign_ins_total", "outcome" => outcome).increment(1);
        result
    }

    async fn try_login(
        &self,
        input: &LoginInput,
        client: &ClientMeta,
        previous: Option<&SessionToken>,
    ) -> Result<SignInStep, AppError> {
        let valid = input.validate().map_err(AppError::validation)?;
        let keys = self.throttle.keys(valid.email.as_str(), client.ip.as_deref());
        // Locked out: refuse before paying for a hash.
        self.throttle.check(&keys).await?;
        let account = users::find_by_email(&self.db, valid.email.as_str()).await?;
        let stored = account.as_ref().map(|a| a.password_hash.as_str());
        if !self.hasher.verify(&valid.password, stored).await? {
            self.throttle.record_failure(&keys).await?;
            let target = account.as_ref().map(|a| (a.id, a.email.as_str()));
            let detail = target
                .is_none()
                .then(|| format!("unknown email {}", valid.email.as_str()));
            self.audit
                .record(AuditAction::SignInFailed, None, target, client, detail)
                .await;
            return Err(AppError::InvalidCredentials);
        }
        self.throttle.record_success(&keys).await?;
        let account = account.ok_or(AppError::InvalidCredentials)?;
        let user = account.to_user();
        // Only after the password checks out: a disabled account is no secret to its owner.
        if user.disabled {
            let detail = Some("account disabled".to_owned());
            self.audit
                .record(
                    AuditAction::SignInFailed,
                    None,
                    Some((user.id, &user.email)),
                    client,
                    detail,
                )
                .await;
            return Err(AppError::AccountDisabled);
        }
        // Likewise only after the password: whether an address is proven is the
        // owner's business.
        if self.require_verified_email && !user.email_verified {
            let detail = Some("address not confirmed".to_owned());
            self.audit
                .record(
                    AuditAction::SignInFailed,
                    None,
                    Some((user.id, &user.email)),
                    client,
                    detail,
                )
                .await;
            return Err(AppError::EmailUnverified);
        }
        let persistence = Persistence::chosen(valid.remember);
        if let Some(pending) = self
            .factors
            .pending_if_needed(&account, persistence, FirstStep::Password)
            .await?
        {
            return Ok(SignInStep::SecondFactor(pending));
        }
        if let Some(previous) = previous {
            self.sessions.end(previous).await?;
        }
        let session = self
            .devices
            .start_session(&account, client, persistence, Notify::Yes)
            .await?;
        self.audit
            .record(
                AuditAction::SignIn,
                Some(user.id),
                Some((user.id, &user.email)),
                client,
                None,
            )
            .await;
        Ok(SignInStep::SignedIn(user, session))
    }
}
