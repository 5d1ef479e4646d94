mod account;
mod admin_users;
mod home;
mod login;
mod not_found;
mod register;

pub use account::AccountPage;
pub use admin_users::AdminUsersPage;
pub use home::HomePage;
pub use login::LoginPage;
pub use not_found::NotFoundPage;
pub use register::RegisterPage;
