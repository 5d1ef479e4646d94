//! The `roster` binary as a library, so integration tests drive the real server.
// Rendering the pages (from `app`) builds deeply nested view types.
#![recursion_limit = "256"]

pub mod api;
pub mod backup;
pub mod cli;
pub mod compression;
pub mod configuration;
pub mod draining;
pub mod error_tracking;
pub mod forwarded;
pub mod health;
pub mod link_landing;
pub mod page_cache;
pub mod recent_writes;
pub mod request_log;
pub mod security;
pub mod security_txt;
pub mod seed;
pub mod startup;
pub mod static_cache;
pub mod telemetry;
pub mod telemetry_metrics;
