//! HTTP integration tests: the real server on port 0 with a fresh database, each
//! scenario run once on SQLite and once on PostgreSQL.

mod helpers;

mod audit;
mod auth;
mod breached;
mod cache;
mod dashboard;
mod email_links;
mod impersonation;
mod import;
mod mail;
mod new_devices;
mod openapi;
mod operations;
mod pages;
mod passkeys;
mod recovery;
mod registration;
mod replica;
mod role_grants;
mod schema;
mod second_factors;
mod security;
mod session_stores;
mod sign_in_codes;
mod users;
