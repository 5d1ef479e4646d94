//! The authentication service: the one implementation of register, sign-in,
//! sign-out and "who is this", used by both the REST API and the server functions.

use crate::error::AppError;
use crate::model::AuditAction;
use crate::model::{Role, User};
use crate::ssr::audit::AuditLog;
use crate::ssr::entity::users;
use crate::ssr::password::PasswordHasher;
use crate::ssr::principal_cache::{Principal, PrincipalCache};
use crate::ssr::session::{SessionRecord, SessionStore, SessionToken, StoreError};
use crate::ssr::throttle::LoginThrottle;
use crate::validation::{LoginInput, RegisterInput};
use chrono::{Duration, Utc};
use sea_orm::{DatabaseConnection, EntityTrait};
use std::sync::Arc;
use uuid::Uuid;

/// Where a request came from, recorded on its session.
#[derive(Debug, Clone, Default)]
pub struct ClientMeta {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// How long sessions live and how often "last seen" is written.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// Absolute lifetime from sign-in.
    pub lifetime: Duration,
    /// A session unused for this long ends, whatever its lifetime says.
    pub idle_timeout: Duration,
    /// `last_seen_at` is refreshed at most this often, so reads stay reads.
    pub touch_interval: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            lifetime: Duration::days(14),
            idle_timeout: Duration::hours(24),
            touch_interval: Duration::minutes(1),
        }
    }
}

#[derive(Clone)]
pub struct AuthService {
    db: DatabaseConnection,
    sessions: Arc<dyn SessionStore>,
    hasher: PasswordHasher,
    policy: SessionPolicy,
    throttle: LoginThrottle,
    audit: AuditLog,
    principals: PrincipalCache,
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        AppError::internal(err)
    }
}

impl AuthService {
    pub fn new(
        db: DatabaseConnection,
        sessions: Arc<dyn SessionStore>,
        hasher: PasswordHasher,
        policy: SessionPolicy,
        throttle: LoginThrottle,
        audit: AuditLog,
        principals: PrincipalCache,
    ) -> Self {
        Self {
            db,
            sessions,
            hasher,
            policy,
            throttle,
            audit,
            principals,
        }
    }

    /// Shared with the user service, which forgets accounts it changes.
    pub fn principals(&self) -> &PrincipalCache {
        &self.principals
    }

    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    pub fn policy(&self) -> SessionPolicy {
        self.policy
    }

    pub fn sessions(&self) -> &Arc<dyn SessionStore> {
        &self.sessions
    }

