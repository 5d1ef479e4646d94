//! The admin pages' invitations, approval queue and imports (`Invitations`,
//! `UserService`), under the same policy as `/api/invitations` and `/api/users`.
//! None names a page to go to: a plain form post returns to the page it came from
//! (Leptos sends it back to its `Referer`), and a hydrated page refreshes itself. A
//! redirect here would make a hydrated page navigate to itself while the next click
//! is on its way, and that click's answer would land on a page that was replaced.

use crate::error::AppError;
use crate::model::{ImportReport, Invitation, InvitationCreated, InvitationPage, User, UserPage};
use leptos::prelude::*;
use uuid::Uuid;

#[cfg(feature = "ssr")]
use crate::ssr::rpc::{ServerCall, serve};

#[cfg(feature = "ssr")]
impl ServerCall {
    /// Keeps a notice for the administrator's next page (sealed to them).
    pub(crate) fn keep_admin_notice(&self, admin: Uuid, notice: &crate::model::AdminNotice) -> Result<(), AppError> {
        let bytes = serde_json::to_vec(notice).map_err(AppError::internal)?;
        let sealed = self.state.second_factors.seal_for(admin, &bytes);
        self.set_cookie(self.state.cookies.set_admin_notice(&sealed));
        Ok(())
    }
}

/// The notice an admin form left (an invitation link, an import report), once.
#[server(prefix = "/rpc", endpoint = "admin/notice")]
pub async fn take_admin_notice() -> Result<Option<crate::model::AdminNotice>, AppError> {
    serve(|call| async move {
        let admin = call.caller().await?.user_id()?;
        let Some(sealed) = call.admin_notice() else {
            return Ok(None);
        };
        call.set_cookie(call.state.cookies.clear_admin_notice());
        Ok(call
            .state
            .second_factors
            .open_for(admin, &sealed)
            .and_then(|bytes| serde_json::from_slice(&bytes).ok()))
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "invitations/create")]
pub async fn create_invitation(
    email: String,
    role: String,
    expires_in_days: Option<u32>,
) -> Result<InvitationCreated, AppError> {
    serve(|call| async move {
        let input = crate::validation::InvitationInput {
            email,
            role,
            expires_in_days,
        };
        let caller = call.caller().await?;
        let created = call.state.invitations.create(&caller, &input).await?;
        if let Some(link) = &created.link {
            let notice = crate::model::AdminNotice::InvitationLink {
                email: created.invitation.email.clone(),
                link: link.clone(),
            };
            call.keep_admin_notice(caller.user_id()?, &notice)?;
        }
        Ok(created)
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "invitations/list")]
pub async fn list_invitations(cursor: Option<String>) -> Result<InvitationPage, AppError> {
    serve(|call| async move {
        call.state
            .invitations
            .list(&call.caller().await?, cursor.as_deref(), None)
            .await
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "invitations/revoke")]
pub async fn revoke_invitation(id: Uuid) -> Result<Invitation, AppError> {
    serve(|call| async move {
        let revoked = call.state.invitations.revoke(&call.caller().await?, id).await?;
        Ok(revoked)
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "users/pending")]
pub async fn approval_queue() -> Result<UserPage, AppError> {
    serve(|call| async move { call.state.users.approval_queue(&call.caller().await?).await }).await
}

#[server(prefix = "/rpc", endpoint = "users/approve")]
pub async fn approve_user(id: Uuid) -> Result<User, AppError> {
    serve(|call| async move {
        let user = call.state.users.approve(&call.caller().await?, id).await?;
        Ok(user)
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "users/reject")]
pub async fn reject_user(id: Uuid) -> Result<(), AppError> {
    serve(|call| async move {
        call.state.users.reject(&call.caller().await?, id).await?;
        Ok(())
    })
    .await
}

/// `dry_run` is the "Check only" button: `Some(true)` when it was the one pressed.
#[server(prefix = "/rpc", endpoint = "users/import")]
pub async fn import_users(file: String, dry_run: Option<bool>) -> Result<ImportReport, AppError> {
    use crate::model::{AdminNotice, NOTICE_REFUSED_ROWS};
    serve(|call| async move {
        let caller = call.caller().await?;
        let result = call.state.users.import(&caller, &file, dry_run.unwrap_or(false)).await;
        let notice = match &result {
            Ok(report) => {
                let mut shown = report.clone();
                shown.refused.truncate(NOTICE_REFUSED_ROWS);
                Some(AdminNotice::Import(shown))
            }
            Err(AppError::ImportRefused {
                rows,
                refused_count,
                refused,
            }) => Some(AdminNotice::ImportRefused {
                rows: *rows,
                refused_count: *refused_count,
                refused: refused.iter().take(NOTICE_REFUSED_ROWS).cloned().collect(),
            }),
            Err(_) => None,
        };
        if let Some(notice) = notice {
            call.keep_admin_notice(caller.user_id()?, &notice)?;
        }
        // A refused import is told by the notice: the page shows it, hydrated or not.
        match result {
            Err(AppError::ImportRefused {
                rows,
                refused_count,
                refused,
            }) => Err(AppError::ImportRefused {
                rows,
                refused_count,
                refused: refused.into_iter().take(NOTICE_REFUSED_ROWS).collect(),
            }),
            other => other,
        }
    })
    .await
}
