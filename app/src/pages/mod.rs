mod account;
mod admin_audit;
mod admin_users;
mod home;
mod login;
mod not_found;
mod register;

pub use account::AccountPage;
pub use admin_audit::AdminAuditPage;
pub use admin_users::{AdminUsersPage, ForbiddenPage};
pub use home::HomePage;
pub use login::LoginPage;
pub use not_found::NotFoundPage;
pub use register::RegisterPage;
