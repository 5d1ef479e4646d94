//! Updating an account, step by step: the policy for each kind of change, the
//! current password when changing one's own, a free email, the write itself (with
//! the last-admin rule inside its transaction), the sessions the change ends, and
//! the audit trail.

use super::{UserService, lock_admins};
use crate::error::{AppError, UniqueViolation};
use crate::model::{AuditAction, Role, User};
use crate::policy::{Action, Actor, Target, authorize};
use crate::ssr::caller::Caller;
use crate::ssr::email_tokens::{self, Purpose};
use crate::ssr::entity::users;
use crate::validation::{Email, UpdateUserInput, ValidUserUpdate};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};
use uuid::Uuid;

impl UserService {
    /// Applies the fields present in `input`. A change to one's own password keeps
    /// the caller's session and ends the others. A new address of one's own is only
    /// asked for: it takes effect when the link mailed to it is followed
    /// (`EmailChange`); an administrator's change of another's takes effect at once.
    pub async fn update(&self, caller: &Caller, id: Uuid, input: &UpdateUserInput) -> Result<User, AppError> {
        let target = Target::of(caller.actor, id);
        let mut change = input.validate().map_err(AppError::validation)?;
        authorize_change(caller.actor, target, &change)?;
        let existing = self.find(id).await?;
        // Who may administer is the most sensitive change there is: a fresh proof.
        let ends_a_grant = change.role.is_some() && existing.role_expires_at.is_some();
        if change.role.is_some_and(|role| role != existing.role()) || change.role_expires_at.is_some() || ends_a_grant {
            self.reauth.require(caller).await?;
        }
        let grant = role_grant(&existing, &change)?;
        self.reauthenticate_for_new_email(&existing, target, &change).await?;
        let new_hash = self.new_password_hash(&existing, target, &change).await?;
        self.ensure_new_email_free(&existing, &change).await?;
        let requested_email = match &change.email {
            Some(email) if target == Target::Myself && !email.as_str().eq_ignore_ascii_case(&existing.email) => {
                change.email.take().map(Email::into_inner)
            }
            _ => None,
        };
        let updated = self
            .write(&existing, change, new_hash.clone(), requested_email.as_deref(), grant)
            .await?;
        let password_changed = new_hash.is_some();
        self.end_sessions_after(caller, target, &existing, &updated, password_changed)
            .await?;
        self.record_update(caller, &existing, &updated, password_changed).await;
        if let Some(requested) = requested_email {
            let detail = Some(format!("{}: to {requested}", Purpose::EmailChange.as_str()));
            let who = Some((updated.id, updated.email.as_str()));
            self.audit
                .record(AuditAction::TokenIssued, caller.actor.id(), who, &caller.client, detail)
                .await;
        }
        Ok(updated.to_user())
    }

    /// The email is how one signs in (and, later, recovers an account): changing
    /// one's own needs the current password, so a session left open on a shared
    /// computer cannot take the account over. An admin changing another's does not.
    async fn reauthenticate_for_new_email(
        &self,
        existing: &users::Model,
        target: Target,
        change: &ValidUserUpdate,
    ) -> Result<(), AppError> {
        let changes_email = change
            .email
            .as_ref()
            .is_some_and(|e| !e.as_str().eq_ignore_ascii_case(&existing.email));
        if target != Target::Myself || !changes_email {
            return Ok(());
        }
        let current = change.current_password.as_ref().ok_or_else(|| {
            AppError::invalid_field("current_password", "Enter your current password to change your email.")
        })?;
        self.require_password(existing, current, "current_password").await
    }

    /// The new password's hash, after checking the current password when the
    /// caller changes their own.
    async fn new_password_hash(
        &self,
        existing: &users::Model,
        target: Target,
        change: &ValidUserUpdate,
    ) -> Result<Option<String>, AppError> {
        let Some(password) = &change.password else {
            return Ok(None);
        };
        // Judged against the account as it will be after this change.
        let name = change.name.as_ref().map_or(existing.name.as_str(), |n| n.as_str());
        let email = change.email.as_ref().map_or(existing.email.as_str(), |e| e.as_str());
        let password = password
            .clone()
            .refuse_context_words(name, email)
            .map_err(|e| AppError::invalid_field("password", e))?;
        if target == Target::Myself {
            let current = change.current_password.as_ref().ok_or_else(|| {
                AppError::invalid_field("current_password", "Enter your current password to change it.")
            })?;
            self.require_password(existing, current, "current_password").await?;
        }
        Ok(Some(self.hasher.hash_new(&password).await?))
    }

