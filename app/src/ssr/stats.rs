//! The admin dashboard's figures: sign-ups per hour or day, sign-ins per hour,
//! active sessions, accounts by role and state, the mail outbox and the newest
//! audit events. Every figure is an aggregate the database computes over an index
//! (counts over `users.created_at` ranges, one grouped query over
//! `audit_events(action, at)`), so the page costs the same at a million accounts as
//! at ten (`bench/run`, part `dashboard`, measures it).

use crate::error::AppError;
use crate::model::AuditQuery;
use crate::policy::{Action, Target, authorize};
use crate::ssr::audit::AuditLog;
use crate::ssr::caller::Caller;
use crate::ssr::entity::users;
use crate::ssr::mail::outbox;
use crate::ssr::sessions::SessionService;
use crate::stats::{AccountCounts, AdminStats, CountBucket, MailCounts, SignInBucket, StatsRange};
use chrono::{DateTime, Duration, DurationRound, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Statement,
};
use std::collections::HashMap;

/// How many of the newest audit events the dashboard lists.
pub const RECENT_EVENTS: u32 = 10;

#[derive(Clone)]
pub struct StatsService {
    db: DatabaseConnection,
    sessions: SessionService,
    audit: AuditLog,
}

impl StatsService {
    pub fn new(db: DatabaseConnection, sessions: SessionService, audit: AuditLog) -> Self {
        Self { db, sessions, audit }
    }

    pub async fn admin_stats(&self, caller: &Caller, range: StatsRange) -> Result<AdminStats, AppError> {
        authorize(caller.actor, Action::ViewStats, Target::Collection)?;
        let now = Utc::now();
        let signups = self.signups(range, now).await?;
        let sign_ins = self.sign_ins(range, now).await?;
        let active_sessions = self.sessions.store().count_live(now).await.map_err(AppError::from)?;
        let accounts = self.accounts().await?;
        let mail = self.mail().await?;
        let recent = AuditQuery {
            limit: Some(RECENT_EVENTS),
            ..AuditQuery::default()
        };
        let recent_events = self.audit.list(caller, &recent).await?.items;
        Ok(AdminStats {
            range,
            generated_at: now,
            signups,
            sign_ins,
            active_sessions,
            accounts,
            mail,
            recent_events,
        })
    }

    /// One count per bucket, each an index range scan over `users.created_at`.
    async fn signups(&self, range: StatsRange, now: DateTime<Utc>) -> Result<Vec<CountBucket>, AppError> {
        let starts = bucket_starts(now, range.length(), range.signup_bucket());
        let step = range.signup_bucket();
        let mut buckets = Vec::with_capacity(starts.len());
        for start in starts {
            let count = users::Entity::find()
                .filter(users::Column::CreatedAt.gte(start))
                .filter(users::Column::CreatedAt.lt(start + step))
                .count(&self.db)
                .await?;
            buckets.push(CountBucket { start, count });
        }
        Ok(buckets)
    }

    /// One grouped query over `audit_events(action, at)`: sign-ins and refused
    /// sign-ins per hour.
    async fn sign_ins(&self, range: StatsRange, now: DateTime<Utc>) -> Result<Vec<SignInBucket>, AppError> {
        let starts = bucket_starts(now, range.length(), Duration::hours(1));
        let since = starts[0];
        let backend = self.db.get_database_backend();
        let hour = match backend {
            DatabaseBackend::Postgres => "(floor(extract(epoch from at) / 3600))::bigint",
            _ => "(CAST(strftime('%s', at) AS INTEGER) / 3600)",
        };
        let placeholder = match backend {
            DatabaseBackend::Postgres => "$1",
            _ => "?",
        };
        let sql = format!(
            "SELECT {hour} AS hour, action, COUNT(*) AS n FROM audit_events \
             WHERE action IN ('sign_in', 'sign_in_failed') AND at >= {placeholder} GROUP BY 1, 2"
        );
        let rows = self
            .db
            .query_all_raw(Statement::from_sql_and_values(backend, sql, [since.into()]))
            .await?;
        let mut counts: HashMap<(i64, String), u64> = HashMap::new();
        for row in rows {
            let hour: i64 = row.try_get_by_index(0)?;
            let action: String = row.try_get_by_index(1)?;
            let n: i64 = row.try_get_by_index(2)?;
            counts.insert((hour, action), n.max(0) as u64);
        }
        Ok(starts
            .into_iter()
            .map(|start| {
                let hour = start.timestamp() / 3600;
                let get = |action: &str| counts.get(&(hour, action.to_owned())).copied().unwrap_or(0);
                SignInBucket {
                    start,
                    succeeded: get("sign_in"),
                    failed: get("sign_in_failed"),
                }
            })
            .collect())
    }

    /// Every count in one pass over the table (six counts were six full scans:
    /// 390 ms at a million accounts).
    async fn accounts(&self) -> Result<AccountCounts, AppError> {
        let backend = self.db.get_database_backend();
        let sql = "SELECT COUNT(*), \
             COALESCE(SUM(CASE WHEN role = 'admin' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN disabled THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN approval_pending THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN email_verified_at IS NULL THEN 1 ELSE 0 END), 0) \
             FROM users";
        let row = self
            .db
            .query_one_raw(Statement::from_string(backend, sql))
            .await?
            .ok_or_else(|| AppError::internal("no row from a COUNT"))?;
        let get = |i: usize| -> Result<u64, AppError> { Ok(row.try_get_by_index::<i64>(i)?.max(0) as u64) };
        let (total, admins) = (get(0)?, get(1)?);
        Ok(AccountCounts {
            total,
            admins,
            users: total - admins,
            disabled: get(2)?,
            pending_approval: get(3)?,
            unverified: get(4)?,
        })
    }

    async fn mail(&self) -> Result<MailCounts, AppError> {
        let mut counts = MailCounts::default();
        for (state, n) in outbox::count_by_state(&self.db).await? {
            let n = n.max(0) as u64;
            match state.as_str() {
                outbox::SENT => counts.sent += n,
                outbox::FAILED => counts.failed += n,
                _ => counts.pending += n,
            }
        }
        Ok(counts)
    }
}

/// The starts of the buckets of `step` that cover the `length` up to `now`, oldest
/// first; the last is the bucket `now` is in (aligned to whole hours or days, UTC).
fn bucket_starts(now: DateTime<Utc>, length: Duration, step: Duration) -> Vec<DateTime<Utc>> {
    let current = now.duration_trunc(step).unwrap_or(now);
    let n = (length.num_seconds() / step.num_seconds()).max(1);
    (0..n).rev().map(|i| current - step * (i as i32)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_the_range_aligned_and_oldest_first() {
        let now = DateTime::parse_from_rfc3339("2026-11-30T18:42:10Z")
            .unwrap()
            .with_timezone(&Utc);
        let hours = bucket_starts(now, Duration::hours(24), Duration::hours(1));
        assert_eq!(hours.len(), 24);
        assert_eq!(hours[23].to_rfc3339(), "2026-11-30T18:00:00+00:00");
        assert_eq!(hours[0].to_rfc3339(), "2026-11-29T19:00:00+00:00");
        let days = bucket_starts(now, Duration::days(30), Duration::days(1));
        assert_eq!(days.len(), 30);
        assert_eq!(days[29].to_rfc3339(), "2026-11-30T00:00:00+00:00");
        assert!(days.windows(2).all(|w| w[1] - w[0] == Duration::days(1)));
    }
}
