//! Who may do what to whom: the one place authorization is decided. Pure and
//! shared, so the UI can hide what the server would refuse anyway.

use crate::model::{Role, User};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Anonymous,
    /// Signed in to an account that waits for an administrator's approval
    /// (`ROSTER_REGISTRATION=approval`): it may see itself and leave, nothing more.
    Pending(Uuid),
    User(Uuid),
    Admin(Uuid),
    /// An administrator viewing the site as this (non-admin) user, in a session
    /// started for that ("view as", `impersonation`): it may look, not change.
    ViewedAs(Uuid),
}

impl Actor {
    pub fn of(user: Option<&User>) -> Self {
        match user {
            None => Self::Anonymous,
            Some(u) if u.approval_pending => Self::Pending(u.id),
            Some(u) if u.role == Role::Admin => Self::Admin(u.id),
            Some(u) => Self::User(u.id),
        }
    }

    pub fn id(self) -> Option<Uuid> {
        match self {
            Self::Anonymous => None,
            Self::Pending(id) | Self::User(id) | Self::Admin(id) | Self::ViewedAs(id) => Some(id),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ListUsers,
    CreateUser,
    ReadUser,
    /// Name and email.
    UpdateProfile,
    ChangePassword,
    ChangeRole,
    ChangeDisabled,
    /// Mark an address proven, or not, without a link.
    ChangeEmailVerified,
    DeleteUser,
    /// Read the audit log.
    ViewAudit,
    /// See where one is signed in.
    ListOwnSessions,
    /// Sign out one's other sessions.
    RevokeOwnSessions,
    /// Have a new link mailed to prove one's own address.
    ResendVerification,
    /// End every session of an account (an administrator's remedy for a stolen
    /// device; users sign out their own other sessions with `RevokeOwnSessions`).
    EndUserSessions,
    /// Set up, confirm and turn off one's own authenticator app and recovery codes.
    ManageOwnSecondFactors,
    /// Remove another account's second factors (an administrator's remedy for a
    /// lost phone).
    ResetSecondFactors,
    /// Create accounts in bulk from a file exported by another system.
    ImportUsers,
    /// Create, list and withdraw invitations to register.
    ManageInvitations,
    /// Approve or reject accounts waiting where sign-up needs approval.
    ApproveRegistrations,
    /// See the dashboard's figures.
    ViewStats,
    /// See where another account is signed in (an administrator's user page; users
    /// see their own with `ListOwnSessions`).
    ListUserSessions,
    /// Apply one change (disable, enable, sign out, delete) to many accounts at once.
    BulkEditUsers,
    /// View the site as another account for a while ("view as").
    Impersonate,
    /// See one's own recent security events (sign-ins, changes, an administrator
    /// viewing as you).
    ViewOwnActivity,
}

impl Action {
    pub const ALL: [Action; 24] = [
        Self::ListUsers,
        Self::CreateUser,
        Self::ReadUser,
        Self::UpdateProfile,
        Self::ChangePassword,
        Self::ChangeRole,
        Self::ChangeDisabled,
        Self::ChangeEmailVerified,
        Self::DeleteUser,
        Self::ViewAudit,
        Self::ListOwnSessions,
        Self::RevokeOwnSessions,
        Self::ResendVerification,
        Self::EndUserSessions,
        Self::ManageOwnSecondFactors,
        Self::ResetSecondFactors,
        Self::ImportUsers,
        Self::ManageInvitations,
        Self::ApproveRegistrations,
        Self::ViewStats,
        Self::ListUserSessions,
        Self::BulkEditUsers,
        Self::Impersonate,
        Self::ViewOwnActivity,
    ];
}

/// Whom an action is about, relative to the actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The user collection itself (list, create).
    Collection,
    Myself,
    Other,
}

impl Target {
    pub fn of(actor: Actor, user_id: Uuid) -> Self {
        if actor.id() == Some(user_id) {
            Self::Myself
        } else {
            Self::Other
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Sign in first (401).
    Unauthenticated,
    /// Signed in, but not allowed (403).
    Forbidden,
    /// Signed in to an account not approved yet (403 `approval_pending`).
    AwaitingApproval,
    /// Viewing as another user: looking only (403 `impersonation_restricted`).
    NotWhileViewingAs,
}

pub fn decide(actor: Actor, action: Action, target: Target) -> Decision {
    use Action::*;
    match actor {
        Actor::Anonymous => Decision::Unauthenticated,
        Actor::Admin(_) => Decision::Allow,
        Actor::Pending(_) => match (action, target) {
            // Who they are, where they are signed in, and withdrawing the application.
            (ReadUser | ListOwnSessions | RevokeOwnSessions | DeleteUser | ViewOwnActivity, Target::Myself) => {
                Decision::Allow
            }
            _ => Decision::AwaitingApproval,
        },
        // What the user sees, nothing they could change: not the password, the
        // address, the factors, the sessions, nor the account itself.
        Actor::ViewedAs(_) => match (action, target) {
            (ReadUser | ListOwnSessions | ViewOwnActivity, Target::Myself) => Decision::Allow,
            _ => Decision::NotWhileViewingAs,
        },
        Actor::User(_) => match (action, target) {
            (
                ReadUser
                | UpdateProfile
                | ChangePassword
                | DeleteUser
                | ListOwnSessions
                | RevokeOwnSessions
                | ResendVerification
                | ManageOwnSecondFactors
                | ViewOwnActivity,
                Target::Myself,
            ) => Decision::Allow,
            // A user never changes their own role or flag, and never touches others.
            _ => Decision::Forbidden,
        },
    }
}

/// The decision as a result: 401 for anonymous, 403 for not allowed.
pub fn authorize(actor: Actor, action: Action, target: Target) -> Result<(), crate::error::AppError> {
    match decide(actor, action, target) {
        Decision::Allow => Ok(()),
        Decision::Unauthenticated => Err(crate::error::AppError::Unauthenticated),
        Decision::Forbidden => Err(crate::error::AppError::Forbidden),
        Decision::AwaitingApproval => Err(crate::error::AppError::ApprovalPending),
        Decision::NotWhileViewingAs => Err(crate::error::AppError::ImpersonationRestricted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;
    use Decision::*;

    /// The whole table, cell by cell: (action, target) → decision for user and admin.
    #[test]
    fn the_policy_table() {
        let me = Uuid::from_u128(1);
        let rows: &[(Action, Target, Decision, Decision)] = &[
            // action          target              user        admin
            (ListUsers, Target::Collection, Forbidden, Allow),
            (CreateUser, Target::Collection, Forbidden, Allow),
            (ReadUser, Target::Myself, Allow, Allow),
            (ReadUser, Target::Other, Forbidden, Allow),
            (UpdateProfile, Target::Myself, Allow, Allow),
            (UpdateProfile, Target::Other, Forbidden, Allow),
            (ChangePassword, Target::Myself, Allow, Allow),
            (ChangePassword, Target::Other, Forbidden, Allow),
            (ChangeRole, Target::Myself, Forbidden, Allow),
            (ChangeRole, Target::Other, Forbidden, Allow),
            (ChangeDisabled, Target::Myself, Forbidden, Allow),
            (ChangeDisabled, Target::Other, Forbidden, Allow),
            (ChangeEmailVerified, Target::Myself, Forbidden, Allow),
            (ChangeEmailVerified, Target::Other, Forbidden, Allow),
            (DeleteUser, Target::Myself, Allow, Allow),
            (DeleteUser, Target::Other, Forbidden, Allow),
            (ViewAudit, Target::Collection, Forbidden, Allow),
            (ListOwnSessions, Target::Myself, Allow, Allow),
            (RevokeOwnSessions, Target::Myself, Allow, Allow),
            (ResendVerification, Target::Myself, Allow, Allow),
            (EndUserSessions, Target::Myself, Forbidden, Allow),
            (EndUserSessions, Target::Other, Forbidden, Allow),
            (ManageOwnSecondFactors, Target::Myself, Allow, Allow),
            (ManageOwnSecondFactors, Target::Other, Forbidden, Allow),
            (ResetSecondFactors, Target::Myself, Forbidden, Allow),
            (ResetSecondFactors, Target::Other, Forbidden, Allow),
            (ImportUsers, Target::Collection, Forbidden, Allow),
            (ManageInvitations, Target::Collection, Forbidden, Allow),
            (ApproveRegistrations, Target::Collection, Forbidden, Allow),
            (ApproveRegistrations, Target::Other, Forbidden, Allow),
            (ViewStats, Target::Collection, Forbidden, Allow),
            (ListUserSessions, Target::Myself, Forbidden, Allow),
            (ListUserSessions, Target::Other, Forbidden, Allow),
            (BulkEditUsers, Target::Collection, Forbidden, Allow),
            (Impersonate, Target::Other, Forbidden, Allow),
            (ViewOwnActivity, Target::Myself, Allow, Allow),
        ];
        for &(action, target, user, admin) in rows {
            assert_eq!(
                decide(Actor::Anonymous, action, target),
                Unauthenticated,
                "{action:?} {target:?} anonymous"
            );
            assert_eq!(
                decide(Actor::User(me), action, target),
                user,
                "{action:?} {target:?} user"
            );
            assert_eq!(
                decide(Actor::Admin(me), action, target),
                admin,
                "{action:?} {target:?} admin"
            );
        }
        for action in Action::ALL {
            assert!(rows.iter().any(|r| r.0 == action), "{action:?} is in the table");
        }
        // An account waiting for approval: itself, its sessions and leaving; nothing else.
        for &(action, target, _, _) in rows {
            let allowed = target == Target::Myself
                && matches!(
                    action,
                    ReadUser | ListOwnSessions | RevokeOwnSessions | DeleteUser | ViewOwnActivity
                );
            let expected = if allowed { Allow } else { AwaitingApproval };
            assert_eq!(
                decide(Actor::Pending(me), action, target),
                expected,
                "{action:?} {target:?} pending"
            );
        }
        // An administrator viewing as a user: reading only, never a change.
        for &(action, target, _, _) in rows {
            let allowed = target == Target::Myself && matches!(action, ReadUser | ListOwnSessions | ViewOwnActivity);
            let expected = if allowed { Allow } else { NotWhileViewingAs };
            assert_eq!(
                decide(Actor::ViewedAs(me), action, target),
                expected,
                "{action:?} {target:?} viewed as"
            );
        }
    }

    #[test]
    fn target_is_relative_to_the_actor() {
        let me = Uuid::from_u128(1);
        assert_eq!(Target::of(Actor::User(me), me), Target::Myself);
        assert_eq!(Target::of(Actor::User(me), Uuid::from_u128(2)), Target::Other);
        assert_eq!(Target::of(Actor::Anonymous, me), Target::Other);
    }
}
