//! Reads that tolerate a little lag (the admin's account list and search, the audit
//! log) can go to a PostgreSQL streaming replica (`ROSTER_DATABASE_REPLICA_URL`).
//! Everything else stays on the primary: writes, sign-in, session checks, and any
//! read by a client that wrote something in the last few seconds (read-your-writes).
//!
//! - The replica is used only while it answers and its replay lag is at most
//!   `ROSTER_REPLICA_MAX_LAG`, measured every second by a background task. A replica
//!   that stops answering or falls behind is skipped (reads go to the primary) and
//!   comes back by itself; a read that fails on it is answered by the primary.
//! - Read-your-writes across instances without shared memory: a request that wrote
//!   (any INSERT, UPDATE or DELETE, noticed where statements are measured in
//!   `db.rs`) is answered with a short-lived `roster_recent_write` cookie, and a
//!   request carrying it reads from the primary, whichever instance serves it.
//! - `/metrics`: `roster_db_reads_total{pool}` (which pool answered a lag-tolerant
//!   read), `roster_replica_lag_seconds` and `roster_replica_available`. `/readyz`
//!   does not look at the replica: the primary can serve everything.

use crate::ssr::caller::Caller;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// The cookie that marks a client's recent write; in production (Secure cookies) it
/// carries the `__Host-` prefix, so no sibling host can set or read it.
pub const RECENT_WRITE_COOKIE: &str = "roster_recent_write";
pub const RECENT_WRITE_COOKIE_SECURE: &str = "__Host-roster_recent_write";

/// How often the replica's lag is measured.
const PROBE_EVERY: Duration = Duration::from_secs(1);
/// A probe that takes longer than this counts as the replica not answering.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

tokio::task_local! {
    /// Set while a request runs: whether it has written to the database.
    static WROTE: Arc<AtomicBool>;
}

/// Called for every statement the primary runs (`db.rs`): a write inside a request
/// marks that request.
pub fn note_statement(sql: &str) {
    if is_write(sql) {
        let _ = WROTE.try_with(|wrote| wrote.store(true, Ordering::Relaxed));
    }
}

fn is_write(sql: &str) -> bool {
    let verb = sql
        .trim_start()
        .split(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("");
    ["INSERT", "UPDATE", "DELETE"]
        .iter()
        .any(|w| verb.eq_ignore_ascii_case(w))
}

/// Runs a request, telling whether it wrote to the database.
pub async fn tracking_writes<F: Future>(request: F) -> (F::Output, bool) {
    let wrote = Arc::new(AtomicBool::new(false));
    let output = WROTE.scope(wrote.clone(), request).await;
    (output, wrote.load(Ordering::Relaxed))
}

/// Whether a request carries the recent-write cookie.
pub fn carries_recent_write(headers: &http::HeaderMap) -> bool {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .any(|pair| {
            pair.trim()
                .split_once('=')
                .is_some_and(|(name, _)| name == RECENT_WRITE_COOKIE || name == RECENT_WRITE_COOKIE_SECURE)
        })
}

/// Which pool answered: counted for tests and exported to `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadCounts {
    pub primary: u64,
    pub replica: u64,
}

struct Replica {
    db: DatabaseConnection,
    max_lag: Duration,
    /// Answering and within `max_lag`, as of the last probe.
    usable: AtomicBool,
}

/// Where lag-tolerant reads go.
#[derive(Clone)]
pub struct Reads {
    primary: DatabaseConnection,
    replica: Option<Arc<Replica>>,
    primary_reads: Arc<AtomicU64>,
    replica_reads: Arc<AtomicU64>,
}

impl Reads {
    /// No replica: every read goes to the primary.
    pub fn primary_only(primary: DatabaseConnection) -> Self {
        Self {
            primary,
            replica: None,
            primary_reads: Arc::default(),
            replica_reads: Arc::default(),
        }
    }

    /// Reads go to `replica` while it answers within `max_lag`; a task measures it
    /// every second for as long as the process runs.
    pub fn with_replica(primary: DatabaseConnection, replica: DatabaseConnection, max_lag: Duration) -> Self {
        let replica = Arc::new(Replica {
            db: replica,
            max_lag,
            usable: AtomicBool::new(false),
        });
        tokio::spawn(watch(Arc::downgrade(&replica)));
        Self {
            replica: Some(replica),
            ..Self::primary_only(primary)
        }
    }

    pub fn counts(&self) -> ReadCounts {
        ReadCounts {
            primary: self.primary_reads.load(Ordering::Relaxed),
            replica: self.replica_reads.load(Ordering::Relaxed),
        }
    }

    /// Whether the replica would take a read now (a replica is configured, answers
    /// and is within its lag limit).
    pub fn replica_usable(&self) -> bool {
        self.replica.as_ref().is_some_and(|r| r.usable.load(Ordering::Relaxed))
    }

