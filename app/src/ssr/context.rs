//! What server functions read from the Leptos context: the shared state and the
//! incoming request, and how they add a cookie to the response.

use crate::error::AppError;
use crate::ssr::auth::ClientMeta;
use crate::ssr::session::SessionToken;
use crate::ssr::state::AppState;
use http::HeaderValue;
use http::request::Parts;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

pub struct RequestContext {
    pub state: AppState,
    pub parts: Parts,
}

impl RequestContext {
    pub fn current() -> Result<Self, AppError> {
        let state = use_context::<AppState>().ok_or_else(|| AppError::internal("AppState missing from context"))?;
        let parts = use_context::<Parts>().ok_or_else(|| AppError::internal("request parts missing from context"))?;
        Ok(Self { state, parts })
    }

    pub fn session_token(&self) -> Option<SessionToken> {
        self.state.cookies.token(&self.parts.headers)
    }

    pub fn client(&self) -> ClientMeta {
        ClientMeta::from_parts(&self.parts)
    }

    pub fn set_cookie(&self, value: HeaderValue) {
        if let Some(response) = use_context::<ResponseOptions>() {
            response.append_header(http::header::SET_COOKIE, value);
        }
    }
}
