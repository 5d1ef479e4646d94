//! Sign-up, sign-in (with a password or a mailed code), sign-out and "who am I"
//! (`AuthService`, `SignInCodes`, `SessionService`).

use crate::error::AppError;
use crate::model::{LoginOutcome, User};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::ssr::rpc::serve;

#[server(prefix = "/rpc", endpoint = "register")]
pub async fn register(
    name: String,
    email: String,
    password: String,
    /// The secret of an invitation link (a hidden field of the form).
    invitation: Option<String>,
) -> Result<User, AppError> {
    serve(|call| async move {
        let input = crate::validation::RegisterInput { name, email, password };
        let (user, session) = call
            .state
            .auth
            .register(&input, invitation.as_deref(), &call.client())
            .await?;
        match session {
            Some(session) => {
                call.start_session(&session);
                call.redirect(crate::paths::ACCOUNT);
            }
            // Sign-in waits for the address: the page that says to check the inbox.
            None => call.redirect(super::links::VERIFY_SENT),
        }
        Ok(user)
    })
    .await
}

/// The registration mode, and what an invitation link (if any) is for.
#[server(prefix = "/rpc", endpoint = "registration")]
pub async fn registration_context(invitation: Option<String>) -> Result<crate::model::RegistrationContext, AppError> {
    serve(|call| async move {
        let mode = call.state.auth.registration_mode();
        let token = invitation.as_deref().map(str::trim).filter(|t| !t.is_empty());
        let (invitation, invitation_invalid) = match token {
            None => (None, false),
            Some(token) => match call.state.invitations.preview(token).await {
                Ok(preview) => (Some(preview), false),
                Err(AppError::InvitationInvalid) => (None, true),
                Err(other) => return Err(other),
            },
        };
        Ok(crate::model::RegistrationContext {
            mode,
            invitation,
            invitation_invalid,
        })
    })
    .await
}

/// `remember` is the "keep me signed in" checkbox: `Some(true)` when ticked, absent
/// otherwise (an unticked box sends nothing in a form post).
#[server(prefix = "/rpc", endpoint = "login")]
pub async fn login(email: String, password: String, remember: Option<bool>) -> Result<LoginOutcome, AppError> {
    serve(|call| async move {
        let remember = remember.unwrap_or(false);
        let input = crate::validation::LoginInput {
            email,
            password,
            remember,
        };
        let previous = call.session_token();
        let step = call.state.auth.login(&input, &call.client(), previous.as_ref()).await?;
        Ok(call.after_first_step(step))
    })
    .await
}

/// Where the code page asks for the code, once one is on its way: the same address
/// for a hydrated call and a plain form post.
pub const CODE_SENT: &str = "/login/code?sent=1";

/// Mails a sign-in code to the address (if an account has it). The address is kept
/// in a short-lived HttpOnly cookie for the next step, so it never sits in a URL.
#[server(prefix = "/rpc", endpoint = "login/code")]
pub async fn request_sign_in_code(email: String) -> Result<(), AppError> {
    serve(|call| async move {
        let input = crate::validation::EmailInput { email };
        call.state.sign_in_code.request(&input, &call.client()).await?;
        call.set_cookie(call.state.cookies.set_code_email(&input.email));
        call.redirect(CODE_SENT);
        Ok(())
    })
    .await
}

/// Signs in with the code mailed to the address this browser asked a code for.
#[server(prefix = "/rpc", endpoint = "login/code/verify")]
pub async fn sign_in_with_code(code: String, remember: Option<bool>) -> Result<LoginOutcome, AppError> {
    serve(|call| async move {
        // No address kept: the code was asked for in another browser, or over ten
        // minutes ago; either way there is no code to check here.
        let email = call.code_email().ok_or(AppError::InvalidCode)?;
        let input = crate::validation::CodeSignInInput {
            email,
            code,
            remember: remember.unwrap_or(false),
        };
        let previous = call.session_token();
        let step = call
            .state
            .sign_in_code
            .sign_in(&input, &call.client(), previous.as_ref())
            .await?;
        call.set_cookie(call.state.cookies.clear_code_email());
        Ok(call.after_first_step(step))
    })
    .await
}

/// Sign-in's second step: a code from the authenticator app, or a recovery code,
/// for the sign-in this browser started. A sign-in that is gone (expired, out of
/// tries, or never started) answers `unauthenticated`: start again.
#[server(prefix = "/rpc", endpoint = "login/second-factor")]
pub async fn complete_sign_in(code: String) -> Result<User, AppError> {
    serve(|call| async move {
        let input = crate::validation::FactorCodeInput { code };
        let pending = call.pending_sign_in();
        let previous = call.session_token();
        let result = call
            .state
            .second_factors
            .complete_sign_in(pending.as_ref(), &input, &call.client(), previous.as_ref())
            .await;
        if matches!(result, Ok(_) | Err(AppError::Unauthenticated)) {
            call.set_cookie(call.state.cookies.clear_pending_sign_in());
        }
        let (user, session) = result?;
        call.start_session(&session);
        call.redirect(crate::paths::ACCOUNT);
        Ok(user)
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    serve(|call| async move {
        let token = call.session_token();
        let view_as = call.view_as_token();
        call.state
            .sessions
            .sign_out(token.as_ref(), view_as.as_ref(), &call.client())
            .await?;
        call.set_cookie(call.state.cookies.clear());
        call.set_cookie(call.state.cookies.clear_view_as());
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
