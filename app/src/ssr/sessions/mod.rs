//! Sessions, whole: how one starts, how a request's token is recognised, how it
//! expires (an absolute lifetime and an idle timeout), how "last seen" is touched,
//! and how a user lists and revokes their own. The store underneath is a trait
//! (`store.rs`); the authentication cache in front of it is `principal_cache`.
//! Credentials (passwords, throttling) are `auth`'s business, not this module's.

mod database;
mod directory;
pub mod metered;
mod migrate;
mod redis;
mod store;
mod token;

pub use database::DbSessionStore;
pub use directory::DirectorySessionStore;
pub use metered::MeteredStore;
pub use migrate::{Moved, move_sessions};
pub use redis::RedisSessionStore;
pub use store::{SessionRecord, SessionStore, StoreError};
pub use token::SessionToken;

use crate::error::AppError;
use crate::model::{AuditAction, SessionInfo, User};
use crate::policy::{Action, Target, authorize};
use crate::ssr::audit::AuditLog;
use crate::ssr::caller::{Caller, ClientMeta};
use crate::ssr::entity::users;
use crate::ssr::principal_cache::{Principal, PrincipalCache};
use crate::ssr::role_grants;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{DatabaseConnection, EntityTrait};
use std::sync::Arc;
use uuid::Uuid;

/// `last_seen_at` is written at most this often per session, so reads stay reads.
pub const TOUCH_INTERVAL: Duration = Duration::minutes(1);

/// The longest user agent kept on a session.
const USER_AGENT_MAX_CHARS: usize = 512;

/// How long sessions live. The values come from configuration (`ROSTER_SESSION_TTL`,
/// `ROSTER_SESSION_IDLE_TIMEOUT`), which holds the defaults.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// Absolute lifetime from sign-in of a session the person asked to keep
    /// ("keep me signed in").
    pub lifetime: Duration,
    /// Absolute lifetime of any other session, whose cookie also ends when the
    /// browser closes (`ROSTER_SESSION_SHORT_TTL`).
    pub short_lifetime: Duration,
    /// A session unused for this long ends, whatever its lifetime says.
    pub idle_timeout: Duration,
    /// How long a sign-in, or a password or code typed again, counts as recent proof
    /// for sensitive changes (`ROSTER_REAUTH_WINDOW`; `reauth`).
    pub reauth_window: Duration,
}

/// Whether the person asked to stay signed in on this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// Until the browser closes (a cookie without Max-Age), and never longer than
    /// the short lifetime: the default, for shared and borrowed computers.
    BrowserSession,
    /// "Keep me signed in": a cookie that outlives the browser, for the full lifetime.
    Remembered,
}

impl Persistence {
    pub fn chosen(remember: bool) -> Self {
        if remember {
            Self::Remembered
        } else {
            Self::BrowserSession
        }
    }
}

/// A session just started: its token (for the cookie only), how long it keeps, and
/// the browser's device cookie to set again (`devices`), once sign-in has noted it.
#[derive(Debug)]
pub struct NewSession {
    pub token: SessionToken,
    pub persistence: Persistence,
    pub device: Option<crate::ssr::devices::DeviceToken>,
}

impl SessionPolicy {
    /// The absolute lifetime of a new session that persists so.
    pub fn lifetime_of(&self, persistence: Persistence) -> Duration {
        match persistence {
            Persistence::Remembered => self.lifetime,
            // Never longer than a remembered one, whatever the settings say.
            Persistence::BrowserSession => self.short_lifetime.min(self.lifetime),
        }
    }

    /// Whether the session may still be used at `now`: before its absolute expiry
    /// and used within the idle timeout.
    pub fn is_live(&self, session: &SessionRecord, now: DateTime<Utc>) -> bool {
        session.expires_at > now && now - session.last_seen_at <= self.idle_timeout
    }
}

