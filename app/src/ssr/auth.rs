//! Credentials: registering, and signing in with an email and password (throttled,
//! timing-safe). The one implementation behind both the REST API and the server
//! functions. What happens to a session after it starts is `sessions`' business.

use crate::error::AppError;
use crate::model::{AuditAction, RegistrationMode, Role, User};
use crate::ssr::audit::AuditLog;
use crate::ssr::caller::ClientMeta;
use crate::ssr::devices::{KnownDevices, Notify};
use crate::ssr::entity::users;
use crate::ssr::invitations::Invitations;
use crate::ssr::password::PasswordHasher;
use crate::ssr::password::needs_rehash;
use crate::ssr::second_factor::{FirstStep, SecondFactors, SignInStep};
use crate::ssr::sessions::{NewSession, Persistence, SessionService, SessionToken};
use crate::ssr::throttle::LoginThrottle;
use crate::ssr::verification::EmailVerification;
use crate::validation::{LoginInput, Password, RegisterInput};
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
    /// `ROSTER_REGISTRATION`: who may create an account.
    registration: RegistrationMode,
    invitations: Invitations,
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
        registration: RegistrationMode,
        invitations: Invitations,
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
            registration,
            invitations,
        }
    }

    pub fn registration_mode(&self) -> RegistrationMode {
        self.registration
    }

    pub fn requires_verified_email(&self) -> bool {
        self.require_verified_email
    }

    /// Creates the account and sends the link that proves its address (in the
    /// same transaction: no account without its link on the way). Signs it in for
    /// this browser session (staying signed in is a choice made at sign-in), unless
    /// sign-in waits for a proven address. `ROSTER_REGISTRATION` decides who may:
    /// with an invitation, only its address, with its role; where sign-up needs
    /// approval, the account waits (signed in only to be told so).
    pub async fn register(
        &self,
        input: &RegisterInput,
        invitation: Option<&str>,
        client: &ClientMeta,
    ) -> Result<(User, Option<NewSession>), AppError> {
        let invitation = invitation.map(str::trim).filter(|s| !s.is_empty());
        self.check_mode(input, invitation, client).await?;
        let valid = input.validate().map_err(AppError::validation)?;
        // Refused before any work while the client's address is over its limit.
        let keys = self.throttle.registration_keys(client.ip.as_deref());
        self.throttle.check(&keys).await?;
        let invited = match invitation {
            Some(raw) => Some(self.invited(raw, valid.email.as_str(), &keys, client).await?),
            None => None,
        };
        // Fail fast on a taken email before paying for a hash; the unique index
        // decides a race.
        users::ensure_email_free(&self.db, valid.email.as_str()).await?;
        // Counted before the hash it is about to cost, whatever comes of it.
        self.throttle.record_failure(&keys).await?;
        let password_hash = self.hasher.hash_new(&valid.password).await?;
        let role = invited
            .as_ref()
            .map_or(Role::User, |i| Role::parse(&i.role).unwrap_or(Role::User));
        let waits = self.registration == RegistrationMode::Approval && invited.is_none();
        let txn = crate::ssr::db::begin_write(&self.db).await?;
        let mut account = users::insert_new(
            &txn,
            valid.name.into_inner(),
            valid.email.into_inner(),
            password_hash,
            role,
        )
        .await?;
        if let Some(invitation) = &invited {
            self.invitations.accept(&txn, invitation, account.id).await?;
        }
        let proven = invited.as_ref().is_some_and(|i| i.sent_by_mail);
        if waits || proven {
            account = users::mark_new_account(&txn, account, waits, proven).await?;
        }
        if !proven {
            self.verification.queue(&txn, &account).await?;
        }
        txn.commit().await?;
        let user = account.to_user();
        let session = match self.require_verified_email && !proven {
            true => None,
            false => {
                let session = self
                    .devices
                    .start_session(&account, client, Persistence::BrowserSession, Notify::No)
                    .await?;
                Some(session)
            }
        };
        let detail = match (&invited, waits) {
            (Some(_), _) => Some(format!("invited, role {}", role.as_str())),
            (None, true) => Some("waiting for approval".to_owned()),
            (None, false) => None,
        };
        self.audit
            .record(
                AuditAction::Registered,
                Some(user.id),
                Some((user.id, &user.email)),
                client,
                detail,
            )
            .await;
        if !proven {
            self.verification.record_sent(&account, Some(user.id), client).await;
        }
        metrics::counter!("roster_registrations_total").increment(1);
        Ok((user, session))
    }

    /// Refuses (and audits) a registration `ROSTER_REGISTRATION` does not allow:
    /// none where it is closed, none without an invitation where one is needed.
    async fn check_mode(
        &self,
        input: &RegisterInput,
        invitation: Option<&str>,
        client: &ClientMeta,
    ) -> Result<(), AppError> {
        let refusal = match (self.registration, invitation) {
            (RegistrationMode::Closed, _) => Some("registration is closed"),
            (RegistrationMode::Invite, None) => Some("no invitation"),
            _ => None,
        };
        let Some(reason) = refusal else {
            return Ok(());
        };
        let detail = Some(format!("{reason}: {}", input.email.trim()));
        self.audit
            .record(AuditAction::RegistrationRefused, None, None, client, detail)
            .await;
        Err(AppError::RegistrationClosed)
    }

    async fn refused(&self, email: &str, reason: &str, client: &ClientMeta) {
        let detail = Some(format!("{reason}: {email}"));
        self.audit
            .record(AuditAction::RegistrationRefused, None, None, client, detail)
            .await;
    }

    /// The invitation a link names, if it still works and is for this address. A
    /// wrong link counts against the client like a failed registration.
    async fn invited(
        &self,
        raw: &str,
        email: &str,
        keys: &crate::ssr::throttle::AttemptKeys,
        client: &ClientMeta,
    ) -> Result<crate::ssr::entity::invitations::Model, AppError> {
        let invitation = match self.invitations.find_usable(&self.db, raw, chrono::Utc::now()).await {
            Ok(invitation) => invitation,
            Err(error) => {
                self.throttle.record_failure(keys).await?;
                self.refused(email, "an invitation that is not valid", client).await;
                return Err(error);
            }
        };
        if !invitation.email.eq_ignore_ascii_case(email) {
            self.refused(email, "an invitation for another address", client).await;
            return Err(AppError::invalid_field(
                "email",
                "This invitation is for another address: register with the address it was sent to.",
            ));
        }
        Ok(invitation)
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
        self.upgrade_hash(&account, &valid.password, client).await?;
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

    /// An imported account's hash (or an argon2 hash with older parameters) is
    /// replaced by a fresh argon2id one once its password is proven. Only if it is
    /// still the hash that was checked: a change made meanwhile wins.
    async fn upgrade_hash(
        &self,
        account: &users::Model,
        password: &Password,
        client: &ClientMeta,
    ) -> Result<(), AppError> {
        if !needs_rehash(&account.password_hash) {
            return Ok(());
        }
        let fresh = self.hasher.hash(password).await?;
        let replaced = users::replace_password_hash(&self.db, account.id, &account.password_hash, &fresh).await?;
        if replaced {
            let detail = crate::ssr::legacy_hash::StoredHash::recognize(&account.password_hash)
                .map(|h| format!("from {}", h.format_name()))
                .ok();
            let who = Some((account.id, account.email.as_str()));
            self.audit
                .record(AuditAction::PasswordRehashed, Some(account.id), who, client, detail)
                .await;
        }
        Ok(())
    }
}
