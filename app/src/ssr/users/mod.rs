//! User management: listing (`listing.rs`), creating, reading, updating
//! (`update.rs`), deleting and importing (`import.rs`) accounts. Every operation asks the policy first; the
//! REST API and the server functions both call these methods.

mod approval;
mod bulk;
pub mod import;
mod listing;
mod update;

use crate::error::AppError;
use crate::model::{AuditAction, Role, User};
use crate::policy::{Action, Target, authorize};
use crate::ssr::audit::AuditLog;
use crate::ssr::caller::{Caller, ClientMeta};
use crate::ssr::email_change::EmailChange;
use crate::ssr::entity::users;
use crate::ssr::password::PasswordHasher;
use crate::ssr::reauth::Reauth;
use crate::ssr::replica::Reads;
use crate::ssr::sessions::SessionService;
use crate::ssr::verification::EmailVerification;
use crate::validation::{CreateUserInput, DeleteUserInput, Email, Password, UserName};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait,
    IntoActiveModel, Statement,
};
use uuid::Uuid;

#[derive(Clone)]
pub struct UserService {
    db: DatabaseConnection,
    /// Listing and search may read from a replica.
    reads: Reads,
    sessions: SessionService,
    hasher: PasswordHasher,
    audit: AuditLog,
    /// Links that prove a new address.
    verification: EmailVerification,
    /// One's own new address, asked for and confirmed by mail.
    email_change: EmailChange,
    /// A role change needs a recent proof from the administrator making it.
    reauth: Reauth,
}

impl UserService {
    pub fn new(
        db: DatabaseConnection,
        sessions: SessionService,
        hasher: PasswordHasher,
        audit: AuditLog,
        verification: EmailVerification,
        email_change: EmailChange,
        reauth: Reauth,
    ) -> Self {
        Self {
            reads: Reads::primary_only(db.clone()),
            db,
            sessions,
            hasher,
            audit,
            verification,
            email_change,
            reauth,
        }
    }

    /// Listing and search read through `reads` (a replica, when there is one).
    pub fn reading_from(self, reads: Reads) -> Self {
        Self { reads, ..self }
    }

    pub async fn create(&self, caller: &Caller, input: &CreateUserInput) -> Result<User, AppError> {
        authorize(caller.actor, Action::CreateUser, Target::Collection)?;
        let valid = input.validate().map_err(AppError::validation)?;
        // Fail fast before paying for a hash; the unique index decides a race.
        let account = valid.account;
        users::ensure_email_free(&self.db, account.email.as_str()).await?;
        let hash = self.hasher.hash_new(&account.password).await?;
        let txn = crate::ssr::db::begin_write(&self.db).await?;
        let row = users::insert_new(
            &txn,
            account.name.into_inner(),
            account.email.into_inner(),
            hash,
            valid.role,
        )
        .await?;
        // The new account's owner proves the address the administrator typed.
        self.verification.queue(&txn, &row).await?;
        txn.commit().await?;
        let user = row.to_user();
        let detail = Some(format!("role {}", user.role.as_str()));
        self.audit
            .record(
                AuditAction::UserCreated,
                caller.actor.id(),
                Some((user.id, &user.email)),
                &caller.client,
                detail,
            )
            .await;
        self.verification
            .record_sent(&row, caller.actor.id(), &caller.client)
            .await;
        Ok(user)
    }

