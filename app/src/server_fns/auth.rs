//! Sign-up, sign-in, sign-out and "who am I" (`AuthService`, `SessionService`).

use crate::error::AppError;
use crate::model::User;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::ssr::rpc::serve;

#[server(prefix = "/rpc", endpoint = "register")]
pub async fn register(name: String, email: String, password: String) -> Result<User, AppError> {
    serve(|call| async move {
        let input = crate::validation::RegisterInput { name, email, password };
        let (user, session) = call.state.auth.register(&input, &call.client()).await?;
        match session {
            Some(session) => {
                call.set_cookie(call.state.cookies.set(&session));
                call.redirect(crate::paths::ACCOUNT);
            }
            // Sign-in waits for the address: the page that says to check the inbox.
            None => call.redirect(super::links::VERIFY_SENT),
        }
        Ok(user)
    })
    .await
}

/// `remember` is the "keep me signed in" checkbox: `Some(true)` when ticked, absent
/// otherwise (an unticked box sends nothing in a form post).
#[server(prefix = "/rpc", endpoint = "login")]
pub async fn login(email: String, password: String, remember: Option<bool>) -> Result<User, AppError> {
    serve(|call| async move {
        let remember = remember.unwrap_or(false);
        let input = crate::validation::LoginInput {
            email,
            password,
            remember,
        };
        let previous = call.session_token();
        let (user, session) = call.state.auth.login(&input, &call.client(), previous.as_ref()).await?;
        call.set_cookie(call.state.cookies.set(&session));
        call.redirect(crate::paths::ACCOUNT);
        Ok(user)
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    serve(|call| async move {
        let token = call.session_token();
        call.state.sessions.sign_out(token.as_ref(), &call.client()).await?;
        call.set_cookie(call.state.cookies.clear());
        let (name, value) = crate::ssr::cookie::CLEAR_SITE_DATA;
        call.append_header(name, value);
        call.redirect(crate::paths::LOGIN);
        Ok(())
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "me")]
pub async fn current_user() -> Result<Option<User>, AppError> {
    serve(|call| async move { Ok(call.caller().await?.user) }).await
}
