//! sea-orm entities, one module per table, with the model logic beside each.

pub mod audit_events;
pub mod breached_passwords;
pub mod email_tokens;
pub mod known_devices;
pub mod login_throttles;
pub mod mail_outbox;
pub mod sessions;
pub mod users;
