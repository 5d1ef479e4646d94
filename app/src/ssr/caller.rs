//! Who is making a request, decided once and the same way for the REST handlers
//! (as an axum extractor) and the server functions (through `rpc::serve`): the
//! session cookie is looked up, and the result is a `Caller`: the signed-in user
//! (if any), the `Actor` the policy judges, the session token and the client.

use crate::error::AppError;
use crate::model::User;
use crate::policy::Actor;
use crate::ssr::cookie::CookieConfig;
use crate::ssr::devices::DeviceToken;
use crate::ssr::sessions::SessionToken;
use crate::ssr::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use http::request::Parts;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use uuid::Uuid;

/// Where a request came from, recorded on sessions and in the audit log, and the
/// browser's device cookie (`devices`), which sign-in checks against the account's
/// known browsers.
#[derive(Debug, Clone, Default)]
pub struct ClientMeta {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub device: Option<DeviceToken>,
}

impl ClientMeta {
    pub fn from_parts(parts: &Parts, cookies: &CookieConfig) -> Self {
        let user_agent = parts
            .headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string());
        let device = cookies.device(&parts.headers);
        Self { user_agent, ip, device }
    }
}

impl FromRequestParts<AppState> for ClientMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(parts, &state.cookies))
    }
}

/// The session token a request carries, if well-formed, not yet checked against the
/// store: what sign-in (to end it) and sign-out need, without resolving a caller.
pub struct SessionCookie(pub Option<SessionToken>);

impl FromRequestParts<AppState> for SessionCookie {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self(state.cookies.token(&parts.headers)))
    }
}

/// An administrator viewing the site as the caller's user, until `ends_at`.
#[derive(Debug, Clone, Copy)]
pub struct Impersonation {
    pub admin: Uuid,
    pub ends_at: chrono::DateTime<chrono::Utc>,
}

/// The request's caller, resolved from its session cookie (and, for an
/// administrator viewing as someone, the "view as" cookie).
pub struct Caller {
    /// What the policy judges: anonymous, a user or an admin.
    pub actor: Actor,
    /// The signed-in user, if any.
    pub user: Option<User>,
    /// The session the request was made with, if any.
    pub token: Option<SessionToken>,
    /// Set when an administrator views the site as `user` ("view as").
    pub impersonation: Option<Impersonation>,
    pub client: ClientMeta,
    /// This client wrote something moments ago (`replica.rs`): its reads go to the
    /// primary, so it sees what it wrote.
    pub recent_write: bool,
}

impl Caller {
    pub async fn resolve(state: &AppState, parts: &Parts) -> Result<Self, AppError> {
        let mut token = state.cookies.token(&parts.headers);
        let mut holder = state.sessions.resolve_holder(token.as_ref()).await?;
        // An administrator viewing as someone: that session, if it is theirs and
        // alive; once it has ended, the administrator is themselves again.
        if let Some(view_as) = state.cookies.view_as(&parts.headers)
            && let Some(admin) = holder
                .as_ref()
                .filter(|h| Actor::of(Some(&h.user)) == Actor::Admin(h.user.id))
            && let Some(viewed) = state.sessions.resolve_holder(Some(&view_as)).await?
            && viewed.impersonator == Some(admin.user.id)
        {
            holder = Some(viewed);
            token = Some(view_as);
        }
        let impersonation = holder.as_ref().and_then(|h| {
            h.impersonator.map(|admin| Impersonation {
                admin,
                ends_at: h.expires_at,
            })
        });
        let user = holder.map(|h| h.user);
        let actor = match (&user, &impersonation) {
            (Some(user), Some(_)) => Actor::ViewedAs(user.id),
            _ => Actor::of(user.as_ref()),
        };
        // The request-log middleware leaves an empty slot for the access log's user id.
        if let Some(slot) = parts.extensions.get::<Arc<OnceLock<Actor>>>() {
            let _ = slot.set(actor);
        }
        Ok(Self {
            actor,
            user,
            token,
            impersonation,
            client: ClientMeta::from_parts(parts, &state.cookies),
            recent_write: crate::ssr::replica::carries_recent_write(&parts.headers),
        })
    }

    /// The signed-in user, or 401.
    pub fn user(&self) -> Result<&User, AppError> {
        self.user.as_ref().ok_or(AppError::Unauthenticated)
    }

    /// The signed-in user's id, or 401.
    pub fn user_id(&self) -> Result<Uuid, AppError> {
        self.actor.id().ok_or(AppError::Unauthenticated)
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Self::resolve(state, parts).await
    }
}
