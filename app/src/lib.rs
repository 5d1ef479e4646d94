//! Roster's shared crate: the pages and components (rendered on the server and
//! hydrated in the browser), the validation both sides run, the server functions,
//! and — behind the `ssr` feature — the service layer they call.

// Leptos views are deeply nested types; the admin table exceeds the default limit
// when the release build computes their layouts.
#![recursion_limit = "256"]

pub mod components;
pub mod error;
pub mod model;
pub mod pages;
pub mod paths;
pub mod policy;
pub mod server_fns;
pub mod signed_in;
pub mod stats;
pub mod user_agent;
pub mod validation;

#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, Link, MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{Lazy, SsrMode, path};

use components::header::SiteHeader;
use pages::{
    AccountRoute, AccountSecurityRoute, AdminAuditRoute, AdminDashboardRoute, AdminImportRoute, AdminInvitationsRoute,
    AdminNewUserRoute, AdminUserRoute, AdminUsersRoute, ChangeEmailRoute, ForgotPasswordRoute, HomeRoute,
    LoginCodeRoute, LoginRoute, LoginSecondFactorRoute, NotFoundPage, RegisterRoute, ResetPasswordRoute,
    RevertEmailRoute, VerifyEmailRoute,
};

/// Where the client files come from when not from this server: a CDN's base URL
/// (`ROSTER_ASSET_BASE_URL`), provided by the server to the shell's render.
#[derive(Debug, Clone)]
pub struct AssetBase(pub String);

/// The HTML document around the app, rendered only on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    ssr::csp::CspNonce::provide_for_render();
    // Both components put this before `/pkg/…`; empty means this server.
    let root = use_context::<AssetBase>().map(|base| base.0).unwrap_or_default();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <AutoReload options=options.clone() />
                <HashedStylesheet options=options.clone() id="leptos" root=root.clone() />
                <HydrationScripts options root />
                <PageChunkHints />
                // Passkeys are a JavaScript API: a small module runs their browser side
                // on every page that offers them (sign-in, its second step, security).
                <script type="module" src="/passkeys.js" nonce=leptos::nonce::use_nonce()></script>
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Preloads the WASM chunks of the page being rendered, so that a direct load fetches
/// them beside the main bundle (`ssr::page_chunks`). Only the server renders it.
#[component]
fn PageChunkHints() -> impl IntoView {
    #[cfg(feature = "ssr")]
    let ssr::page_chunks::ChunkHints { wasm, loader } = ssr::page_chunks::hints_for_requested_page();
    #[cfg(not(feature = "ssr"))]
    let (wasm, loader): (Vec<String>, Option<String>) = (Vec::new(), None);
    view! {
        {wasm
            .into_iter()
            .map(|href| {
                view! {
                    <link rel="preload" href=href r#as="fetch" r#type="application/wasm" crossorigin="anonymous" />
                }
            })
            .collect_view()}
        {loader.map(|href| view! { <link rel="modulepreload" href=href crossorigin="anonymous" /> })}
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    signed_in::SignedIn::provide();
    // Effects run only in the browser, after hydration: tests and scripts wait for
    // this marker instead of guessing when the page became interactive.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Link rel="icon" href="/favicon.ico" />
        <Title formatter=|page: String| format!("{page} · Roster") />
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <SiteHeader />
            <components::viewing_as::ViewingAsBanner />
            <main id="main" tabindex="-1">
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view={Lazy::<HomeRoute>::new()} />
                    <Route path=path!("/register") view={Lazy::<RegisterRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/login") view={Lazy::<LoginRoute>::new()} />
                    <Route path=path!("/login/code") view={Lazy::<LoginCodeRoute>::new()} />
                    <Route path=path!("/login/second-factor") view={Lazy::<LoginSecondFactorRoute>::new()} />
                    // Async: the signed-out redirect must be decided before any byte is sent.
                    <Route path=path!("/account") view={Lazy::<AccountRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/account/security") view={Lazy::<AccountSecurityRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin") view={Lazy::<AdminDashboardRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/users") view={Lazy::<AdminUsersRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/users/new") view={Lazy::<AdminNewUserRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/users/:id") view={Lazy::<AdminUserRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/audit") view={Lazy::<AdminAuditRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/invitations") view={Lazy::<AdminInvitationsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/import") view={Lazy::<AdminImportRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/password/forgot") view={Lazy::<ForgotPasswordRoute>::new()} />
                    <Route path=path!("/password/reset") view={Lazy::<ResetPasswordRoute>::new()} />
                    <Route path=path!("/email/verify") view={Lazy::<VerifyEmailRoute>::new()} />
                    <Route path=path!("/email/change") view={Lazy::<ChangeEmailRoute>::new()} />
                    <Route path=path!("/email/revert") view={Lazy::<RevertEmailRoute>::new()} />
                </Routes>
            </main>
        </Router>
    }
}
