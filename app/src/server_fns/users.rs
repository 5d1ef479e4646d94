//! Account management for the admin and account pages (`UserService`), under the
//! same policy as `/api/users`.

use crate::error::AppError;
use crate::model::{BulkOutcome, User, UserDetail, UserPage};
use leptos::prelude::*;
use uuid::Uuid;

#[cfg(feature = "ssr")]
use crate::ssr::rpc::serve;
#[cfg(feature = "ssr")]
use crate::validation::{CreateUserInput, DeleteUserInput, RegisterInput, UpdateUserInput};

#[server(prefix = "/rpc", endpoint = "users/list")]
pub async fn list_users(
    q: Option<String>,
    role: Option<String>,
    disabled: Option<bool>,
    cursor: Option<String>,
    limit: Option<u32>,
) -> Result<UserPage, AppError> {
    serve(|call| async move {
        let query = crate::model::UserQuery {
            q,
            role,
            disabled,
            limit,
            cursor,
        };
        call.state.users.list(&call.caller().await?, &query).await
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "users/create")]
pub async fn create_user(name: String, email: String, password: String, role: String) -> Result<User, AppError> {
    serve(|call| async move {
        let input = CreateUserInput {
            account: RegisterInput { name, email, password },
            role,
        };
        let user = call.state.users.create(&call.caller().await?, &input).await?;
        // To the new account's page, hydrated or not.
        call.redirect(&crate::paths::admin_user(user.id));
        Ok(user)
    })
    .await
}

/// Admin edits of another account's name, address, role or flags.
#[server(prefix = "/rpc", endpoint = "users/update")]
pub async fn update_user(
    id: Uuid,
    #[server(default)] name: Option<String>,
    #[server(default)] email: Option<String>,
    role: Option<String>,
    disabled: Option<bool>,
    email_verified: Option<bool>,
    /// With `role`: granted until then (RFC 3339).
    role_expires_at: Option<String>,
    /// With `role`: granted for this many hours from now (the user page's plain
    /// form, which cannot compute a time); 0 or none: for good.
    #[server(default)]
    role_for_hours: Option<i64>,
) -> Result<User, AppError> {
    serve(|call| async move {
        let role_expires_at = match role_for_hours.filter(|h| *h > 0) {
            Some(hours) => Some(
                (chrono::Utc::now() + chrono::Duration::hours(hours))
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ),
            None => role_expires_at,
        };
        let input = UpdateUserInput {
            name,
            email,
            role,
            disabled,
            email_verified,
            role_expires_at,
            ..Default::default()
        };
        call.state.users.update(&call.caller().await?, id, &input).await
    })
    .await
}

/// `then_list`: go to the users list afterwards (the account's own page, where
/// the form was, is gone); otherwise a plain form post returns where it came from.
#[server(prefix = "/rpc", endpoint = "users/delete")]
pub async fn delete_user(id: Uuid, then_list: Option<bool>) -> Result<(), AppError> {
    serve(|call| async move {
        let input = DeleteUserInput::default();
        call.state.users.delete(&call.caller().await?, id, &input).await?;
        if then_list == Some(true) {
            call.redirect(crate::paths::ADMIN_USERS);
        }
        Ok(())
    })
    .await
}

/// How many of the account's newest events its page shows.
#[cfg(feature = "ssr")]
const DETAIL_ACTIVITY: u32 = 20;

/// The administrator's page for one account: the account, where it is signed in,
/// and what it did or had done to it lately.
#[server(prefix = "/rpc", endpoint = "users/detail")]
pub async fn admin_user_detail(id: Uuid) -> Result<UserDetail, AppError> {
    serve(|call| async move {
        let caller = call.caller().await?;
        let user = call.state.users.get(&caller, id).await?;
        let sessions = call.state.sessions.list_for_user(&caller, id).await?;
        let query = crate::model::AuditQuery {
            user: Some(id),
            limit: Some(DETAIL_ACTIVITY),
            ..Default::default()
        };
        let page = call.state.audit.list(&caller, &query).await?;
        Ok(UserDetail {
            user,
            sessions,
            more_activity: page.next_cursor.is_some(),
            activity: page.items,
        })
    })
    .await
}

/// Ends one session of an account (its page's "Sign out" in the sessions list).
#[server(prefix = "/rpc", endpoint = "users/sessions/end-one")]
pub async fn end_user_session(id: Uuid, session: Uuid) -> Result<(), AppError> {
    serve(|call| async move {
        call.state
            .sessions
            .revoke_for_user(&call.caller().await?, id, session)
            .await
    })
    .await
}

/// Ends every session of an account ("Sign out everywhere").
#[server(prefix = "/rpc", endpoint = "users/sessions/end-all")]
pub async fn end_user_sessions(id: Uuid) -> Result<u64, AppError> {
    serve(|call| async move { call.state.users.end_sessions(&call.caller().await?, id).await }).await
}

/// The admin table's "with selected". `confirmed` is the one confirmation: the
/// hydrated page asks in a dialog, a plain form has a box to tick. The outcome is
/// also kept as the page's notice, for a plain form post.
#[server(prefix = "/rpc", endpoint = "users/bulk")]
pub async fn bulk_users(
    action: String,
    #[server(default)] ids: Vec<Uuid>,
    confirmed: Option<bool>,
) -> Result<BulkOutcome, AppError> {
    use crate::model::{AdminNotice, NOTICE_REFUSED_ROWS};
    serve(|call| async move {
        let caller = call.caller().await?;
        if confirmed != Some(true) {
            return Err(AppError::invalid_field("confirmed", "Tick the box to confirm."));
        }
        let input = crate::validation::BulkUserInput { action, ids };
        let outcome = call.state.users.bulk(&caller, &input).await?;
        let notice = AdminNotice::Bulk {
            action: outcome.action,
            done: outcome.done.len() as u64,
            refused: outcome.refused.iter().take(NOTICE_REFUSED_ROWS).cloned().collect(),
            refused_count: outcome.refused.len() as u64,
        };
        call.keep_admin_notice(caller.user_id()?, &notice)?;
        Ok(outcome)
    })
    .await
}

/// An administrator removes a user's second factors (the user is mailed).
#[server(prefix = "/rpc", endpoint = "users/second-factors/reset")]
pub async fn reset_second_factors(id: Uuid) -> Result<(), AppError> {
    serve(|call| async move { call.state.second_factors.reset_for(&call.caller().await?, id).await }).await
}

#[server(prefix = "/rpc", endpoint = "account/profile")]
pub async fn update_profile(
    name: String,
    email: String,
    /// Needed only to change the email; a plain form sends it empty otherwise.
    #[server(default)]
    current_password: String,
) -> Result<User, AppError> {
    serve(|call| async move {
        let caller = call.caller().await?;
        let requested = email.trim().to_owned();
        let input = UpdateUserInput {
            name: Some(name),
            email: Some(email),
            current_password: Some(current_password).filter(|p| !p.is_empty()),
            ..Default::default()
        };
        let user = call.state.users.update(&caller, caller.user_id()?, &input).await?;
        // A new address waits for its link: the page says so.
        if !user.email.eq_ignore_ascii_case(&requested) {
            call.redirect(EMAIL_CHANGE_PENDING);
        }
        Ok(user)
    })
    .await
}

/// Where the profile form goes when a new address waits for its link.
pub const EMAIL_CHANGE_PENDING: &str = "/account?email=pending";

#[server(prefix = "/rpc", endpoint = "account/password")]
pub async fn change_password(current_password: String, password: String) -> Result<(), AppError> {
    serve(|call| async move {
        let caller = call.caller().await?;
        let input = UpdateUserInput {
            password: Some(password),
            current_password: Some(current_password),
            ..Default::default()
        };
        call.state.users.update(&caller, caller.user_id()?, &input).await?;
        Ok(())
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "account/delete")]
pub async fn delete_account(password: String) -> Result<(), AppError> {
    serve(|call| async move {
        let caller = call.caller().await?;
        let input = DeleteUserInput {
            password: Some(password),
        };
        call.state.users.delete(&caller, caller.user_id()?, &input).await?;
        call.set_cookie(call.state.cookies.clear());
        call.redirect(crate::paths::HOME);
        Ok(())
    })
    .await
}
