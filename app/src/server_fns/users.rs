//! Account management for the admin and account pages (`UserService`), under the
//! same policy as `/api/users`.

use crate::error::AppError;
use crate::model::{User, UserPage};
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
        call.state.users.create(&call.caller().await?, &input).await
    })
    .await
}

/// Admin edits of another account's role or flag.
#[server(prefix = "/rpc", endpoint = "users/update")]
pub async fn update_user(
    id: Uuid,
    role: Option<String>,
    disabled: Option<bool>,
    email_verified: Option<bool>,
    /// With `role`: granted until then (RFC 3339).
    role_expires_at: Option<String>,
) -> Result<User, AppError> {
    serve(|call| async move {
        let input = UpdateUserInput {
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

#[server(prefix = "/rpc", endpoint = "users/delete")]
pub async fn delete_user(id: Uuid) -> Result<(), AppError> {
    serve(|call| async move {
        let input = DeleteUserInput::default();
        call.state.users.delete(&call.caller().await?, id, &input).await
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