    /// Runs a lag-tolerant read for `caller`: on the replica when it is usable and
    /// the caller has not just written, otherwise (or if it fails there) on the
    /// primary.
    /// (The read gets its own handle on the pool: a clone is a reference count.)
    pub async fn run<T, Read, Rows>(&self, caller: &Caller, read: Read) -> Result<T, DbErr>
    where
        Read: Fn(DatabaseConnection) -> Rows,
        Rows: Future<Output = Result<T, DbErr>>,
    {
        if let Some(replica) = self
            .replica
            .as_ref()
            .filter(|r| !caller.recent_write && r.usable.load(Ordering::Relaxed))
        {
            match read(replica.db.clone()).await {
                Ok(rows) => {
                    self.replica_reads.fetch_add(1, Ordering::Relaxed);
                    metrics::counter!("roster_db_reads_total", "pool" => "replica").increment(1);
                    return Ok(rows);
                }
                Err(err) => {
                    // Skipped until the next probe finds it well again.
                    replica.usable.store(false, Ordering::Relaxed);
                    tracing::warn!(error = %err, "a read failed on the replica; answered from the primary");
                }
            }
        }
        let rows = read(self.primary.clone()).await?;
        self.primary_reads.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("roster_db_reads_total", "pool" => "primary").increment(1);
        Ok(rows)
    }
}

/// Measures the replica every second until it is dropped with the last `Reads`.
async fn watch(replica: std::sync::Weak<Replica>) {
    let mut ticker = tokio::time::interval(PROBE_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut was_usable = None;
    loop {
        ticker.tick().await;
        let Some(replica) = replica.upgrade() else { return };
        let lag = tokio::time::timeout(PROBE_TIMEOUT, replay_lag(&replica.db)).await;
        let usable = match &lag {
            Ok(Ok(lag)) => {
                metrics::gauge!("roster_replica_lag_seconds").set(lag.as_secs_f64());
                *lag <= replica.max_lag
            }
            _ => false,
        };
        metrics::gauge!("roster_replica_available").set(if usable { 1.0 } else { 0.0 });
        replica.usable.store(usable, Ordering::Relaxed);
        if was_usable != Some(usable) {
            match &lag {
                Ok(Ok(lag)) if usable => tracing::info!(lag_ms = lag.as_millis() as u64, "reading from the replica"),
                Ok(Ok(lag)) => {
                    tracing::warn!(
                        lag_ms = lag.as_millis() as u64,
                        "the replica is behind; reading from the primary"
                    )
                }
                Ok(Err(err)) => tracing::warn!(error = %err, "the replica does not answer; reading from the primary"),
                Err(_) => tracing::warn!("the replica does not answer in time; reading from the primary"),
            }
            was_usable = Some(usable);
        }
    }
}

/// How far the replica's replay is behind: zero when it has replayed everything it
/// received, otherwise the age of the last transaction it replayed. (Pointed at a
/// primary, it reports zero.)
async fn replay_lag(db: &DatabaseConnection) -> Result<Duration, DbErr> {
    const LAG: &str = "SELECT CASE \
         WHEN NOT pg_is_in_recovery() THEN 0::float8 \
         WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0::float8 \
         ELSE COALESCE(EXTRACT(EPOCH FROM (now() - pg_last_xact_replay_timestamp()))::float8, 0::float8) END AS lag";
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), LAG))
        .await?
        .ok_or_else(|| DbErr::Custom("the lag query returned no row".into()))?;
    let seconds: f64 = row.try_get("", "lag")?;
    Ok(Duration::from_secs_f64(seconds.max(0.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_statements_that_change_rows_are_writes() {
        for write in [
            "INSERT INTO users",
            "  update users SET",
            "DELETE FROM sessions",
            "Insert(x)",
        ] {
            assert!(is_write(write), "{write}");
        }
        for read in [
            "SELECT 1",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "",
            "BEGIN",
            "UPDATED",
        ] {
            assert!(!is_write(read), "{read}");
        }
    }

    #[tokio::test]
    async fn a_request_is_marked_only_by_its_own_writes() {
        let ((), wrote) = tracking_writes(async { note_statement("SELECT 1") }).await;
        assert!(!wrote);
        let ((), wrote) = tracking_writes(async { note_statement("UPDATE users SET name = 'x'") }).await;
        assert!(wrote);
        // Outside a request nothing is marked, and nothing fails.
        note_statement("DELETE FROM users");
    }

    #[test]
    fn the_cookie_is_found_among_others_by_its_exact_name() {
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::COOKIE, "a=1; roster_recent_write=1".parse().unwrap());
        assert!(carries_recent_write(&headers));
        headers.insert(http::header::COOKIE, "__Host-roster_recent_write=1".parse().unwrap());
        assert!(carries_recent_write(&headers));
        headers.insert(
            http::header::COOKIE,
            "roster_recent_writes=1; x=roster_recent_write".parse().unwrap(),
        );
        assert!(!carries_recent_write(&headers));
        assert!(!carries_recent_write(&http::HeaderMap::new()));
    }
}
