//! Everything a request handler or server function needs. Holds no per-user state:
//! any number of server processes can share one database. Handlers and extractors
//! clone it on every request, so it is one shared allocation behind an `Arc`.

use crate::ssr::auth::AuthService;
use crate::ssr::cookie::CookieConfig;
use crate::ssr::users::UserService;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

pub struct Services {
    pub db: DatabaseConnection,
    pub auth: AuthService,
    pub users: UserService,
    pub cookies: CookieConfig,
}

#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}
