//! One change to many selected accounts (the admin table's "with selected"). Each
//! account goes through the same method its one-account endpoint calls, so every
//! rule (the last administrator, sessions ended on disable, the audit trail) holds
//! for each; one refusal is reported and does not undo the others.

use super::UserService;
use crate::error::AppError;
use crate::model::{BulkOutcome, BulkRefusal, BulkUserAction};
use crate::policy::{Action, Target, authorize};
use crate::ssr::caller::Caller;
use crate::ssr::entity::users;
use crate::validation::{BulkUserInput, DeleteUserInput, UpdateUserInput};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::collections::HashMap;
use uuid::Uuid;

impl UserService {
    pub async fn bulk(&self, caller: &Caller, input: &BulkUserInput) -> Result<BulkOutcome, AppError> {
        authorize(caller.actor, Action::BulkEditUsers, Target::Collection)?;
        let valid = input.validate().map_err(AppError::validation)?;
        // Addresses for the report, read before any account is deleted.
        let emails: HashMap<Uuid, String> = users::Entity::find()
            .filter(users::Column::Id.is_in(valid.ids.clone()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|u| (u.id, u.email))
            .collect();
        let mut outcome = BulkOutcome {
            action: valid.action,
            done: Vec::new(),
            refused: Vec::new(),
        };
        for id in valid.ids {
            // One's own account is changed from one's own page, deliberately, never
            // as one row among many.
            if Target::of(caller.actor, id) == Target::Myself {
                outcome.refused.push(BulkRefusal {
                    id,
                    email: emails.get(&id).cloned(),
                    code: AppError::Forbidden.code().to_owned(),
                    message: "Your own account is left out of bulk actions.".to_owned(),
                });
                continue;
            }
            match self.apply_one(caller, valid.action, id).await {
                Ok(()) => outcome.done.push(id),
                // The database or the store is down: the rest would fail alike.
                Err(error @ (AppError::Internal | AppError::Unavailable)) => return Err(error),
                Err(error) => outcome.refused.push(BulkRefusal {
                    id,
                    email: emails.get(&id).cloned(),
                    code: error.code().to_owned(),
                    message: error.to_string(),
                }),
            }
        }
        Ok(outcome)
    }

    async fn apply_one(&self, caller: &Caller, action: BulkUserAction, id: Uuid) -> Result<(), AppError> {
        let set_disabled = |disabled| UpdateUserInput {
            disabled: Some(disabled),
            ..UpdateUserInput::default()
        };
        match action {
            BulkUserAction::Disable => self.update(caller, id, &set_disabled(true)).await.map(drop),
            BulkUserAction::Enable => self.update(caller, id, &set_disabled(false)).await.map(drop),
            BulkUserAction::SignOut => self.end_sessions(caller, id).await.map(drop),
            BulkUserAction::Delete => self.delete(caller, id, &DeleteUserInput::default()).await,
        }
    }
}
