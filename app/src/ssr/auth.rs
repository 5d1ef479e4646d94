//! Credentials: registering, and signing in with an email and password (throttled,
//! timing-safe). The one implementation behind both the REST API and the server
//! functions. What happens to a session after it starts is `sessions`' business.

use crate::error::AppError;
use crate::model::{AuditAction, Role, User};
use crate::ssr::audit::AuditLog;
use crate::ssr::caller::ClientMeta;
use crate::ssr::entity::users;
use crate::ssr::password::PasswordHasher;
use crate::ssr::sessions::{NewSession, Persistence, SessionService, SessionToken};
use crate::ssr::throttle::LoginThrottle;
use crate::validation::{LoginInput, RegisterInput};
use sea_orm::DatabaseConnection;

#[derive(Clone)]
pub struct AuthService {
    db: DatabaseConnection,
    sessions: SessionService,
    hasher: PasswordHasher,
    throttle: LoginThrottle,
    audit: AuditLog,
}

impl AuthService {
    pub fn new(
        db: DatabaseConnection,
        sessions: SessionService,
        hasher: PasswordHasher,
        throttle: LoginThrottle,
        audit: AuditLog,
    ) -> Self {
        Self {
            db,
            sessions,
            hasher,
            throttle,
            audit,
        }
    }

    /// Creates the account and signs it in, for this browser session (staying
    /// signed in is a choice made at sign-in).
    pub async fn register(&self, input: &RegisterInput, client: &ClientMeta) -> Result<(User, NewSession), AppError> {
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
        let user = users::insert_new(
            &self.db,
            valid.name.into_inner(),
            valid.email.into_inner(),
            password_hash,
            Role::User,
        )
        .await?
        .to_user();
        let session = self
            .sessions
            .start(user.id, client, Persistence::BrowserSession)
            .await?;
        self.audit
            .record(
                AuditAction::Registered,
                Some(user.id),
                Some((user.id, &user.email)),
                client,
                None,
            )
            .await;
        metrics::counter!("roster_registrations_total").increment(1);
        Ok((user, session))
    }

    /// Verifies the credentials and starts a new session. Unknown email and wrong
    /// password take the same time and give the same answer. The session the
    /// client held before (if any) is ended: a token planted before sign-in is
    /// worthless after it (no session fixation).
    pub async fn login(
        &self,
        input: &LoginInput,
        client: &ClientMeta,
        previous: Option<&SessionToken>,
    ) -> Result<(User, NewSession), AppError> {
        let result = self.try_login(input, client, previous).await;
        let outcome = match &result {
            Ok(_) => "success",
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
    ) -> Result<(User, NewSession), AppError> {
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
        let user = account.ok_or(AppError::InvalidCredentials)?.to_user();
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
        if let Some(previous) = previous {
            self.sessions.end(previous).await?;
        }
        let session = self
            .sessions
            .start(user.id, client, Persistence::chosen(valid.remember))
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
        Ok((user, session))
    }
}
