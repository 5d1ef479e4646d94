//! Accounts that wait for an administrator (`ROSTER_REGISTRATION=approval`): the
//! queue, approving one (it can then do everything an account does; its sessions
//! are re-read at once) and rejecting one (it is deleted, with its sessions).

use super::UserService;
use crate::error::AppError;
use crate::model::{AuditAction, User, UserPage};
use crate::policy::{Action, Target, authorize};
use crate::ssr::caller::Caller;
use crate::ssr::entity::users;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

/// The most waiting accounts one page of the queue shows.
const QUEUE_PAGE: u64 = 100;

impl UserService {
    /// The accounts waiting for approval, oldest first (first come, first served).
    pub async fn approval_queue(&self, caller: &Caller) -> Result<UserPage, AppError> {
        authorize(caller.actor, Action::ApproveRegistrations, Target::Collection)?;
        let rows = users::Entity::find()
            .filter(users::Column::ApprovalPending.eq(true))
            .order_by_asc(users::Column::Id)
            .limit(QUEUE_PAGE)
            .all(&self.db)
            .await?;
        Ok(UserPage {
            items: rows.iter().map(users::Model::to_user).collect(),
            next_cursor: None,
        })
    }

    /// Lets a waiting account in. Approving one that does not wait is a conflict
    /// (two administrators working the queue at once learn the other was first).
    pub async fn approve(&self, caller: &Caller, id: Uuid) -> Result<User, AppError> {
        authorize(caller.actor, Action::ApproveRegistrations, Target::of(caller.actor, id))?;
        let result = users::Entity::update_many()
            .col_expr(users::Column::ApprovalPending, Expr::value(false))
            .col_expr(users::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
            .filter(users::Column::Id.eq(id))
            .filter(users::Column::ApprovalPending.eq(true))
            .exec(&self.db)
            .await?;
        let account = self.find(id).await?;
        if result.rows_affected == 0 {
            return Err(AppError::conflict("This account is not waiting for approval."));
        }
        // Its sessions carry the old answer in every server's cache.
        self.sessions.cache().forget_user(id).await;
        self.audit
            .record(
                AuditAction::RegistrationApproved,
                caller.actor.id(),
                Some((id, &account.email)),
                &caller.client,
                None,
            )
            .await;
        Ok(account.to_user())
    }

    /// Turns a waiting account away: it is deleted, with its sessions. Only a
    /// waiting account can be rejected (any other is deleted as such).
    pub async fn reject(&self, caller: &Caller, id: Uuid) -> Result<(), AppError> {
        authorize(caller.actor, Action::ApproveRegistrations, Target::of(caller.actor, id))?;
        let account = self.find(id).await?;
        let deleted = users::Entity::delete_many()
            .filter(users::Column::Id.eq(id))
            .filter(users::Column::ApprovalPending.eq(true))
            .exec(&self.db)
            .await?;
        if deleted.rows_affected == 0 {
            return Err(AppError::conflict("This account is not waiting for approval."));
        }
        self.sessions.end_all_for_user(id, None).await?;
        self.audit
            .record(
                AuditAction::RegistrationRejected,
                caller.actor.id(),
                Some((id, &account.email)),
                &caller.client,
                None,
            )
            .await;
        Ok(())
    }
}
