//! Online backups and restores. SQLite: `VACUUM INTO` (a consistent snapshot while
//! the app keeps writing), checked with `PRAGMA integrity_check`. PostgreSQL:
//! `pg_dump --format=custom`, checked with `pg_restore --list`. Every backup gets a
//! `FILE.sha256` beside it, and a restore refuses a file whose checksum does not match.

use sea_orm::{ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, Statement};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Failed(String),
}

fn fail(message: impl Into<String>) -> BackupError {
    BackupError::Failed(message.into())
}

pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// `backups/roster-YYYYmmddTHHMMSSZ.{db,dump}` under the working directory.
pub fn default_path(url: &str) -> PathBuf {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let ext = if is_postgres(url) { "dump" } else { "db" };
    PathBuf::from("backups").join(format!("roster-{stamp}.{ext}"))
}

fn checksum_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".sha256");
    PathBuf::from(name)
}

fn sha256_file(file: &Path) -> Result<String, BackupError> {
    let bytes = std::fs::read(file).map_err(|e| fail(format!("cannot read {}: {e}", file.display())))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

fn run(command: &mut Command, what: &str) -> Result<String, BackupError> {
    let out = command.output().map_err(|e| fail(format!("cannot run {what}: {e}")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(fail(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

async fn integrity_ok(file: &Path) -> Result<(), BackupError> {
    let db = Database::connect(format!("sqlite://{}?mode=ro", file.display()))
        .await
        .map_err(|e| fail(format!("cannot open the backup: {e}")))?;
    let row = db
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await
        .map_err(|e| fail(e.to_string()))?
        .ok_or_else(|| fail("integrity_check returned nothing"))?;
    let verdict: String = row.try_get_by_index(0).map_err(|e| fail(e.to_string()))?;
    db.close().await.ok();
    if verdict == "ok" {
        Ok(())
    } else {
        Err(fail(format!("integrity_check: {verdict}")))
    }
}

/// Takes, verifies and checksums a backup. Returns the checksum.
pub async fn backup(db: &DatabaseConnection, url: &str, out: &Path) -> Result<String, BackupError> {
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
    }
    if out.exists() {
        return Err(fail(format!("{} already exists", out.display())));
    }
    if is_postgres(url) {
        run(
            Command::new("pg_dump")
                .arg("--format=custom")
                .arg("--file")
                .arg(out)
                .arg(url),
            "pg_dump",
        )?;
        run(Command::new("pg_restore").arg("--list").arg(out), "pg_restore --list")?;
    } else {
        let target = out
            .to_str()
            .ok_or_else(|| fail("the backup path must be UTF-8"))?
            .replace('\'', "''");
        db.execute_unprepared(&format!("VACUUM INTO '{target}'"))
            .await
            .map_err(|e| fail(e.to_string()))?;
        integrity_ok(out).await?;
    }
    let sum = sha256_file(out)?;
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    std::fs::write(checksum_path(out), format!("{sum}  {name}\n")).map_err(|e| fail(e.to_string()))?;
    Ok(sum)
}

/// Restores `file` into the database at `url` after checking its checksum. Refuses
/// to overwrite a database that already holds users unless `force`.
pub async fn restore(file: &Path, url: &str, force: bool) -> Result<(), BackupError> {
    let expected = std::fs::read_to_string(checksum_path(file))
        .map_err(|_| fail(format!("no checksum file {}", checksum_path(file).display())))?;
    let expected = expected.split_whitespace().next().unwrap_or_default().to_owned();
    if sha256_file(file)? != expected {
        return Err(fail(
            "checksum mismatch: the backup is damaged or not the one the checksum describes",
        ));
    }
    let settings = app::ssr::db::DbSettings {
        url: url.to_owned(),
        max_connections: 1,
        busy_timeout: std::time::Duration::from_secs(5),
    };
    let target = app::ssr::db::connect(&settings)
        .await
        .map_err(|e| fail(format!("cannot open the target: {e}")))?;
    let has_users = target
        .query_one_raw(Statement::from_string(
            target.get_database_backend(),
            "SELECT COUNT(*) FROM users",
        ))
        .await
        .ok()
        .flatten()
        .and_then(|row| row.try_get_by_index::<i64>(0).ok())
        .is_some_and(|n| n > 0);
    if has_users && !force {
        return Err(fail("the target database is not empty; pass --force to overwrite it"));
    }
    if is_postgres(url) {
        target.close().await.ok();
        run(
            Command::new("pg_restore")
                .args([
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                    "--dbname",
                ])
                .arg(url)
                .arg(file),
            "pg_restore",
        )?;
    } else {
        // SQLite: the backup is a complete database file and replaces the target's
        // file (and its WAL). The app must be stopped for this; the runbook says so.
        target.close().await.ok();
        let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
        let path = path.split('?').next().unwrap_or(path);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
        std::fs::copy(file, path).map_err(|e| fail(format!("cannot write {path}: {e}")))?;
        integrity_ok(Path::new(path)).await?;
    }
    Ok(())
}

/// Deletes all but the newest `keep` backups (and their checksums) in `dir`. Names
/// carry a sortable UTC timestamp, so name order is age order.
pub fn prune(dir: &Path, keep: usize) -> std::io::Result<usize> {
    let backups = backups_oldest_first(dir)?;
    let excess = backups.len().saturating_sub(keep);
    for old in &backups[..excess] {
        std::fs::remove_file(old)?;
        let _ = std::fs::remove_file(checksum_path(old));
    }
    Ok(excess)
}

/// The backups in `dir`, by name, which is age order.
fn backups_oldest_first(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut backups: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("roster-") && (name.ends_with(".db") || name.ends_with(".dump"))
        })
        .collect();
    backups.sort();
    Ok(backups)
}

/// When the newest backup in `dir` was written, if there is one.
fn newest_backup_time(dir: &Path) -> Option<std::time::SystemTime> {
    let newest = backups_oldest_first(dir).ok()?.pop()?;
    std::fs::metadata(newest).ok()?.modified().ok()
}

/// Backups taken by `serve` itself.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub interval: std::time::Duration,
    pub dir: PathBuf,
    pub keep: usize,
}

pub async fn run_schedule(db: DatabaseConnection, url: String, schedule: Schedule) {
    // With the time of the last success, an alert can tell a schedule that stopped
    // working (deploy/prometheus/alerts.yml: RosterBackupTooOld).
    metrics::gauge!("roster_backup_interval_seconds").set(schedule.interval.as_secs_f64());
    // Until this process writes one, the last success is the newest backup on disk, or
    // the start: a schedule that never succeeds is noticed two intervals after start.
    let last = newest_backup_time(&schedule.dir).unwrap_or_else(std::time::SystemTime::now);
    let last = last.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    metrics::gauge!("roster_backup_last_success_timestamp_seconds").set(last.as_secs_f64());
    let mut ticker = tokio::time::interval(schedule.interval);
    ticker.tick().await; // the first tick is immediate; the first backup comes one interval in
    loop {
        ticker.tick().await;
        let file = schedule.dir.join(default_path(&url).file_name().expect("a file name"));
        let started = std::time::Instant::now();
        match backup(&db, &url, &file).await {
            Ok(_) => {
                metrics::gauge!("roster_backup_last_success_timestamp_seconds")
                    .set(chrono::Utc::now().timestamp() as f64);
                tracing::info!(file = %file.display(), seconds = started.elapsed().as_secs_f64(), "scheduled backup written")
            }
            Err(err) => {
                metrics::counter!("roster_backup_failures_total").increment(1);
                tracing::error!(error = %err, "scheduled backup failed")
            }
        }
        if let Err(err) = prune(&schedule.dir, schedule.keep) {
            tracing::warn!(error = %err, "pruning old backups failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_keeps_the_newest_backups_and_their_checksums() {
        let dir = std::env::temp_dir().join(format!("roster-prune-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for stamp in [
            "20260101T000000Z",
            "20260102T000000Z",
            "20260103T000000Z",
            "20260104T000000Z",
        ] {
            std::fs::write(dir.join(format!("roster-{stamp}.db")), b"x").unwrap();
            std::fs::write(dir.join(format!("roster-{stamp}.db.sha256")), b"x").unwrap();
        }
        std::fs::write(dir.join("unrelated.txt"), b"x").unwrap();
        assert_eq!(prune(&dir, 2).unwrap(), 2);
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "roster-20260103T000000Z.db",
                "roster-20260103T000000Z.db.sha256",
                "roster-20260104T000000Z.db",
                "roster-20260104T000000Z.db.sha256",
                "unrelated.txt"
            ]
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