    /// Fails fast on an email another account has; the unique index decides a race.
    async fn ensure_new_email_free(&self, existing: &users::Model, change: &ValidUserUpdate) -> Result<(), AppError> {
        match &change.email {
            Some(email) if !email.as_str().eq_ignore_ascii_case(&existing.email) => {
                users::ensure_email_free(&self.db, email.as_str()).await
            }
            _ => Ok(()),
        }
    }

    /// Writes the change in one transaction that refuses to leave no active admin.
    async fn write(
        &self,
        existing: &users::Model,
        change: ValidUserUpdate,
        new_hash: Option<String>,
        requested_email: Option<&str>,
        grant: Option<RoleGrant>,
    ) -> Result<users::Model, AppError> {
        let was_active_admin = existing.role() == Role::Admin && !existing.disabled;
        let now = Utc::now();
        let new_address = change
            .email
            .as_ref()
            .is_some_and(|e| !e.as_str().eq_ignore_ascii_case(&existing.email));
        let txn = crate::ssr::db::begin_write(&self.db).await?;
        if was_active_admin {
            lock_admins(&txn).await?;
        }
        let mut row = existing.clone().into_active_model();
        if let Some(name) = change.name {
            row.name = Set(name.into_inner());
        }
        if let Some(email) = change.email {
            row.email = Set(email.into_inner());
        }
        // A new address is unproven until its link is followed (or an admin says so).
        if new_address {
            row.email_verified_at = Set(None);
        }
        if let Some(verified) = change.email_verified {
            row.email_verified_at = Set(verified.then(|| existing.email_verified_at.unwrap_or(now)));
        }
        let voids_reset_links = new_address || new_hash.is_some() || change.disabled == Some(true);
        if let Some(hash) = new_hash {
            row.password_hash = Set(hash);
        }
        if let Some(role) = change.role {
            row.role = Set(role.as_str().to_owned());
        }
        match grant {
            Some(RoleGrant::Until { at, then }) => {
                row.role_expires_at = Set(Some(at));
                row.role_after_expiry = Set(Some(then.as_str().to_owned()));
            }
            Some(RoleGrant::Lasting) => {
                row.role_expires_at = Set(None);
                row.role_after_expiry = Set(None);
            }
            None => {}
        }
        if let Some(disabled) = change.disabled {
            row.disabled = Set(disabled);
        }
        row.updated_at = Set(now);
        let updated = row.update(&txn).await.conflict_on_unique(AppError::EmailTaken)?;
        if was_active_admin && users::count_active_admins(&txn).await? == 0 {
            txn.rollback().await?;
            return Err(AppError::LastAdmin);
        }
        // A reset link or a sign-in code must not outlive the password, the address
        // or the account it was sent for.
        if voids_reset_links {
            for purpose in [Purpose::PasswordReset, Purpose::SignInCode] {
                email_tokens::void(&txn, updated.id, purpose).await?;
            }
        }
        if new_address && updated.email_verified_at.is_none() {
            self.verification.queue(&txn, &updated).await?;
        }
        if let Some(requested) = requested_email {
            self.email_change.request(&txn, &updated, requested).await?;
        }
        txn.commit().await?;
        Ok(updated)
    }

    /// Credentials or privileges changed: other sessions must not keep the old
    /// ones. Disabling ends every session. Either way the cached account is
    /// forgotten, after the store changed, so no lookup can cache the old one again.
    async fn end_sessions_after(
        &self,
        caller: &Caller,
        target: Target,
        existing: &users::Model,
        updated: &users::Model,
        password_changed: bool,
    ) -> Result<(), AppError> {
        let disabling = updated.disabled && !existing.disabled;
        let role_changed = updated.role() != existing.role();
        if disabling {
            self.sessions.end_all_for_user(updated.id, None).await?;
        } else if password_changed || role_changed {
            let keep = (target == Target::Myself).then_some(caller.token.as_ref()).flatten();
            self.sessions.end_all_for_user(updated.id, keep).await?;
        } else {
            self.sessions.cache().forget_user(updated.id).await;
        }
        Ok(())
    }

