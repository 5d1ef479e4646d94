//! The audit log for the admin page (`AuditLog`).

use crate::error::AppError;
use crate::model::AuditPage;
use leptos::prelude::*;
use uuid::Uuid;

#[cfg(feature = "ssr")]
use crate::ssr::rpc::serve;

/// The page shows 50 events at a time.
#[cfg(feature = "ssr")]
const PAGE_SIZE: u32 = 50;

#[server(prefix = "/rpc", endpoint = "audit/list")]
pub async fn list_audit(
    action: Option<String>,
    q: Option<String>,
    user: Option<Uuid>,
    cursor: Option<String>,
) -> Result<AuditPage, AppError> {
    serve(|call| async move {
        let query = crate::model::AuditQuery {
            action,
            q,
            user,
            cursor,
            limit: Some(PAGE_SIZE),
        };
        call.state.audit.list(&call.caller().await?, &query).await
    })
    .await
}

/// The caller's own recent events, for the account page.
#[server(prefix = "/rpc", endpoint = "account/activity")]
pub async fn my_activity(cursor: Option<String>) -> Result<AuditPage, AppError> {
    serve(|call| async move {
        let caller = call.caller().await?;
        call.state.audit.list_own(&caller, cursor, Some(ACTIVITY_PAGE)).await
    })
    .await
}

/// The account page shows ten events at a time.
#[cfg(feature = "ssr")]
const ACTIVITY_PAGE: u32 = 10;
