//! "View as": an administrator sees the site as one (non-admin) account does, to
//! understand what that person sees. It is a session of its own, beside the
//! administrator's (the `roster_view_as` cookie; their own session cookie is left
//! alone), that ends after 30 minutes whatever happens, or at one click. In it the
//! policy's `Actor::ViewedAs` may only look: not the account's password, address,
//! factors or sessions, nor anything else. Start and end are audited with both
//! identities, so the account's owner sees it in their own activity.

use crate::error::AppError;
use crate::model::{AuditAction, ImpersonationInfo, Role, User};
use crate::policy::{Action, Target, authorize};
use crate::ssr::audit::AuditLog;
use crate::ssr::caller::Caller;
use crate::ssr::entity::users;
use crate::ssr::reauth::Reauth;
use crate::ssr::sessions::{SessionService, SessionToken};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{DatabaseConnection, EntityTrait};
use uuid::Uuid;

/// How long one "view as" lasts at most.
pub const VIEW_AS_LIFETIME: Duration = Duration::minutes(30);

#[derive(Clone)]
pub struct Impersonations {
    db: DatabaseConnection,
    sessions: SessionService,
    audit: AuditLog,
    /// Starting needs a recent proof from the administrator.
    reauth: Reauth,
}

/// A "view as" just begun: its token (for the cookie only) and the account.
pub struct Started {
    pub token: SessionToken,
    pub ends_at: DateTime<Utc>,
    pub user: User,
}

impl Impersonations {
    pub fn new(db: DatabaseConnection, sessions: SessionService, audit: AuditLog, reauth: Reauth) -> Self {
        Self {
            db,
            sessions,
            audit,
            reauth,
        }
    }

    /// Begins viewing as the account `id`: an administrator only, never as
    /// oneself, another administrator, or an account that cannot sign in.
    pub async fn start(&self, caller: &Caller, id: Uuid) -> Result<Started, AppError> {
        authorize(caller.actor, Action::Impersonate, Target::of(caller.actor, id))?;
        let admin = caller.user()?.clone();
        if admin.id == id {
            return Err(AppError::conflict("That is your own account."));
        }
        let target = users::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound)?;
        if target.role() == Role::Admin {
            return Err(AppError::Forbidden);
        }
        if target.disabled || target.approval_pending {
            return Err(AppError::conflict(
                "This account cannot sign in (disabled or waiting for approval), so there is nothing to see as it.",
            ));
        }
        self.reauth.require(caller).await?;
        let (token, ends_at) = self
            .sessions
            .start_viewing_as(id, admin.id, &caller.client, VIEW_AS_LIFETIME)
            .await?;
        self.audit
            .record(
                AuditAction::ImpersonationStarted,
                Some(admin.id),
                Some((id, &target.email)),
                &caller.client,
                Some(format!(
                    "{} viewing as this account until {}",
                    admin.email,
                    ends_at.format("%H:%M UTC")
                )),
            )
            .await;
        Ok(Started {
            token,
            ends_at,
            user: target.to_user(),
        })
    }

    /// What the banner shows: whom the caller views as, and until when.
    pub async fn info(&self, caller: &Caller) -> Result<Option<ImpersonationInfo>, AppError> {
        let (Some(impersonation), Some(user)) = (caller.impersonation, &caller.user) else {
            return Ok(None);
        };
        let admin_email = self.email_of(impersonation.admin).await?;
        Ok(Some(ImpersonationInfo {
            user: user.clone(),
            admin_id: impersonation.admin,
            admin_email,
            ends_at: impersonation.ends_at,
        }))
    }

    /// An administrator's address, for the banner and the audit detail (empty if
    /// they were deleted meanwhile).
    async fn email_of(&self, id: Uuid) -> Result<String, AppError> {
        Ok(users::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(|a| a.email)
            .unwrap_or_default())
    }

    /// Ends the caller's "view as" (the administrator is themselves again);
    /// returns the account that was viewed.
    pub async fn end(&self, caller: &Caller) -> Result<Uuid, AppError> {
        let (Some(impersonation), Some(token), Some(user)) = (caller.impersonation, &caller.token, &caller.user) else {
            return Err(AppError::conflict("You are not viewing the site as anyone."));
        };
        self.sessions.end(token).await?;
        let admin_email = self.email_of(impersonation.admin).await?;
        self.audit
            .record(
                AuditAction::ImpersonationEnded,
                Some(impersonation.admin),
                Some((user.id, &user.email)),
                &caller.client,
                Some(format!("{admin_email} stopped viewing as this account")),
            )
            .await;
        Ok(user.id)
    }
}
