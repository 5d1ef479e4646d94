//! How a server function runs. `serve` hands its body a `ServerCall` (the shared
//! state, the request, and its caller on demand) and gives a failure the error's
//! own HTTP status, so every server function is the service call and nothing else.

use crate::error::AppError;
use crate::ssr::caller::{Caller, ClientMeta};
use crate::ssr::sessions::SessionToken;
use crate::ssr::state::AppState;
use http::HeaderValue;
use http::request::Parts;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use std::future::Future;

/// The request a server function is answering.
pub struct ServerCall {
    pub state: AppState,
    parts: Parts,
}

impl ServerCall {
    fn current() -> Result<Self, AppError> {
        let state = use_context::<AppState>().ok_or_else(|| AppError::internal("AppState missing from context"))?;
        let parts = use_context::<Parts>().ok_or_else(|| AppError::internal("request parts missing from context"))?;
        Ok(Self { state, parts })
    }

    /// Who is calling: resolves the session cookie (the same as the REST extractor).
    pub async fn caller(&self) -> Result<Caller, AppError> {
        Caller::resolve(&self.state, &self.parts).await
    }

    /// The session token the request carries, without resolving it.
    pub fn session_token(&self) -> Option<SessionToken> {
        self.state.cookies.token(&self.parts.headers)
    }

    /// An administrator's "view as" session token, if the request carries one.
    pub fn view_as_token(&self) -> Option<SessionToken> {
        self.state.cookies.view_as(&self.parts.headers)
    }

    /// The secret of a mailed link of `purpose` this browser followed (kept in a
    /// cookie by `link_landing`), as the services take it: empty when there is none.
    pub fn link_secret(&self, purpose: crate::ssr::email_tokens::Purpose) -> String {
        self.state
            .cookies
            .link_secret(&self.parts.headers, purpose)
            .map(|secret| secret.expose().to_owned())
            .unwrap_or_default()
    }

    /// The address this browser last asked a sign-in code for, if still kept.
    pub fn code_email(&self) -> Option<String> {
        self.state.cookies.code_email(&self.parts.headers)
    }

    pub fn client(&self) -> ClientMeta {
        ClientMeta::from_parts(&self.parts, &self.state.cookies)
    }

    /// Sets the cookies of a session just started here (and the device cookie).
    pub fn start_session(&self, session: &crate::ssr::sessions::NewSession) {
        for cookie in self.state.cookies.sign_in(session) {
            self.set_cookie(cookie);
        }
    }

    /// Where a sign-in's first step leads: signed in (the session's cookies, then
    /// the account page), or on to the second step (the pending cookie, then its page).
    pub fn after_first_step(&self, step: crate::ssr::second_factor::SignInStep) -> crate::model::LoginOutcome {
        use crate::model::LoginOutcome;
        use crate::ssr::second_factor::SignInStep;
        match step {
            SignInStep::SignedIn(user, session) => {
                self.start_session(&session);
                self.redirect(crate::paths::ACCOUNT);
                LoginOutcome::SignedIn { user }
            }
            SignInStep::SecondFactor(pending) => {
                self.set_cookie(self.state.cookies.set_pending_sign_in(&pending.token));
                self.redirect(crate::paths::LOGIN_SECOND_FACTOR);
                LoginOutcome::SecondFactorRequired {
                    second_factor_required: true,
                    methods: pending.methods,
                }
            }
        }
    }

    /// The pending sign-in this browser holds (between a sign-in's two steps).
    pub fn pending_sign_in(&self) -> Option<SessionToken> {
        self.state.cookies.pending_sign_in(&self.parts.headers)
    }

    /// The recovery codes kept for the security page to show (sealed), if any.
    pub fn fresh_codes(&self) -> Option<String> {
        self.state.cookies.fresh_codes(&self.parts.headers).map(str::to_owned)
    }

    /// What an admin form left for the next page (sealed), if anything.
    pub fn admin_notice(&self) -> Option<String> {
        self.state.cookies.admin_notice(&self.parts.headers).map(str::to_owned)
    }

    pub fn set_cookie(&self, value: HeaderValue) {
        self.append_header(http::header::SET_COOKIE, value);
    }

    pub fn append_header(&self, name: http::HeaderName, value: HeaderValue) {
        if let Some(response) = use_context::<ResponseOptions>() {
            response.append_header(name, value);
        }
    }

    /// Where a plain HTML form post goes next (a hydrated call ignores it).
    pub fn redirect(&self, path: &str) {
        leptos_axum::redirect(path);
    }
}

/// Runs a server function's body with its request and maps its error to a status.
pub async fn serve<T, F, Fut>(body: F) -> Result<T, AppError>
where
    F: FnOnce(ServerCall) -> Fut,
    Fut: Future<Output = Result<T, AppError>>,
{
    let result = match ServerCall::current() {
        Ok(call) => body(call).await,
        Err(err) => Err(err),
    };
    if let Err(err) = &result {
        set_status(err);
    }
    result
}

/// Gives a failed call the error's own HTTP status (422, 409, …) instead of a
/// blanket 500, except for plain HTML form posts, which must stay redirects so the
/// browser returns to the form with the error.
fn set_status(err: &AppError) {
    let form_post = use_context::<Parts>()
        .and_then(|p| {
            p.headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.contains("text/html"))
        })
        .unwrap_or(false);
    if !form_post
        && let (Some(response), Ok(status)) = (
            use_context::<ResponseOptions>(),
            http::StatusCode::from_u16(err.status()),
        )
    {
        response.set_status(status);
        if let Some(secs) = err.retry_after_secs() {
            response.insert_header(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
        }
    }
}
