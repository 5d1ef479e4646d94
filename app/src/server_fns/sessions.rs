//! "Where you're signed in" on the account page (`SessionService`).

use crate::error::AppError;
use crate::model::SessionInfo;
use leptos::prelude::*;
use uuid::Uuid;

#[cfg(feature = "ssr")]
use crate::ssr::rpc::serve;

#[server(prefix = "/rpc", endpoint = "account/sessions")]
pub async fn my_sessions() -> Result<Vec<SessionInfo>, AppError> {
    serve(|call| async move { call.state.sessions.list_own(&call.caller().await?).await }).await
}

#[server(prefix = "/rpc", endpoint = "account/sessions/revoke")]
pub async fn revoke_session(id: Uuid) -> Result<(), AppError> {
    serve(|call| async move { call.state.sessions.revoke_own(&call.caller().await?, id).await }).await
}

#[server(prefix = "/rpc", endpoint = "account/sessions/revoke-others")]
pub async fn revoke_other_sessions() -> Result<u64, AppError> {
    serve(|call| async move { call.state.sessions.revoke_others(&call.caller().await?).await }).await
}
