//! Opening the database: SQLite (the default) or PostgreSQL, chosen by URL.

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct DbSettings {
    pub url: String,
    pub max_connections: u32,
    pub busy_timeout: Duration,
}

/// Begins a transaction that writes. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`), waiting for other writers within the busy timeout. A
/// deferred transaction starts as a reader; when another connection commits before
/// it writes, SQLite refuses its write at once ("database is locked"), without
/// waiting, and a request racing others failed with 500. PostgreSQL ignores the mode.
pub async fn begin_write<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// Connects and applies the per-connection settings Roster relies on.
pub async fn connect(settings: &DbSettings) -> Result<DatabaseConnection, DbErr> {
    let url = prepare_sqlite_url(&settings.url)?;
    let mut opts = ConnectOptions::new(url);
    opts.max_connections(settings.max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    let busy_timeout = settings.busy_timeout;
    // sqlx applies these on every new pooled connection; WAL persists in the file.
    opts.map_sqlx_sqlite_opts(move |o| {
        o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(busy_timeout)
    });
    let mut db = Database::connect(opts).await?;
    // Every statement's latency, for /metrics (a no-op until a recorder is installed).
    db.set_metric_callback(|info| {
        crate::ssr::replica::note_statement(&info.statement.sql);
        let outcome = if info.failed { "error" } else { "ok" };
        metrics::histogram!("roster_db_query_duration_seconds", "outcome" => outcome)
            .record(info.elapsed.as_secs_f64());
    });
    if db.get_database_backend() == DatabaseBackend::Sqlite {
        db.execute_unprepared("PRAGMA journal_mode = WAL").await?;
    }
    Ok(db)
}

/// Connects to a read replica without waiting for it: the server starts (and
/// reads from the primary) even while the replica is down, and uses it once it
/// answers. Waits are short, so a replica that stops answering is noticed quickly.
pub async fn connect_replica(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(max_connections)
        .min_connections(0)
        .connect_timeout(Duration::from_secs(2))
        .acquire_timeout(Duration::from_secs(2))
        .connect_lazy(true)
        .sqlx_logging(false);
    let mut db = Database::connect(opts).await?;
    db.set_metric_callback(|info| {
        let outcome = if info.failed { "error" } else { "ok" };
        metrics::histogram!("roster_db_query_duration_seconds", "outcome" => outcome)
            .record(info.elapsed.as_secs_f64());
    });
    Ok(db)
}

/// For file databases: creates the parent directory and asks sqlx to create the
/// file (`mode=rwc`), so a fresh checkout runs with no set-up.
fn prepare_sqlite_url(url: &str) -> Result<String, DbErr> {
    let Some(rest) = url.strip_prefix("sqlite:") else {
        return Ok(url.to_owned());
    };
    let path_part = rest.trim_start_matches("//");
    let (path, query) = path_part.split_once('?').unwrap_or((path_part, ""));
    if path.is_empty() || path == ":memory:" || query.contains("mode=memory") {
        return Ok(url.to_owned());
    }
    if let Some(parent) = std::path::Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .map_err(|e| DbErr::Custom(format!("cannot create database directory {}: {e}", parent.display())))?;
    }
    if query.contains("mode=") {
        Ok(url.to_owned())
    } else if query.is_empty() {
        Ok(format!("{url}?mode=rwc"))
    } else {
        Ok(format!("{url}&mode=rwc"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_create_mode_and_leave_others_alone() {
        let dir = std::env::temp_dir().join(format!("roster-db-test-{}", std::process::id()));
        let url = format!("sqlite://{}/x.db", dir.display());
        assert_eq!(prepare_sqlite_url(&url).unwrap(), format!("{url}?mode=rwc"));
        assert!(dir.is_dir(), "parent directory created");
        assert_eq!(prepare_sqlite_url("sqlite::memory:").unwrap(), "sqlite::memory:");
        assert_eq!(prepare_sqlite_url("postgres://x/y").unwrap(), "postgres://x/y");
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Deterministic where the racing-registrations test is a matter of luck: a
    /// transaction from `begin_write` holds SQLite's write lock from its first
    /// moment, so another connection's write waits for it (and, past the busy
    /// timeout, gives up) instead of slipping in before it.
    #[tokio::test]
    async fn a_write_transaction_holds_the_write_lock_from_its_start() {
        let dir = std::env::temp_dir().join(format!("roster-db-immediate-{}", uuid::Uuid::new_v4().simple()));
        let settings = DbSettings {
            url: format!("sqlite://{}/w.db", dir.display()),
            max_connections: 2,
            busy_timeout: Duration::from_millis(200),
        };
        let db = connect(&settings).await.unwrap();
        db.execute_unprepared("CREATE TABLE t (x INTEGER)").await.unwrap();
        let txn = begin_write(&db).await.unwrap();
        let meanwhile = db.execute_unprepared("INSERT INTO t VALUES (1)").await;
        assert!(
            meanwhile.is_err(),
            "another writer got in while a write transaction was open"
        );
        txn.commit().await.unwrap();
        db.execute_unprepared("INSERT INTO t VALUES (2)").await.unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout() {
        use sea_orm::Statement;
        let dir = std::env::temp_dir().join(format!("roster-db-pragma-{}", std::process::id()));
        let settings = DbSettings {
            url: format!("sqlite://{}/p.db", dir.display()),
            max_connections: 2,
            busy_timeout: Duration::from_millis(4321),
        };
        let db = connect(&settings).await.unwrap();
        let pragma = |name: &str| {
            let db = db.clone();
            let sql = format!("PRAGMA {name}");
            async move {
                let row = db
                    .query_one_raw(Statement::from_string(DatabaseBackend::Sqlite, sql))
                    .await
                    .unwrap()
                    .unwrap();
                row.try_get_by_index::<String>(0)
                    .or_else(|_| row.try_get_by_index::<i64>(0).map(|v| v.to_string()))
                    .unwrap()
            }
        };
        assert_eq!(pragma("journal_mode").await, "wal");
        assert_eq!(pragma("foreign_keys").await, "1");
        assert_eq!(pragma("busy_timeout").await, "4321");
        let _ = std::fs::remove_dir_all(dir);
    }
}