/// Whose a live session is, and, for a "view as" session, the administrator
/// viewing the site as that user.
#[derive(Debug, Clone)]
pub struct SessionHolder {
    pub user: User,
    pub impersonator: Option<Uuid>,
    /// When the session ends at the latest.
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone)]
pub struct SessionService {
    db: DatabaseConnection,
    store: Arc<dyn SessionStore>,
    cache: PrincipalCache,
    policy: SessionPolicy,
    audit: AuditLog,
}

impl SessionService {
    pub fn new(
        db: DatabaseConnection,
        store: Arc<dyn SessionStore>,
        cache: PrincipalCache,
        policy: SessionPolicy,
        audit: AuditLog,
    ) -> Self {
        Self {
            db,
            store,
            cache,
            policy,
            audit,
        }
    }

    pub fn policy(&self) -> SessionPolicy {
        self.policy
    }

    /// The store behind the service, for operator commands and tests; requests go
    /// through the methods below, which enforce expiry and keep the cache right.
    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.store
    }

    /// The authentication cache in front of the store.
    pub fn cache(&self) -> &PrincipalCache {
        &self.cache
    }

    /// A new session for the user; the token goes into the cookie, only its hash
    /// into the store.
    pub async fn start(
        &self,
        user_id: Uuid,
        client: &ClientMeta,
        persistence: Persistence,
    ) -> Result<NewSession, AppError> {
        let token = SessionToken::generate();
        let now = Utc::now();
        self.store
            .insert(SessionRecord {
                token_hash: token.hash(),
                public_id: Uuid::new_v4(),
                user_id,
                created_at: now,
                last_seen_at: now,
                expires_at: now + self.policy.lifetime_of(persistence),
                user_agent: client
                    .user_agent
                    .as_deref()
                    .map(|ua| ua.chars().take(USER_AGENT_MAX_CHARS).collect()),
                ip: client.ip.clone(),
                impersonator_id: None,
            })
            .await?;
        Ok(NewSession {
            token,
            persistence,
            device: None,
        })
    }

    /// A session in which the administrator `admin` views the site as `user_id`
    /// ("view as"): it ends after `lifetime` whatever happens, and its cookie with
    /// the browser.
    pub async fn start_viewing_as(
        &self,
        user_id: Uuid,
        admin: Uuid,
        client: &ClientMeta,
        lifetime: Duration,
    ) -> Result<(SessionToken, DateTime<Utc>), AppError> {
        let token = SessionToken::generate();
        let now = Utc::now();
        let expires_at = now + lifetime;
        self.store
            .insert(SessionRecord {
                token_hash: token.hash(),
                public_id: Uuid::new_v4(),
                user_id,
                created_at: now,
                last_seen_at: now,
                expires_at,
                user_agent: client
                    .user_agent
                    .as_deref()
                    .map(|ua| ua.chars().take(USER_AGENT_MAX_CHARS).collect()),
                ip: client.ip.clone(),
                impersonator_id: Some(admin),
            })
            .await?;
        Ok((token, expires_at))
    }

    /// The session's record as the store has it (expired or not), for what the
    /// cache does not carry (when a "view as" session ends).
    pub async fn record(&self, token: &SessionToken) -> Result<Option<SessionRecord>, AppError> {
        Ok(self.store.get(&token.hash()).await?)
    }

    /// The signed-in user for this token, enforcing expiry and the idle timeout on
    /// every call. Served from the cache when it can be; the stores decide the rest.
    pub async fn resolve(&self, token: Option<&SessionToken>) -> Result<Option<User>, AppError> {
        Ok(self.resolve_holder(token).await?.map(|holder| holder.user))
    }

    /// `resolve`, with the administrator viewing as the user, if any.
    pub async fn resolve_holder(&self, token: Option<&SessionToken>) -> Result<Option<SessionHolder>, AppError> {
        let Some(token) = token else { return Ok(None) };
        let hash = token.hash();
        let now = Utc::now();
        if let Some(cached) = self.cache.get(&hash) {
            // Only a session that is plainly alive is answered from memory; expiry
            // and idle decisions are left to the store's own record, and so is an
            // account whose granted role has passed (it is ended below).
            if self.policy.is_live(&cached.session, now) && !role_grants::has_passed(cached.user.role_expires_at, now) {
                if now - cached.session.last_seen_at >= TOUCH_INTERVAL
                    && self.cache.claim_touch(&hash, now, TOUCH_INTERVAL)
                {
                    self.store.touch(&hash, now).await?;
                }
                return Ok(Some(SessionHolder {
                    user: cached.user.clone(),
                    impersonator: cached.session.impersonator_id,
                    expires_at: cached.session.expires_at,
                }));
            }
        }
        // One store read per token at a time: whoever waited finds the answer cached.
        let lookup = self.cache.lock_lookup(&hash).await;
        if lookup.is_some()
            && let Some(cached) = self.cache.get_after_wait(&hash)
            && self.policy.is_live(&cached.session, now)
            && !role_grants::has_passed(cached.user.role_expires_at, now)
        {
            return Ok(Some(SessionHolder {
                user: cached.user.clone(),
                impersonator: cached.session.impersonator_id,
                expires_at: cached.session.expires_at,
            }));
        }
        let seen = self.cache.generation();
        let Some(mut session) = self.store.get(&hash).await? else {
            return Ok(None);
        };
        if !self.policy.is_live(&session, now) {
            self.end_by_hash(&hash).await?;
            return Ok(None);
        }
        let Some(account) = users::Entity::find_by_id(session.user_id).one(&self.db).await? else {
            return Ok(None);
        };
        let account = role_grants::end_if_passed(&self.db, &self.cache, &self.audit, account, now).await?;
        // Disabling ends sessions at once; this guards any that slip through.
        if account.disabled {
            self.end_by_hash(&hash).await?;
            return Ok(None);
        }
        // "View as" lasts only while its administrator still is one.
        if let Some(admin) = session.impersonator_id
            && !users::Entity::find_by_id(admin)
                .one(&self.db)
                .await?
                .is_some_and(|a| a.role() == crate::model::Role::Admin && !a.disabled)
        {
            self.end_by_hash(&hash).await?;
            return Ok(None);
        }
        if now - session.last_seen_at >= TOUCH_INTERVAL {
            self.store.touch(&hash, now).await?;
            session.last_seen_at = now;
        }
        let user = account.to_user();
        let (impersonator, expires_at) = (session.impersonator_id, session.expires_at);
        self.cache.put(
            &hash,
            Principal {
                session,
                user: user.clone(),
            },
            seen,
        );
        Ok(Some(SessionHolder {
            user,
            impersonator,
            expires_at,
        }))
    }

    /// Ends the session this token names, if it still exists; returns whose it was.
    pub async fn end(&self, token: &SessionToken) -> Result<Option<Uuid>, AppError> {
        let hash = token.hash();
        let Some(session) = self.store.get(&hash).await? else {
            return Ok(None);
        };
        self.end_by_hash(&hash).await?;
        Ok(Some(session.user_id))
    }

    /// Signs out: ends the session server-side and records it. Idempotent:
    /// signing out twice, or without a session, is not an error.
    /// An administrator's "view as" session (`view_as`) ends with their own.
    pub async fn sign_out(
        &self,
        token: Option<&SessionToken>,
        view_as: Option<&SessionToken>,
        client: &ClientMeta,
    ) -> Result<(), AppError> {
        if let Some(view_as) = view_as
            && let Some(viewed) = self.store.get(&view_as.hash()).await?
            && let Some(admin) = viewed.impersonator_id
        {
            self.end_by_hash(&viewed.token_hash).await?;
            let email = self.account(viewed.user_id).await.map(|a| a.email).unwrap_or_default();
            self.audit
                .record(
                    AuditAction::ImpersonationEnded,
                    Some(admin),
                    Some((viewed.user_id, &email)),
                    client,
                    Some("ended by signing out".to_owned()),
                )
                .await;
        }
        let Some(token) = token else { return Ok(()) };
        if let Some(user_id) = self.end(token).await? {
            self.audit
                .record(AuditAction::SignOut, Some(user_id), None, client, None)
                .await;
        }
        Ok(())
    }

    /// Ends every session of the user except `keep` (the caller's own, when a
    /// change should not sign them out here). Returns how many ended.
    pub async fn end_all_for_user(&self, user_id: Uuid, keep: Option<&SessionToken>) -> Result<u64, AppError> {
        let keep = keep.map(SessionToken::hash);
        let ended = self.store.remove_all_for_user(user_id, keep.as_deref()).await?;
        // After the store changed, so no lookup can cache the old sessions again.
        self.cache.forget_user(user_id).await;
        Ok(ended)
    }

    /// Removes one session from the store, then from the cache (in that order, so
    /// no lookup can cache it again in between).
    async fn end_by_hash(&self, token_hash: &str) -> Result<(), AppError> {
        self.store.remove(token_hash).await?;
        self.cache.forget(token_hash).await;
        Ok(())
    }

    /// The caller's own sessions, the current one marked.
    pub async fn list_own(&self, caller: &Caller) -> Result<Vec<SessionInfo>, AppError> {
        authorize(caller.actor, Action::ListOwnSessions, Target::Myself)?;
        let me = caller.user_id()?;
        self.list_live(me, caller).await
    }

    /// Another account's sessions (an administrator's user page), newest first;
    /// the caller's own session is marked if the account is theirs.
    pub async fn list_for_user(&self, caller: &Caller, user_id: Uuid) -> Result<Vec<SessionInfo>, AppError> {
        authorize(
            caller.actor,
            Action::ListUserSessions,
            Target::of(caller.actor, user_id),
        )?;
        self.account(user_id).await?;
        let mut sessions = self.list_live(user_id, caller).await?;
        sessions.sort_by(|a, b| b.last_seen_at.cmp(&a.last_seen_at));
        Ok(sessions)
    }

    /// Signs out one session of an account, named by its public id (an
    /// administrator's remedy for one lost device). Audited with both identities.
    pub async fn revoke_for_user(&self, caller: &Caller, user_id: Uuid, session_id: Uuid) -> Result<(), AppError> {
        authorize(caller.actor, Action::EndUserSessions, Target::of(caller.actor, user_id))?;
        let account = self.account(user_id).await?;
        let removed = self.store.remove_by_public_id(user_id, session_id).await?;
        self.cache.forget_user(user_id).await;
        if !removed {
            return Err(AppError::NotFound);
        }
        self.audit
            .record(
                AuditAction::SessionsRevoked,
                caller.actor.id(),
                Some((user_id, &account.email)),
                &caller.client,
                Some(format!("session {session_id} ended by an administrator")),
            )
            .await;
        Ok(())
    }

    async fn account(&self, user_id: Uuid) -> Result<users::Model, AppError> {
        users::Entity::find_by_id(user_id)
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// The account's unexpired sessions, the caller's own marked.
    async fn list_live(&self, user_id: Uuid, caller: &Caller) -> Result<Vec<SessionInfo>, AppError> {
        let current = caller.token.as_ref().map(SessionToken::hash);
        let now = Utc::now();
        Ok(self
            .store
            .list_for_user(user_id)
            .await?
            .into_iter()
            .filter(|s| s.expires_at > now)
            .map(|s| SessionInfo {
                current: current.as_deref() == Some(s.token_hash.as_str()),
                id: s.public_id,
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                expires_at: s.expires_at,
                viewed_by_admin: s.impersonator_id.is_some(),
                user_agent: s.user_agent,
                ip: s.ip,
            })
            .collect())
    }

    /// When the caller's session last proved who holds it: its sign-in, or a proof
    /// typed since (`session_proofs`, written by `reauth`). `None` without a live session.
    async fn last_proof(&self, caller: &Caller) -> Result<Option<DateTime<Utc>>, AppError> {
        use crate::ssr::entity::session_proofs;
        let Some(token) = &caller.token else {
            return Ok(None);
        };
        let hash = token.hash();
        let Some(session) = self.store.get(&hash).await? else {
            return Ok(None);
        };
        let proven = session_proofs::Entity::find_by_id(hash)
            .one(&self.db)
            .await?
            .map(|p| p.proven_at);
        Ok(Some(proven.map_or(session.created_at, |at| at.max(session.created_at))))
    }

    /// Whether the caller proved who they are within the re-authentication window.
    pub async fn is_recently_proven(&self, caller: &Caller) -> Result<bool, AppError> {
        Ok(self
            .last_proof(caller)
            .await?
            .is_some_and(|at| Utc::now() - at <= self.policy.reauth_window))
    }

    /// `ReauthenticationRequired` unless the caller proved who they are within the
    /// window (`reauth` has the rule; signing sessions out needs it too).
    pub async fn require_recent_proof(&self, caller: &Caller) -> Result<(), AppError> {
        caller.user_id()?;
        match self.is_recently_proven(caller).await? {
            true => Ok(()),
            false => Err(AppError::ReauthenticationRequired),
        }
    }

    /// Signs out one of the caller's own sessions, named by its public id (a
    /// recent proof needed: a stolen session must not sign its owner out).
    pub async fn revoke_own(&self, caller: &Caller, session_id: Uuid) -> Result<(), AppError> {
        authorize(caller.actor, Action::RevokeOwnSessions, Target::Myself)?;
        let me = caller.user_id()?;
        self.require_recent_proof(caller).await?;
        let removed = self.store.remove_by_public_id(me, session_id).await?;
        // The cache knows sessions by token, not public id: forget the account's.
        self.cache.forget_user(me).await;
        if !removed {
            return Err(AppError::NotFound);
        }
        let detail = Some(format!("session {session_id}"));
        self.audit
            .record(AuditAction::SessionsRevoked, Some(me), None, &caller.client, detail)
            .await;
        Ok(())
    }

    /// "Sign out everywhere else": every session of the caller's but this one (a
    /// recent proof needed).
    pub async fn revoke_others(&self, caller: &Caller) -> Result<u64, AppError> {
        authorize(caller.actor, Action::RevokeOwnSessions, Target::Myself)?;
        let me = caller.user_id()?;
        self.require_recent_proof(caller).await?;
        let removed = self.end_all_for_user(me, caller.token.as_ref()).await?;
        let detail = Some(format!("{removed} other session(s)"));
        self.audit
            .record(AuditAction::SessionsRevoked, Some(me), None, &caller.client, detail)
            .await;
        Ok(removed)
    }

    /// Deletes expired sessions. Expiry is enforced on every request; this only
    /// reclaims the space.
    pub async fn sweep(&self) -> Result<u64, AppError> {
        Ok(self.store.remove_expired(Utc::now()).await?)
    }

    /// Whether the store answers, for readiness probes.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(short_hours: i64) -> SessionPolicy {
        SessionPolicy {
            lifetime: Duration::days(14),
            short_lifetime: Duration::hours(short_hours),
            idle_timeout: Duration::hours(24),
            reauth_window: Duration::minutes(10),
        }
    }

    #[test]
    fn only_a_remembered_session_gets_the_full_lifetime() {
        let policy = policy(12);
        assert_eq!(policy.lifetime_of(Persistence::Remembered), Duration::days(14));
        assert_eq!(policy.lifetime_of(Persistence::BrowserSession), Duration::hours(12));
        assert_eq!(Persistence::chosen(true), Persistence::Remembered);
        assert_eq!(Persistence::chosen(false), Persistence::BrowserSession);
    }

    #[test]
    fn a_browser_session_never_outlives_a_remembered_one() {
        let policy = policy(24 * 30);
        assert_eq!(policy.lifetime_of(Persistence::BrowserSession), Duration::days(14));
    }
}
