//! The admin dashboard's figures: sign-ups per hour or day, sign-ins per hour,
//! active sessions, accounts by role and state, the mail outbox and the newest
//! audit events. The account figures and sign-ups are counters the database keeps
//! as accounts change (`account_counts`, `signup_hours`: triggers on `users`,
//! migration 15), read, never scanned; sign-ins are one grouped query over
//! `audit_events(action, at)`. So the page costs about the same at a million
//! accounts as at ten (`bench/run`, part `dashboard`, measures it).

use crate::error::AppError;
use crate::model::AuditQuery;
use crate::policy::{Action, Target, authorize};
use crate::ssr::audit::AuditLog;
use crate::ssr::caller::Caller;
use crate::ssr::mail::outbox;
use crate::ssr::sessions::SessionService;
use crate::stats::{AccountCounts, AdminStats, CountBucket, MailCounts, SignInBucket, StatsRange};
use chrono::{DateTime, Duration, DurationRound, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
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

    /// The range's hours from `signup_hours` (at most 720 rows), summed into its
    /// buckets (hours, or days).
    async fn signups(&self, range: StatsRange, now: DateTime<Utc>) -> Result<Vec<CountBucket>, AppError> {
        let starts = bucket_starts(now, range.length(), range.signup_bucket());
        let step = range.signup_bucket();
        let first_hour = starts[0].timestamp() / 3600;
        let backend = self.db.get_database_backend();
        let placeholder = match backend {
            DatabaseBackend::Postgres => "$1",
            _ => "?",
        };
        let sql = format!("SELECT hour, n FROM signup_hours WHERE hour >= {placeholder}");
        let rows = self
            .db
            .query_all_raw(Statement::from_sql_and_values(backend, sql, [first_hour.into()]))
            .await?;
        let mut hours = Vec::with_capacity(rows.len());
        for row in rows {
            let hour: i64 = row.try_get_by_index(0)?;
            let n: i64 = row.try_get_by_index(1)?;
            hours.push((hour, n.max(0) as u64));
        }
        Ok(sum_into_buckets(&starts, step, &hours))
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

    /// The five rows of `account_counts` (one pass over the table was 320 ms at a
    /// million accounts).
    async fn accounts(&self) -> Result<AccountCounts, AppError> {
        let backend = self.db.get_database_backend();
        let rows = self
            .db
            .query_all_raw(Statement::from_string(backend, "SELECT name, n FROM account_counts"))
            .await?;
        let mut counts: HashMap<String, u64> = HashMap::new();
        for row in rows {
            let name: String = row.try_get_by_index(0)?;
            let n: i64 = row.try_get_by_index(1)?;
            counts.insert(name, n.max(0) as u64);
        }
        let get = |name: &str| counts.get(name).copied().unwrap_or(0);
        let (total, admins) = (get("total"), get("admins"));
        Ok(AccountCounts {
            total,
            admins,
            users: total.saturating_sub(admins),
            disabled: get("disabled"),
            pending_approval: get("pending"),
            unverified: get("unverified"),
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

/// Hour counts (`hour` = seconds since 1970 / 3600) summed into the buckets that
/// start at `starts` and last `step`; hours outside them are left out.
fn sum_into_buckets(starts: &[DateTime<Utc>], step: Duration, hours: &[(i64, u64)]) -> Vec<CountBucket> {
    starts
        .iter()
        .map(|&start| {
            let (from, to) = (start.timestamp() / 3600, (start + step).timestamp() / 3600);
            let count = hours
                .iter()
                .filter(|(hour, _)| (from..to).contains(hour))
                .map(|(_, n)| n)
                .sum();
            CountBucket { start, count }
        })
        .collect()
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
    fn hours_are_summed_into_their_days() {
        let now = DateTime::parse_from_rfc3339("2026-11-30T18:42:10Z")
            .unwrap()
            .with_timezone(&Utc);
        let days = bucket_starts(now, Duration::days(7), Duration::days(1));
        let hour_of = |at: &str| DateTime::parse_from_rfc3339(at).unwrap().timestamp() / 3600;
        let hours = [
            (hour_of("2026-11-30T18:00:00Z"), 2),
            (hour_of("2026-11-30T00:00:00Z"), 3),
            (hour_of("2026-11-29T23:00:00Z"), 5),
            (hour_of("2026-11-20T10:00:00Z"), 7),
        ];
        let buckets = sum_into_buckets(&days, Duration::days(1), &hours);
        assert_eq!(buckets.len(), 7);
        assert_eq!(buckets[6].count, 5, "today: 18:00 and 00:00");
        assert_eq!(buckets[5].count, 5, "yesterday's last hour");
        assert_eq!(
            buckets.iter().map(|b| b.count).sum::<u64>(),
            10,
            "the 20th is outside the week"
        );
    }

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
