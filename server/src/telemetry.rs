//! Logging: human-readable in development, one JSON object per line in production,
//! to stdout and optionally to daily-rotated files with a retention count.

use std::path::Path;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

/// Keeps the file writer flushing; hold it until the process ends.
pub struct LogGuard(#[allow(dead_code)] Option<WorkerGuard>);

pub fn init(filter: &str, json: bool, dir: Option<&Path>, keep: u32) -> Result<LogGuard, String> {
    let filter = EnvFilter::try_new(filter).map_err(|e| format!("invalid ROSTER_LOG filter {filter:?}: {e}"))?;
    let (file_writer, guard) = match dir {
        None => (None, None),
        Some(dir) => {
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
    let stdout = if json {
        fmt::layer().json().flatten_event(true).boxed()
    } else {
        // Colour codes only for a person at a terminal, not for files or pipes.
        fmt::layer()
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .boxed()
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
        .try_init();
    Ok(LogGuard(guard))
}
