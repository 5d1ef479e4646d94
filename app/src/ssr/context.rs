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

/// Gives a failed server-function call the error's own HTTP status (422, 409, …)
/// instead of a blanket 500 — except for plain HTML form posts, which must stay
/// redirects so the browser returns to the form with the error.
pub fn with_status<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(err) = &result {
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
        }
    }
    result
}

/// Who the request turned out to be, for the access log: the request-log middleware
/// puts an empty slot in the request, and whoever resolves the session fills it.
#[derive(Debug, Clone, Default)]
pub struct RequestUser(std::sync::Arc<std::sync::OnceLock<uuid::Uuid>>);

impl RequestUser {
    pub fn set(parts: &Parts, id: Option<uuid::Uuid>) {
        if let (Some(slot), Some(id)) = (parts.extensions.get::<Self>(), id) {
            let _ = slot.0.set(id);
        }
    }

    pub fn get(&self) -> Option<uuid::Uuid> {
        self.0.get().copied()
    }
}