    async fn record_update(
        &self,
        caller: &Caller,
        existing: &users::Model,
        updated: &users::Model,
        password_changed: bool,
    ) {
        let (actor, client) = (caller.actor.id(), &caller.client);
        let who = Some((updated.id, updated.email.as_str()));
        if updated.name != existing.name || updated.email != existing.email {
            let detail = (updated.email != existing.email).then(|| format!("email was {}", existing.email));
            self.audit
                .record(AuditAction::ProfileUpdated, actor, who, client, detail)
                .await;
        }
        if password_changed {
            self.audit
                .record(AuditAction::PasswordChanged, actor, who, client, None)
                .await;
        }
        let until = |at: Option<chrono::DateTime<Utc>>| {
            at.map(|at| format!(" until {}", at.format("%Y-%m-%d %H:%M UTC")))
                .unwrap_or_default()
        };
        if updated.role() != existing.role() || updated.role_expires_at != existing.role_expires_at {
            let detail = Some(format!(
                "{} → {}{}",
                existing.role().as_str(),
                updated.role().as_str(),
                until(updated.role_expires_at)
            ));
            self.audit
                .record(AuditAction::RoleChanged, actor, who, client, detail)
                .await;
        }
        let new_address = !updated.email.eq_ignore_ascii_case(&existing.email);
        let unproven_new_address = new_address && updated.email_verified_at.is_none();
        if unproven_new_address {
            self.verification.record_sent(updated, actor, client).await;
        }
        let proven_changed = updated.email_verified_at.is_some() != existing.email_verified_at.is_some();
        if proven_changed && !unproven_new_address {
            let action = match updated.email_verified_at {
                Some(_) => AuditAction::EmailVerified,
                None => AuditAction::EmailUnverified,
            };
            let detail = Some("by an administrator".to_owned());
            self.audit.record(action, actor, who, client, detail).await;
        }
        if updated.disabled != existing.disabled {
            let action = if updated.disabled {
                AuditAction::UserDisabled
            } else {
                AuditAction::UserEnabled
            };
            self.audit.record(action, actor, who, client, None).await;
        }
    }
}

/// What an update does to a role granted for a while.
enum RoleGrant {
    /// The new role lasts until `at`, then the account has `then`.
    Until { at: chrono::DateTime<Utc>, then: Role },
    /// The new role lasts: any grant's end is dropped.
    Lasting,
}

/// A new role with `role_expires_at` is granted until then, and the account returns
/// to the role it has for good (its current one, or the one a current grant returns
/// to). A new role without it lasts. `role_expires_at` alone moves a current grant's end.
fn role_grant(existing: &users::Model, change: &ValidUserUpdate) -> Result<Option<RoleGrant>, AppError> {
    let lasting_role = existing
        .role_after_expiry
        .as_deref()
        .and_then(Role::parse)
        .unwrap_or_else(|| existing.role());
    let new_role = change.role.filter(|role| *role != existing.role());
    match (new_role, change.role_expires_at) {
        (Some(role), Some(_)) if role == lasting_role => Err(AppError::invalid_field(
            "role_expires_at",
            "This is the role the account returns to: give it without an end.",
        )),
        (Some(_), Some(at)) => Ok(Some(RoleGrant::Until { at, then: lasting_role })),
        (Some(_), None) => Ok(Some(RoleGrant::Lasting)),
        (None, Some(at)) if existing.role_expires_at.is_some() => Ok(Some(RoleGrant::Until { at, then: lasting_role })),
        // The role it has, given without an end: it lasts.
        (None, None) if change.role.is_some() && existing.role_expires_at.is_some() => Ok(Some(RoleGrant::Lasting)),
        (None, Some(_)) => Err(AppError::invalid_field(
            "role_expires_at",
            "Give the role to grant with it: this account's role is not granted for a while.",
        )),
        (None, None) => Ok(None),
    }
}

/// Every kind of change in the update must be allowed on its own; an empty
/// update is a read.
fn authorize_change(actor: Actor, target: Target, change: &ValidUserUpdate) -> Result<(), AppError> {
    let mut actions = Vec::new();
    if change.name.is_some() || change.email.is_some() {
        actions.push(Action::UpdateProfile);
    }
    if change.password.is_some() {
        actions.push(Action::ChangePassword);
    }
    if change.role.is_some() || change.role_expires_at.is_some() {
        actions.push(Action::ChangeRole);
    }
    if change.disabled.is_some() {
        actions.push(Action::ChangeDisabled);
    }
    if change.email_verified.is_some() {
        actions.push(Action::ChangeEmailVerified);
    }
    if actions.is_empty() {
        actions.push(Action::ReadUser);
    }
    actions
        .into_iter()
        .try_for_each(|action| authorize(actor, action, target))
}