    async fn find(&self, id: Uuid) -> Result<users::Model, AppError> {
        users::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// Ends every session of the account, on every server at once (an admin's remedy
    /// for a lost or stolen device); the number ended. Audited as `sessions_revoked`.
    pub async fn end_sessions(&self, caller: &Caller, id: Uuid) -> Result<u64, AppError> {
        authorize(caller.actor, Action::EndUserSessions, Target::of(caller.actor, id))?;
        let target = self.find(id).await?;
        let ended = self.sessions.end_all_for_user(id, None).await?;
        self.audit
            .record(
                AuditAction::SessionsRevoked,
                caller.actor.id(),
                Some((id, &target.email)),
                &caller.client,
                Some(format!("{ended} ended by an administrator")),
            )
            .await;
        Ok(ended)
    }

    /// Authorization comes before existence, so a user cannot probe for other ids.
    pub async fn get(&self, caller: &Caller, id: Uuid) -> Result<User, AppError> {
        authorize(caller.actor, Action::ReadUser, Target::of(caller.actor, id))?;
        let cache = self.sessions.cache();
        if let Some(user) = cache.account(id) {
            return Ok((*user).clone());
        }
        let seen = cache.generation();
        let user = self.find(id).await?.to_user();
        cache.put_account(user.clone(), seen);
        Ok(user)
    }

    /// Deleting one's own account needs the password; an admin deleting another does not.
    pub async fn delete(&self, caller: &Caller, id: Uuid, input: &DeleteUserInput) -> Result<(), AppError> {
        let target = Target::of(caller.actor, id);
        authorize(caller.actor, Action::DeleteUser, target)?;
        let existing = self.find(id).await?;
        if target == Target::Myself {
            let password = input.own_password().map_err(AppError::validation)?;
            self.require_password(&existing, &password, "password").await?;
        }
        let was_active_admin = existing.role() == Role::Admin && !existing.disabled;
        let txn = crate::ssr::db::begin_write(&self.db).await?;
        if was_active_admin {
            lock_admins(&txn).await?;
        }
        users::Entity::delete_by_id(id).exec(&txn).await?;
        if was_active_admin && users::count_active_admins(&txn).await? == 0 {
            txn.rollback().await?;
            return Err(AppError::LastAdmin);
        }
        txn.commit().await?;
        // The database store cascades; other stores are told explicitly.
        self.sessions.end_all_for_user(id, None).await?;
        let who = Some((existing.id, existing.email.as_str()));
        self.audit
            .record(
                AuditAction::UserDeleted,
                caller.actor.id().filter(|a| *a != id),
                who,
                &caller.client,
                None,
            )
            .await;
        Ok(())
    }

    async fn require_password(&self, user: &users::Model, password: &Password, field: &str) -> Result<(), AppError> {
        if self.hasher.verify(password, Some(&user.password_hash)).await? {
            Ok(())
        } else {
            Err(AppError::invalid_field(field, "This password is not correct."))
        }
    }

    /// Creates an administrator, or promotes (and re-enables) an existing account;
    /// either way the password given becomes the account's password. For the CLI.
    pub async fn create_or_promote_admin(
        &self,
        email: &str,
        name: &str,
        password: &str,
    ) -> Result<(User, bool), AppError> {
        let email = Email::parse(email).map_err(|e| AppError::invalid_field("email", e))?;
        let name = UserName::parse(name).map_err(|e| AppError::invalid_field("name", e))?;
        let password = Password::parse_new(password)
            .and_then(|p| p.refuse_context_words(name.as_str(), email.as_str()))
            .map_err(|e| AppError::invalid_field("password", e))?;
        let hash = self.hasher.hash_new(&password).await?;
        if let Some(existing) = users::find_by_email(&self.db, email.as_str()).await? {
            let verified_at = existing.email_verified_at.unwrap_or_else(Utc::now);
            let mut row = existing.into_active_model();
            row.role = Set(Role::Admin.as_str().to_owned());
            row.disabled = Set(false);
            // For good: not waiting for approval, and no grant that would end it.
            row.approval_pending = Set(false);
            row.role_expires_at = Set(None);
            row.role_after_expiry = Set(None);
            row.email_verified_at = Set(Some(verified_at));
            row.password_hash = Set(hash);
            row.updated_at = Set(Utc::now());
            let updated = row.update(&self.db).await?;
            self.sessions.cache().forget_user(updated.id).await;
            let user = updated.to_user();
            let detail = Some("promoted to admin from the command line".to_owned());
            let who = Some((user.id, user.email.as_str()));
            self.audit
                .record(AuditAction::RoleChanged, None, who, &ClientMeta::default(), detail)
                .await;
            return Ok((user, false));
        }
        let created = users::insert_new(&self.db, name.into_inner(), email.into_inner(), hash, Role::Admin).await?;
        // The operator who runs the command vouches for the address: an administrator
        // must be able to sign in where `ROSTER_REQUIRE_VERIFIED_EMAIL` is on.
        let mut row = created.into_active_model();
        row.email_verified_at = Set(Some(Utc::now()));
        let created = row.update(&self.db).await?;
        let user = created.to_user();
        let detail = Some("admin created from the command line".to_owned());
        let who = Some((user.id, user.email.as_str()));
        self.audit
            .record(AuditAction::UserCreated, None, who, &ClientMeta::default(), detail)
            .await;
        Ok((user, true))
    }
}

/// PostgreSQL: serialize concurrent changes to administrators, so two admins
/// demoting each other at once cannot leave none. (SQLite already serializes
/// writers, and the count after the write sees the other's committed change.)
pub(crate) async fn lock_admins<C: ConnectionTrait>(db: &C) -> Result<(), AppError> {
    if db.get_database_backend() == DatabaseBackend::Postgres {
        let sql = "SELECT id FROM users WHERE role = 'admin' AND disabled = false FOR UPDATE";
        db.query_all_raw(Statement::from_string(DatabaseBackend::Postgres, sql))
            .await?;
    }
    Ok(())
}
