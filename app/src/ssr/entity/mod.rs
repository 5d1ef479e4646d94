//! sea-orm entities, one module per table, with the model logic beside each.

pub mod audit_events;
pub mod breached_passwords;
pub mod email_tokens;
pub mod invitations;
pub mod known_devices;
pub mod login_throttles;
pub mod mail_outbox;
pub mod passkeys;
pub mod pending_sign_ins;
pub mod recovery_codes;
pub mod session_proofs;
pub mod sessions;
pub mod totp_factors;
pub mod users;
pub mod webauthn_ceremonies;
