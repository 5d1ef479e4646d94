//! Roles granted for a while (`"role_expires_at"` on an update): when the time
//! passes, the account returns to the role it had before. The server does it, not a
//! person: on the account's next request (a session whose account's grant has passed
//! is never answered from the cache) and, for accounts that make none, by the sweep
//! every server runs. Either way the change is one guarded UPDATE, the cached
//! account is forgotten on every server, and the audit log records it with no actor.
//! The last-admin rule holds: a grant whose end would leave no active administrator
//! stays until there is another (a warning is logged each time it is put off).

use crate::error::AppError;
use crate::model::{AuditAction, Role};
use crate::ssr::audit::AuditLog;
use crate::ssr::caller::ClientMeta;
use crate::ssr::entity::users;
use crate::ssr::principal_cache::PrincipalCache;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// How often each server looks for grants that have passed.
pub const SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(15);

/// Whether this account's grant has passed and is waiting to be ended.
pub fn has_passed(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    expires_at.is_some_and(|at| at <= now)
}

/// Ends the account's grant if it has passed: the account as it is afterwards.
pub async fn end_if_passed(
    db: &DatabaseConnection,
    cache: &PrincipalCache,
    audit: &AuditLog,
    account: users::Model,
    now: DateTime<Utc>,
) -> Result<users::Model, AppError> {
    if !has_passed(account.role_expires_at, now) {
        return Ok(account);
    }
    let after = account
        .role_after_expiry
        .as_deref()
        .and_then(Role::parse)
        .unwrap_or(Role::User);
    let was_active_admin = account.role() == Role::Admin && !account.disabled;
    let txn = crate::ssr::db::begin_write(db).await?;
    if was_active_admin && after != Role::Admin {
        crate::ssr::users::lock_admins(&txn).await?;
    }
    let changed = users::Entity::update_many()
        .col_expr(users::Column::Role, Expr::value(after.as_str()))
        .col_expr(users::Column::RoleExpiresAt, Expr::value(None::<DateTime<Utc>>))
        .col_expr(users::Column::RoleAfterExpiry, Expr::value(None::<String>))
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .filter(users::Column::Id.eq(account.id))
        .filter(users::Column::RoleExpiresAt.lte(now))
        .exec(&txn)
        .await?;
    if changed.rows_affected == 0 {
        // Another server ended it first, or an administrator changed it meanwhile.
        txn.rollback().await?;
        return reread(db, account).await;
    }
    if was_active_admin && after != Role::Admin && users::count_active_admins(&txn).await? == 0 {
        txn.rollback().await?;
        tracing::warn!(user = %account.id, "a granted admin role has passed but is kept: it is the last active administrator");
        return Ok(account);
    }
    txn.commit().await?;
    cache.forget_user(account.id).await;
    let detail = Some(format!(
        "{} → {}: the grant until {} ended",
        account.role().as_str(),
        after.as_str(),
        account
            .role_expires_at
            .map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default()
    ));
    audit
        .record(
            AuditAction::RoleChanged,
            None,
            Some((account.id, &account.email)),
            &ClientMeta::default(),
            detail,
        )
        .await;
    reread(db, account).await
}

async fn reread(db: &DatabaseConnection, account: users::Model) -> Result<users::Model, AppError> {
    Ok(users::Entity::find_by_id(account.id).one(db).await?.unwrap_or(account))
}

/// Ends every grant that has passed (a page at a time); how many were ended.
pub async fn sweep(
    db: &DatabaseConnection,
    cache: &PrincipalCache,
    audit: &AuditLog,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    let due = users::Entity::find()
        .filter(users::Column::RoleExpiresAt.lte(now))
        .order_by_asc(users::Column::RoleExpiresAt)
        .limit(500)
        .all(db)
        .await?;
    let mut ended = 0;
    for account in due {
        let after = end_if_passed(db, cache, audit, account, now).await?;
        if after.role_expires_at.is_none() {
            ended += 1;
        }
    }
    Ok(ended)
}
