//! Server functions for the pages, grouped like the REST modules and the services
//! they call. Each is a thin adapter over the service layer, run through
//! `ssr::rpc::serve`. Called from a hydrated page they behave like RPCs; posted by
//! a plain HTML form (no WASM yet) they answer with redirects, and errors travel
//! back to the form in the URL.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod impersonation;
pub mod links;
pub mod security;
pub mod sessions;
pub mod stats;
pub mod users;
