//! The pages' addresses, named once. The router in `lib.rs` spells them as
//! literals (its `path!` macro needs them), and a server test checks that every
//! path named here is one of its routes.

pub const HOME: &str = "/";
pub const REGISTER: &str = "/register";
pub const LOGIN: &str = "/login";
/// Where signed-in visitors land.
pub const ACCOUNT: &str = "/account";
/// Second factors: the authenticator app and recovery codes.
pub const ACCOUNT_SECURITY: &str = "/account/security";
/// Sign-in's second step (a code from the app, or a recovery code).
pub const LOGIN_SECOND_FACTOR: &str = "/login/second-factor";
/// The list of one's sessions on the account page (linked from the new-device notice).
pub const ACCOUNT_SESSIONS: &str = "/account#sessions";
/// The admin landing page: the dashboard.
pub const ADMIN: &str = "/admin";
pub const ADMIN_USERS: &str = "/admin/users";
pub const ADMIN_AUDIT: &str = "/admin/audit";
/// Creating an account.
pub const ADMIN_USER_NEW: &str = "/admin/users/new";
/// Invitations to register, made and withdrawn.
pub const ADMIN_INVITATIONS: &str = "/admin/invitations";
/// Importing accounts from another system.
pub const ADMIN_IMPORT: &str = "/admin/import";
/// Asking for a password-reset link.
pub const FORGOT_PASSWORD: &str = "/password/forgot";
/// Where a reset link leads (`?token=`, traded at once for a cookie: `ssr::link_landing`).
pub const RESET_PASSWORD: &str = "/password/reset";
/// Where an address-verification link leads (`?token=`, likewise).
pub const VERIFY_EMAIL: &str = "/email/verify";
/// Where the link that confirms a new address leads (`?token=`, likewise).
pub const CHANGE_EMAIL: &str = "/email/change";
/// Signing in with a code mailed to the address.
pub const LOGIN_CODE: &str = "/login/code";
/// Where the old address's link that undoes a change leads (`?token=`, likewise).
pub const REVERT_EMAIL: &str = "/email/revert";

/// One account's page: `/admin/users/{id}`.
pub fn admin_user(id: uuid::Uuid) -> String {
    format!("{ADMIN_USERS}/{id}")
}

pub const ALL: [&str; 18] = [
    HOME,
    REGISTER,
    LOGIN,
    ACCOUNT,
    ADMIN,
    ADMIN_USERS,
    ADMIN_USER_NEW,
    ADMIN_AUDIT,
    ADMIN_INVITATIONS,
    ADMIN_IMPORT,
    FORGOT_PASSWORD,
    RESET_PASSWORD,
    VERIFY_EMAIL,
    CHANGE_EMAIL,
    REVERT_EMAIL,
    LOGIN_CODE,
    ACCOUNT_SECURITY,
    LOGIN_SECOND_FACTOR,
];
