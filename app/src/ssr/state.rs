//! Everything a request handler or server function needs. Holds no per-user state:
//! any number of server processes can share one database. Handlers and extractors
//! clone it on every request, so it is one shared allocation behind an `Arc`.

use crate::ssr::audit::AuditLog;
use crate::ssr::auth::AuthService;
use crate::ssr::cookie::CookieConfig;
use crate::ssr::email_change::EmailChange;
use crate::ssr::invitations::Invitations;
use crate::ssr::mail::MailService;
use crate::ssr::password::PasswordHasher;
use crate::ssr::password_reset::PasswordReset;
use crate::ssr::replica::Reads;
use crate::ssr::second_factor::SecondFactors;
use crate::ssr::sessions::SessionService;
use crate::ssr::sign_in_code::SignInCodes;
use crate::ssr::stats::StatsService;
use crate::ssr::users::UserService;
use crate::ssr::verification::EmailVerification;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// The services, one per concept; each is also reachable from the others that
/// need it (a service holds clones, which share their state).
pub struct Services {
    pub db: DatabaseConnection,
    /// Credentials: registration and sign-in.
    pub auth: AuthService,
    /// Session lifecycle and the authentication cache.
    pub sessions: SessionService,
    /// Account management.
    pub users: UserService,
    /// Links that prove an address.
    pub verification: EmailVerification,
    /// Links that reset a forgotten password.
    pub password_reset: PasswordReset,
    pub sign_in_code: SignInCodes,
    /// Authenticator apps, recovery codes, sign-in's second step and re-authentication.
    pub second_factors: SecondFactors,
    /// Links that confirm one's own new address, and undo a change.
    pub email_change: EmailChange,
    /// Invitations to register.
    pub invitations: Invitations,
    /// The admin dashboard's figures.
    pub stats: StatsService,
    /// Administrators viewing the site as a user ("view as").
    pub impersonations: crate::ssr::impersonation::Impersonations,
    /// The audit log.
    pub audit: AuditLog,
    /// Where lag-tolerant reads go (a replica, when there is one).
    pub reads: Reads,
    /// Password hashing (argon2id on its own threads).
    pub hasher: PasswordHasher,
    pub cookies: CookieConfig,
    /// Composing mail, and the worker that sends the outbox.
    pub mail: MailService,
}

#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}
