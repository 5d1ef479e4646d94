//! Everything a request handler or server function needs, cheap to clone. Holds no
//! per-user state: any number of server processes can share one database.

use crate::ssr::auth::AuthService;
use crate::ssr::cookie::CookieConfig;
use crate::ssr::users::UserService;
use sea_orm::DatabaseConnection;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub auth: AuthService,
    pub users: UserService,
    pub cookies: CookieConfig,
}
