//! Logging: human-readable in development, one JSON object per line in production.

use tracing_subscriber::EnvFilter;

pub fn init(filter: &str, json: bool) -> Result<(), String> {
    let filter = EnvFilter::try_new(filter).map_err(|e| format!("invalid ROSTER_LOG filter {filter:?}: {e}"))?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(true);
    let result = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
    // A second init (tests start many servers in one process) is harmless.
    let _ = result;
    Ok(())
}
