//! Proving an address and resetting a password (`EmailVerification`,
//! `PasswordReset`). A link's secret reaches these from the cookie the link landed
//! in (`link_landing`), never from the page: the pages hold no secret at all.

use crate::error::AppError;
use crate::model::User;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::ssr::{email_tokens::Purpose, rpc::serve};

/// Where a page says what happened: the same address for a hydrated call and a
/// plain form post.
pub const VERIFY_SENT: &str = "/email/verify?sent=1";
pub const VERIFY_DONE: &str = "/email/verify?confirmed=1";
pub const FORGOT_SENT: &str = "/password/forgot?sent=1";
pub const CHANGE_DONE: &str = "/email/change?done=1";
pub const REVERT_DONE: &str = "/email/revert?done=1";

#[server(prefix = "/rpc", endpoint = "password/forgot")]
pub async fn forgot_password(email: String) -> Result<(), AppError> {
    serve(|call| async move {
        let input = crate::validation::EmailInput { email };
        call.state.password_reset.request(&input, &call.client()).await?;
        call.redirect(FORGOT_SENT);
        Ok(())
    })
    .await
}

/// Sets the new password with the reset link this browser followed; signs in here
/// (with a second factor, after its code).
#[server(prefix = "/rpc", endpoint = "password/reset")]
pub async fn reset_password(password: String) -> Result<crate::model::LoginOutcome, AppError> {
    serve(|call| async move {
        let input = crate::validation::ResetPasswordInput {
            token: call.link_secret(Purpose::PasswordReset),
            password,
        };
        let previous = call.session_token();
        let step = call
            .state
            .password_reset
            .reset(&input, &call.client(), previous.as_ref())
            .await?;
        call.set_cookie(call.state.cookies.clear_link(Purpose::PasswordReset));
        Ok(call.after_first_step(step))
    })
    .await
}

/// Proves the address with the verification link this browser followed.
#[server(prefix = "/rpc", endpoint = "email/verify")]
pub async fn verify_email() -> Result<User, AppError> {
    serve(|call| async move {
        let input = crate::validation::VerifyEmailInput {
            token: call.link_secret(Purpose::VerifyEmail),
        };
        let user = call.state.verification.verify(&input, &call.client()).await?;
        call.set_cookie(call.state.cookies.clear_link(Purpose::VerifyEmail));
        call.redirect(VERIFY_DONE);
        Ok(user)
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "email/verify/resend")]
pub async fn resend_verification() -> Result<(), AppError> {
    serve(|call| async move {
        call.state.verification.resend(&call.caller().await?).await?;
        call.redirect(VERIFY_SENT);
        Ok(())
    })
    .await
}

/// Makes the new address the account's, with the link this browser followed.
#[server(prefix = "/rpc", endpoint = "email/change/confirm")]
pub async fn confirm_email_change() -> Result<User, AppError> {
    serve(|call| async move {
        let input = crate::validation::VerifyEmailInput {
            token: call.link_secret(Purpose::EmailChange),
        };
        let user = call.state.email_change.confirm(&input, &call.client()).await?;
        call.set_cookie(call.state.cookies.clear_link(Purpose::EmailChange));
        call.redirect(CHANGE_DONE);
        Ok(user)
    })
    .await
}

/// Puts the old address back and ends every session, with the notice's link.
#[server(prefix = "/rpc", endpoint = "email/change/revert")]
pub async fn revert_email_change() -> Result<User, AppError> {
    serve(|call| async move {
        let input = crate::validation::VerifyEmailInput {
            token: call.link_secret(Purpose::EmailRevert),
        };
        let user = call.state.email_change.revert(&input, &call.client()).await?;
        call.set_cookie(call.state.cookies.clear_link(Purpose::EmailRevert));
        // This browser's session ended with all the others.
        call.set_cookie(call.state.cookies.clear());
        call.redirect(REVERT_DONE);
        Ok(user)
    })
    .await
}
