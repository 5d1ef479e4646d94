//! Server functions for the pages. Each is a thin adapter over the same service
//! layer the REST API uses. Called from a hydrated page they behave like RPCs;
//! posted by a plain HTML form (no WASM yet) they answer with redirects, and
//! errors travel back to the form in the URL.

use crate::error::AppError;
use crate::model::User;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::ssr::context::RequestContext;

/// Where signed-in visitors land.
pub const ACCOUNT_PATH: &str = "/account";
pub const LOGIN_PATH: &str = "/login";

#[server(prefix = "/rpc", endpoint = "register")]
pub async fn register(name: String, email: String, password: String) -> Result<User, AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::validation::RegisterInput;
            let ctx = RequestContext::current()?;
            let input = RegisterInput { name, email, password };
            let (user, token) = ctx.state.auth.register(&input, &ctx.client()).await?;
            ctx.set_cookie(ctx.state.cookies.set(&token));
            leptos_axum::redirect(ACCOUNT_PATH);
            Ok(user)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<User, AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::validation::LoginInput;
            let ctx = RequestContext::current()?;
            let input = LoginInput { email, password };
            let (user, token) = ctx
                .state
                .auth
                .login(&input, &ctx.client(), ctx.session_token().as_ref())
                .await?;
            ctx.set_cookie(ctx.state.cookies.set(&token));
            leptos_axum::redirect(ACCOUNT_PATH);
            Ok(user)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            let ctx = RequestContext::current()?;
            ctx.state
                .auth
                .logout(ctx.session_token().as_ref(), &ctx.client())
                .await?;
            ctx.set_cookie(ctx.state.cookies.clear());
            leptos_axum::redirect(LOGIN_PATH);
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "me")]
pub async fn current_user() -> Result<Option<User>, AppError> {
    crate::ssr::context::with_status(
        async move {
            let ctx = RequestContext::current()?;
            let user = ctx.state.auth.current_user(ctx.session_token().as_ref()).await?;
            crate::ssr::context::RequestUser::set(&ctx.parts, user.as_ref().map(|u| u.id));
            Ok(user)
        }
        .await,
    )
}
