//! Roster's schema as ordered migrations. Each migration is written once and never
//! edited after it ships; changes come as new migrations.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_create_users;
mod m20261125_000002_create_sessions;
mod m20261125_000003_roles_and_session_ids;
mod m20261125_000004_login_throttles;
mod m20261125_000005_audit_events;
mod m20261125_000006_user_search;
mod m20261130_000007_breached_passwords;
mod m20261130_000008_mail_outbox;
mod m20261130_000009_email_tokens;
mod m20261130_000010_known_devices;
mod m20261130_000011_second_factors;
mod m20261130_000012_passkeys;
mod m20261130_000013_admin_controls;
mod m20261201_000014_impersonation;
mod m20261201_000015_dashboard_counters;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_users::Migration),
            Box::new(m20261125_000002_create_sessions::Migration),
            Box::new(m20261125_000003_roles_and_session_ids::Migration),
            Box::new(m20261125_000004_login_throttles::Migration),
            Box::new(m20261125_000005_audit_events::Migration),
            Box::new(m20261125_000006_user_search::Migration),
            Box::new(m20261130_000007_breached_passwords::Migration),
            Box::new(m20261130_000008_mail_outbox::Migration),
            Box::new(m20261130_000009_email_tokens::Migration),
            Box::new(m20261130_000010_known_devices::Migration),
            Box::new(m20261130_000011_second_factors::Migration),
            Box::new(m20261130_000012_passkeys::Migration),
            Box::new(m20261130_000013_admin_controls::Migration),
            Box::new(m20261201_000014_impersonation::Migration),
            Box::new(m20261201_000015_dashboard_counters::Migration),
        ]
    }
}
