//! The admin dashboard's figures (`StatsService`), as `GET /api/admin/stats` serves them.

use crate::error::AppError;
use crate::stats::AdminStats;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::ssr::rpc::serve;

/// `range` is `24h`, `7d` or `30d`.
#[server(prefix = "/rpc", endpoint = "admin/stats")]
pub async fn dashboard_stats(range: String) -> Result<AdminStats, AppError> {
    serve(|call| async move {
        let range = crate::stats::StatsRange::parse(&range)
            .ok_or_else(|| AppError::invalid_field("range", "The range is 24h, 7d or 30d."))?;
        call.state.stats.admin_stats(&call.caller().await?, range).await
    })
    .await
}
