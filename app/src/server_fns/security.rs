//! The security page: the authenticator app, recovery codes, and proving oneself
//! again before a sensitive change (`SecondFactors`). Each call answers a plain form
//! post with a redirect back to the page, which reads what to show from the server
//! (`security_overview`): the same page with and without WASM.

use crate::error::AppError;
use crate::model::{PasskeyInfo, SecondFactorMethod, SecondFactorStatus, TotpEnrolment};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "ssr")]
use crate::ssr::rpc::{ServerCall, serve};

/// Everything the security page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityPage {
    pub factors: SecondFactorStatus,
    /// An app being set up, while the caller's proof is recent: its secret and QR code.
    pub setup: Option<TotpSetup>,
    /// Recovery codes just made, shown until put away (at most ten minutes).
    pub fresh_codes: Option<Vec<String>>,
    pub passkeys: Vec<PasskeyInfo>,
    /// Whether passkeys can be used here (`ROSTER_PUBLIC_URL` names a domain).
    pub passkeys_available: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TotpSetup {
    pub enrolment: TotpEnrolment,
    /// The `otpauth://` URI as an SVG QR code, rendered on the server.
    pub qr_svg: String,
}

/// What a proof given on the page goes on to do, so that a form posted without
/// WASM carries on with what the person was doing.
pub const THEN_SET_UP_APP: &str = "set_up_app";
pub const THEN_NEW_CODES: &str = "new_codes";
/// Back to the list of sessions (the account page), after signing the others out.
pub const THEN_SIGN_OUT_OTHERS: &str = "sign_out_others";
/// Back to the list of sessions, to sign one out again.
pub const THEN_SESSIONS: &str = "sessions";

#[cfg(feature = "ssr")]
impl ServerCall {
    /// Keeps new recovery codes for the page to show, sealed for their owner.
    fn keep_fresh_codes(&self, user_id: uuid::Uuid, codes: &crate::model::RecoveryCodes) -> Result<(), AppError> {
        let sealed = self
            .state
            .second_factors
            .seal_fresh_codes(user_id, &codes.recovery_codes)?;
        self.set_cookie(self.state.cookies.set_fresh_codes(&sealed));
        Ok(())
    }

    fn read_fresh_codes(&self, user_id: uuid::Uuid) -> Option<Vec<String>> {
        self.state
            .second_factors
            .open_fresh_codes(user_id, &self.fresh_codes()?)
    }
}

