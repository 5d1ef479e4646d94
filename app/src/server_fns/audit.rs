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
