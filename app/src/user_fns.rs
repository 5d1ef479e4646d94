//! Server functions for the admin and account pages: thin adapters over
//! `UserService`, which applies the same policy as the REST API.

use crate::error::AppError;
use crate::model::{SessionInfo, User, UserPage};
use leptos::prelude::*;
use uuid::Uuid;

#[cfg(feature = "ssr")]
use crate::ssr::context::RequestContext;

#[cfg(feature = "ssr")]
async fn caller() -> Result<(RequestContext, crate::policy::Actor), AppError> {
    let ctx = RequestContext::current()?;
    let actor = ctx.state.auth.actor(ctx.session_token().as_ref()).await?;
    crate::ssr::context::RequestUser::set(&ctx.parts, actor.id());
    Ok((ctx, actor))
}

#[server(prefix = "/rpc", endpoint = "users/list")]
pub async fn list_users(
    q: Option<String>,
    role: Option<String>,
    disabled: Option<bool>,
    cursor: Option<String>,
    limit: Option<u32>,
) -> Result<UserPage, AppError> {
    crate::ssr::context::with_status(
        async move {
            let (ctx, actor) = caller().await?;
            let query = crate::model::UserQuery {
                q,
                role,
                disabled,
                limit,
                cursor,
            };
            ctx.state.users.list(actor, &query).await
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "users/create")]
pub async fn create_user(name: String, email: String, password: String, role: String) -> Result<User, AppError> {
    crate::ssr::context::with_status(
        async move {
            let (ctx, actor) = caller().await?;
            let input = crate::validation::CreateUserInput {
                name,
                email,
                password,
                role,
            };
            ctx.state.users.create(actor, &input, &ctx.client()).await
        }
        .await,
    )
}

/// Admin edits of another account's role or flag.
#[server(prefix = "/rpc", endpoint = "users/update")]
pub async fn update_user(id: Uuid, role: Option<String>, disabled: Option<bool>) -> Result<User, AppError> {
    crate::ssr::context::with_status(
        async move {
            let (ctx, actor) = caller().await?;
            let input = crate::validation::UpdateUserInput {
                role,
                disabled,
                ..Default::default()
            };
            ctx.state
                .users
                .update(actor, id, &input, ctx.session_token().as_ref(), &ctx.client())
                .await
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "users/delete")]
pub async fn delete_user(id: Uuid) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            let (ctx, actor) = caller().await?;
            ctx.state.users.delete(actor, id, None, &ctx.client()).await
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "account/profile")]
pub async fn update_profile(name: String, email: String) -> Result<User, AppError> {
    crate::ssr::context::with_status(
        async move {
            let (ctx, actor) = caller().await?;
            let me = actor.id().ok_or(AppError::Unauthenticated)?;
            let input = crate::validation::UpdateUserInput {
                name: Some(name),
                email: Some(email),
                ..Default::default()
            };
            ctx.state
                .users
                .update(actor, me, &input, ctx.session_token().as_ref(), &ctx.client())
                .await
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "account/password")]
pub async fn change_password(current_password: String, password: String) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            let (ctx, actor) = caller().await?;
            let me = actor.id().ok_or(AppError::Unauthenticated)?;
            let input = crate::validation::UpdateUserInput {
                password: Some(password),
                current_password: Some(current_password),
                ..Default::default()
            };
            ctx.state
                .users
                .update(actor, me, &input, ctx.session_token().as_ref(), &ctx.client())
                .await?;
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "account/delete")]
pub async fn delete_account(password: String) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            let (ctx, actor) = caller().await?;
            let me = actor.id().ok_or(AppError::Unauthenticated)?;
            ctx.state
                .users
                .delete(actor, me, Some(&password), &ctx.client())
                .await?;
            ctx.set_cookie(ctx.state.cookies.clear());
            leptos_axum::redirect("/");
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "account/sessions")]
pub async fn my_sessions() -> Result<Vec<SessionInfo>, AppError> {
    crate::ssr::context::with_status(
        async move {
            let (ctx, actor) = caller().await?;
            ctx.state.users.my_sessions(actor, ctx.session_token().as_ref()).await
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "account/sessions/revoke")]
pub async fn revoke_session(id: Uuid) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            let (ctx, actor) = caller().await?;
            ctx.state.users.revoke_session(actor, id, &ctx.client()).await
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "account/sessions/revoke-others")]
pub async fn revoke_other_sessions() -> Result<u64, AppError> {
    crate::ssr::context::with_status(
        async move {
            let (ctx, actor) = caller().await?;
            ctx.state
                .users
                .revoke_other_sessions(actor, ctx.session_token().as_ref(), &ctx.client())
                .await
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "audit/list")]
pub async fn list_audit(
    action: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
) -> Result<crate::model::AuditPage, AppError> {
    crate::ssr::context::with_status(
        async move {
            let (ctx, actor) = caller().await?;
            let query = crate::ssr::audit::AuditQuery {
                action,
                q,
                cursor,
                limit: Some(50),
            };
            ctx.state.auth.audit().list(actor, &query).await
        }
        .await,
    )
}