#[server(prefix = "/rpc", endpoint = "account/security")]
pub async fn security_overview() -> Result<SecurityPage, AppError> {
    serve(|call| async move {
        let caller = call.caller().await?;
        let factors = &call.state.second_factors;
        let status = factors.status(&caller).await?;
        let setup = match factors.pending_enrolment(&caller).await? {
            Some(enrolment) => Some(TotpSetup {
                qr_svg: crate::ssr::second_factor::totp::qr_svg(&enrolment.otpauth_uri).map_err(AppError::internal)?,
                enrolment,
            }),
            None => None,
        };
        Ok(SecurityPage {
            factors: status,
            setup,
            fresh_codes: call.read_fresh_codes(caller.user_id()?),
            passkeys: factors.list_passkeys(&caller).await?,
            passkeys_available: factors.passkeys_available(),
        })
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "account/security/totp")]
pub async fn begin_totp() -> Result<(), AppError> {
    serve(|call| async move {
        call.state.second_factors.begin_totp(&call.caller().await?).await?;
        call.redirect(crate::paths::ACCOUNT_SECURITY);
        Ok(())
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "account/security/totp/confirm")]
pub async fn confirm_totp(code: String) -> Result<(), AppError> {
    serve(|call| async move {
        let caller = call.caller().await?;
        let input = crate::validation::FactorCodeInput { code };
        let codes = call.state.second_factors.confirm_totp(&caller, &input).await?;
        call.keep_fresh_codes(caller.user_id()?, &codes)?;
        call.redirect(crate::paths::ACCOUNT_SECURITY);
        Ok(())
    })
    .await
}

/// Turns the app off: with the password, or a code.
#[server(prefix = "/rpc", endpoint = "account/security/totp/disable")]
pub async fn disable_totp(password: Option<String>, code: Option<String>) -> Result<(), AppError> {
    serve(|call| async move {
        let input = crate::validation::ProofInput { password, code };
        call.state
            .second_factors
            .disable_totp(&call.caller().await?, &input)
            .await?;
        call.set_cookie(call.state.cookies.clear_fresh_codes());
        call.redirect(crate::paths::ACCOUNT_SECURITY);
        Ok(())
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "account/security/recovery-codes")]
pub async fn regenerate_recovery_codes() -> Result<(), AppError> {
    serve(|call| async move {
        let caller = call.caller().await?;
        let codes = call.state.second_factors.regenerate_recovery_codes(&caller).await?;
        call.keep_fresh_codes(caller.user_id()?, &codes)?;
        call.redirect(crate::paths::ACCOUNT_SECURITY);
        Ok(())
    })
    .await
}

/// "I have saved them": the codes are not shown again.
#[server(prefix = "/rpc", endpoint = "account/security/recovery-codes/dismiss")]
pub async fn dismiss_recovery_codes() -> Result<(), AppError> {
    serve(|call| async move {
        call.set_cookie(call.state.cookies.clear_fresh_codes());
        call.redirect(crate::paths::ACCOUNT_SECURITY);
        Ok(())
    })
    .await
}

/// Proves again who holds the session (password or code), then carries on with
/// what asked for it (`then`: `set_up_app` or `new_codes`), if anything. A plain
/// form post returns to the security page; `stay` (a hydrated page that carries on
/// by itself, such as the admin table) asks for no redirect.
#[server(prefix = "/rpc", endpoint = "account/reauthenticate")]
pub async fn reauthenticate(
    password: Option<String>,
    code: Option<String>,
    then: Option<String>,
    stay: Option<bool>,
) -> Result<(), AppError> {
    serve(|call| async move {
        let caller = call.caller().await?;
        let input = crate::validation::ProofInput { password, code };
        let factors = &call.state.second_factors;
        factors.reauthenticate(&caller, &input).await?;
        match then.as_deref() {
            Some(THEN_SET_UP_APP) => {
                factors.begin_totp(&caller).await?;
            }
            Some(THEN_NEW_CODES) => {
                let codes = factors.regenerate_recovery_codes(&caller).await?;
                call.keep_fresh_codes(caller.user_id()?, &codes)?;
            }
            Some(THEN_SIGN_OUT_OTHERS) => {
                call.state.sessions.revoke_others(&caller).await?;
            }
            _ => {}
        }
        if stay != Some(true) {
            let back = match then.as_deref() {
                Some(THEN_SIGN_OUT_OTHERS | THEN_SESSIONS) => crate::paths::ACCOUNT_SESSIONS,
                _ => crate::paths::ACCOUNT_SECURITY,
            };
            call.redirect(back);
        }
        Ok(())
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "account/security/passkeys/rename")]
pub async fn rename_passkey(id: Uuid, name: String) -> Result<(), AppError> {
    serve(|call| async move {
        let input = crate::validation::PasskeyNameInput { name };
        call.state
            .second_factors
            .rename_passkey(&call.caller().await?, id, &input)
            .await?;
        call.redirect(crate::paths::ACCOUNT_SECURITY);
        Ok(())
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "account/security/passkeys/remove")]
pub async fn remove_passkey(id: Uuid) -> Result<(), AppError> {
    serve(|call| async move {
        call.state
            .second_factors
            .remove_passkey(&call.caller().await?, id)
            .await?;
        call.redirect(crate::paths::ACCOUNT_SECURITY);
        Ok(())
    })
    .await
}

/// How the sign-in this browser started can take its second step (for the page to
/// offer a passkey only to an account that has one).
#[server(prefix = "/rpc", endpoint = "login/second-factor/methods")]
pub async fn pending_sign_in_methods() -> Result<Vec<SecondFactorMethod>, AppError> {
    serve(|call| async move {
        call.state
            .second_factors
            .pending_methods(call.pending_sign_in().as_ref())
            .await
    })
    .await
}