    /// Creates the account and signs it in.
    pub async fn register(&self, input: &RegisterInput, client: &ClientMeta) -> Result<(User, SessionToken), AppError> {
        let valid = input.validate().map_err(AppError::validation)?;
        // Fail fast on a taken email before paying for a hash.
        if users::find_by_email(&self.db, valid.email.as_str())
            .await
            .map_err(AppError::internal)?
            .is_some()
        {
            return Err(AppError::EmailTaken);
        }
        let password_hash = self.hasher.hash(&valid.password).await?;
        let user = users::insert_new(
            &self.db,
            valid.name.into_inner(),
            valid.email.into_inner(),
            password_hash,
            Role::User,
        )
        .await?
        .to_user();
        let token = self.start_session(user.id, client).await?;
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
        Ok((user, token))
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
    ) -> Result<(User, SessionToken), AppError> {
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
    ) -> Result<(User, SessionToken), AppError> {
        let valid = input.validate().map_err(AppError::validation)?;
        let keys = self.throttle.keys(valid.email.as_str(), client.ip.as_deref());
        // Locked out: refuse before paying for a hash.
        self.throttle.check(&keys).await?;
        let account = users::find_by_email(&self.db, valid.email.as_str())
            .await
            .map_err(AppError::internal)?;
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
            self.end_session(&previous.hash()).await?;
        }
        let token = self.start_session(user.id, client).await?;
        self.audit
            .record(
                AuditAction::SignIn,
                Some(user.id),
                Some((user.id, &user.email)),
                client,
                None,
            )
            .await;
        Ok((user, token))
    }

    /// Ends the session server-side. Idempotent: signing out twice is not an error.
    pub async fn logout(&self, token: Option<&SessionToken>, client: &ClientMeta) -> Result<(), AppError> {
        let Some(token) = token else { return Ok(()) };
        let hash = token.hash();
        if let Some(session) = self.sessions.get(&hash).await? {
            self.end_session(&hash).await?;
            self.audit
                .record(AuditAction::SignOut, Some(session.user_id), None, client, None)
                .await;
        }
        Ok(())
    }

    /// The signed-in user for this token, enforcing expiry on every call. Served
    /// from the principal cache when it can be; the stores decide everything else.
    pub async fn current_user(&self, token: Option<&SessionToken>) -> Result<Option<User>, AppError> {
        let Some(token) = token else { return Ok(None) };
        let hash = token.hash();
        let now = Utc::now();
        if let Some(cached) = self.principals.get(&hash) {
            // Only a session that is plainly alive is answered from memory; expiry
            // and idle decisions are left to the store's own record.
            if self.is_live(&cached.session, now) {
                if now - cached.session.last_seen_at >= self.policy.touch_interval {
                    self.sessions.touch(&hash, now).await?;
                    self.principals.touched(&hash, now);
                }
                return Ok(Some(cached.user.clone()));
            }
        }
        let seen = self.principals.generation();
        let Some(mut session) = self.sessions.get(&hash).await? else {
            return Ok(None);
        };
        if !self.is_live(&session, now) {
            self.end_session(&hash).await?;
            return Ok(None);
        }
        let Some(account) = users::Entity::find_by_id(session.user_id)
            .one(&self.db)
            .await
            .map_err(AppError::internal)?
        else {
            return Ok(None);
        };
        // Disabling ends sessions at once; this guards any that slip through.
        if account.disabled {
            self.end_session(&hash).await?;
            return Ok(None);
        }
        if now - session.last_seen_at >= self.policy.touch_interval {
            self.sessions.touch(&hash, now).await?;
            session.last_seen_at = now;
        }
        let user = account.to_user();
        self.principals.put(
            &hash,
            Principal {
                session,
                user: user.clone(),
            },
            seen,
        );
        Ok(Some(user))
    }

    fn is_live(&self, session: &SessionRecord, now: chrono::DateTime<Utc>) -> bool {
        session.expires_at > now && now - session.last_seen_at <= self.policy.idle_timeout
    }

    /// Removes one session from the store, then from the cache (in that order, so
    /// no lookup can cache it again in between).
    async fn end_session(&self, token_hash: &str) -> Result<(), AppError> {
        self.sessions.remove(token_hash).await?;
        self.principals.forget(token_hash).await;
        Ok(())
    }

    pub async fn require_user(&self, token: Option<&SessionToken>) -> Result<User, AppError> {
        self.current_user(token).await?.ok_or(AppError::Unauthenticated)
    }

    /// Who is making the request, for the authorization policy.
    pub async fn actor(&self, token: Option<&SessionToken>) -> Result<crate::policy::Actor, AppError> {
        Ok(crate::policy::Actor::of(self.current_user(token).await?.as_ref()))
    }

    async fn start_session(&self, user_id: Uuid, client: &ClientMeta) -> Result<SessionToken, AppError> {
        let token = SessionToken::generate();
        let now = Utc::now();
        self.sessions
            .insert(SessionRecord {
                token_hash: token.hash(),
                public_id: Uuid::new_v4(),
                user_id,
                created_at: now,
                last_seen_at: now,
                expires_at: now + self.policy.lifetime,
                user_agent: client.user_agent.as_deref().map(|ua| ua.chars().take(512).collect()),
                ip: client.ip.clone(),
            })
            .await?;
        Ok(token)
    }
}
