//! The admin pages and their gate.

mod audit;
mod users;

pub use audit::AdminAuditPage;
pub use users::AdminUsersPage;

use crate::components::form::LoadError;
use crate::model::{Role, User};
use crate::pages::forbidden::ForbiddenPage;
use crate::paths;
use crate::signed_in::SignedIn;
use leptos::prelude::*;
use leptos_router::components::Redirect;

/// Renders `content` for administrators only: signed-out visitors are sent to the
/// login page, everyone else gets the 403 page. (The server refuses the data anyway.)
#[component]
fn AdminOnly<F, V>(content: F) -> impl IntoView
where
    F: Fn(User) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let signed_in = SignedIn::expect();
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let content = content.clone();
                Suspend::new(async move {
                    match signed_in.user.await {
                        Ok(Some(user)) if user.role == Role::Admin => content(user).into_any(),
                        Ok(Some(_)) => view! { <ForbiddenPage /> }.into_any(),
                        Ok(None) => view! { <Redirect path=paths::LOGIN /> }.into_any(),
                        Err(error) => view! { <LoadError error /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}
