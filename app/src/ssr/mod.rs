//! Server-only code: the service layer, persistence and HTTP glue. Compiled only
//! with the `ssr` feature, never into the browser bundle.

pub mod audit;
pub mod auth;
pub mod breached;
pub mod caller;
pub mod cookie;
pub mod csp;
pub mod db;
pub mod devices;
pub mod email_change;
pub mod email_tokens;
pub mod entity;
pub mod hash_pool;
pub mod http;
pub mod invalidations;
pub mod invitations;
pub mod keyset;
pub mod legacy_hash;
pub mod mail;
pub mod page_chunks;
pub mod password;
pub mod password_policy;
pub mod password_reset;
pub mod principal_cache;
pub mod reauth;
pub mod replica;
pub mod role_grants;
pub mod rpc;
pub mod second_factor;
pub mod secret_box;
pub mod sessions;
pub mod sign_in_code;
pub mod state;
pub mod throttle;
pub mod users;
pub mod verification;
