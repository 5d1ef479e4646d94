//! Logging: human-readable in development, one JSON object per line in production,
//! to stdout and optionally to daily-rotated files with a retention count.

use std::path::Path;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

/// Keeps the log writers flushing; hold it until the process ends (dropping it
/// writes out what is still queued).
pub struct LogGuard(#[allow(dead_code)] Vec<WorkerGuard>);

/// `error_tracking`: also send `error` events to Sentry (`error_tracking.rs`).
pub fn init(filter: &str, json: bool, dir: Option<&Path>, keep: u32, error_tracking: bool) -> Result<LogGuard, String> {
    let filter = EnvFilter::try_new(filter).map_err(|e| format!("invalid ROSTER_LOG filter {filter:?}: {e}"))?;
    let (file_writer, guard) = match dir {
        None => (None, None),
        Some(dir) => {
            // Only the service's own user may read or change its logs (they name
            // people and addresses): the directory is private, whoever created it.
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot write logs to {}: {e}", dir.display()))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                    .map_err(|e| format!("cannot make {} private: {e}", dir.display()))?;
            }
            let appender = RollingFileAppender::builder()
                .rotation(Rotation::DAILY)
                .filename_prefix("roster")
                .filename_suffix("log")
                .max_log_files(keep as usize)
                .build(dir)
                .map_err(|e| format!("cannot write logs to {}: {e}", dir.display()))?;
            let (writer, guard) = tracing_appender::non_blocking(appender);
            (Some(writer), Some(guard))
        }
    };
    // Lines are written by a thread of their own, so no request waits on stdout; it
    // blocks rather than drops when that thread falls behind.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let (stdout_writer, stdout_guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stdout());
    let stdout = if json {
        fmt::layer()
            .json()
            .flatten_event(true)
            .with_writer(stdout_writer)
            .boxed()
    } else {
        // Colour codes only for a person at a terminal, not for files or pipes.
        fmt::layer().with_ansi(colour).with_writer(stdout_writer).boxed()
    };
    let file = file_writer.map(|writer| {
        // Files are for machines: always JSON, never colour codes.
        fmt::layer().json().flatten_event(true).with_writer(writer).boxed()
    });
    // A second init (tests start many servers in one process) is harmless.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(stdout)
        .with(file)
        .with(error_tracking.then(crate::error_tracking::tracing_layer))
        .try_init();
    Ok(LogGuard(guard.into_iter().chain([stdout_guard]).collect()))
}
