mod account;
mod admin;
mod forbidden;
mod home;
mod login;
mod not_found;
mod register;

pub use not_found::NotFoundPage;

use account::AccountPage;
use admin::{AdminAuditPage, AdminUsersPage};
use home::HomePage;
use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};
use login::LoginPage;
use register::RegisterPage;

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

lazy_pages! {
    HomeRoute => HomePage,
    RegisterRoute => RegisterPage,
    LoginRoute => LoginPage,
    AccountRoute => AccountPage,
    AdminUsersRoute => AdminUsersPage,
    AdminAuditRoute => AdminAuditPage,
}
