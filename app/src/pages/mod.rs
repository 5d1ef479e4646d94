mod account;
mod account_activity;
mod account_security;
mod admin;
mod change_email;
mod forbidden;
mod forgot_password;
mod home;
mod login;
mod login_code;
mod login_second_factor;
mod not_found;
mod register;
mod reset_password;
mod verify_email;

pub use not_found::NotFoundPage;

use crate::paths;
use account::AccountPage;
use account_security::AccountSecurityPage;
use admin::{
    AdminAuditPage, AdminDashboardPage, AdminImportPage, AdminInvitationsPage, AdminNewUserPage, AdminUserPage,
    AdminUsersPage,
};
use change_email::{ChangeEmailPage, RevertEmailPage};
use forgot_password::ForgotPasswordPage;
use home::HomePage;
use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};
use login::LoginPage;
use login_code::LoginCodePage;
use login_second_factor::LoginSecondFactorPage;
use register::RegisterPage;
use reset_password::ResetPasswordPage;
use verify_email::VerifyEmailPage;

/// Declares each page as a lazily loaded route: built with `cargo leptos build
/// --split`, a page's code is a WASM chunk of its own, fetched the first time the
/// page is shown, and preloaded by the server when it renders that page. The shell
/// (`App`, the header, who is signed in, the 404 page) stays in the main bundle.
macro_rules! lazy_pages {
    ($($route:ident => $page:ident),* $(,)?) => {$(
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page /> }.into_any()
            }
        }
    )*};
}

/// Where each lazily loaded page is served, and the start of the name its chunk has
/// in cargo-leptos' split manifest (`__<route, snake case>_view_<hash>`): the server
/// announces the chunk of the page it renders (`ssr::page_chunks`). A page added to
/// `lazy_pages!` gets its line here (a server test checks that every route has one).
/// A page with a parameter is named as its route is (`{id}` matches any segment).
pub const PAGE_CHUNKS: [(&str, &str); 19] = [
    (paths::HOME, "__home_route_view_"),
    (paths::REGISTER, "__register_route_view_"),
    (paths::LOGIN, "__login_route_view_"),
    (paths::ACCOUNT, "__account_route_view_"),
    (paths::ADMIN, "__admin_dashboard_route_view_"),
    (paths::ADMIN_USERS, "__admin_users_route_view_"),
    (paths::ADMIN_USER_NEW, "__admin_new_user_route_view_"),
    ("/admin/users/{id}", "__admin_user_route_view_"),
    (paths::ADMIN_AUDIT, "__admin_audit_route_view_"),
    (paths::ADMIN_INVITATIONS, "__admin_invitations_route_view_"),
    (paths::ADMIN_IMPORT, "__admin_import_route_view_"),
    (paths::FORGOT_PASSWORD, "__forgot_password_route_view_"),
    (paths::RESET_PASSWORD, "__reset_password_route_view_"),
    (paths::VERIFY_EMAIL, "__verify_email_route_view_"),
    (paths::CHANGE_EMAIL, "__change_email_route_view_"),
    (paths::REVERT_EMAIL, "__revert_email_route_view_"),
    (paths::LOGIN_CODE, "__login_code_route_view_"),
    (paths::ACCOUNT_SECURITY, "__account_security_route_view_"),
    (paths::LOGIN_SECOND_FACTOR, "__login_second_factor_route_view_"),
];

lazy_pages! {
    HomeRoute => HomePage,
    RegisterRoute => RegisterPage,
    LoginRoute => LoginPage,
    AccountRoute => AccountPage,
    AdminDashboardRoute => AdminDashboardPage,
    AdminUsersRoute => AdminUsersPage,
    AdminNewUserRoute => AdminNewUserPage,
    AdminUserRoute => AdminUserPage,
    AdminAuditRoute => AdminAuditPage,
    AdminInvitationsRoute => AdminInvitationsPage,
    AdminImportRoute => AdminImportPage,
    ForgotPasswordRoute => ForgotPasswordPage,
    ResetPasswordRoute => ResetPasswordPage,
    VerifyEmailRoute => VerifyEmailPage,
    ChangeEmailRoute => ChangeEmailPage,
    RevertEmailRoute => RevertEmailPage,
    LoginCodeRoute => LoginCodePage,
    AccountSecurityRoute => AccountSecurityPage,
    LoginSecondFactorRoute => LoginSecondFactorPage,
}
