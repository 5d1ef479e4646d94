//! What the admin pages share: the admin-only gate and keyset paging controls.

use crate::model::{Role, User};
use crate::pages::ForbiddenPage;
use crate::session::Session;
use leptos::prelude::*;
use leptos_router::components::Redirect;

/// Renders `content` for administrators only: signed-out visitors are sent to the
/// login page, everyone else gets the 403 page. (The server refuses the data anyway.)
#[component]
pub fn AdminOnly<F, V>(content: F) -> impl IntoView
where
    F: Fn(User) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let session = Session::expect();
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let content = content.clone();
                Suspend::new(async move {
                    match session.user.await {
                        Ok(Some(user)) if user.role == Role::Admin => content(user).into_any(),
                        Ok(Some(_)) => view! { <ForbiddenPage /> }.into_any(),
                        Ok(None) => view! { <Redirect path="/login" /> }.into_any(),
                        Err(err) => view! { <p class="alert" role="alert">{err.to_string()}</p> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// Where a keyset-paged list is: the current cursor and the ones before it.
#[derive(Clone, Copy)]
pub struct Paging {
    pub cursor: RwSignal<Option<String>>,
    history: RwSignal<Vec<Option<String>>>,
}

impl Paging {
    pub fn new() -> Self {
        Self {
            cursor: RwSignal::new(None),
            history: RwSignal::new(Vec::new()),
        }
    }

    /// Back to the first page (filters changed).
    pub fn reset(&self) {
        self.cursor.set(None);
        self.history.set(Vec::new());
    }
}

impl Default for Paging {
    fn default() -> Self {
        Self::new()
    }
}

/// "Previous" and "Next" for a page whose `next_cursor` is `next`.
#[component]
pub fn Pager(paging: Paging, next: Option<String>) -> impl IntoView {
    let Paging { cursor, history } = paging;
    view! {
        <nav class="pager" aria-label="Pages">
            <button
                type="button"
                class="button"
                disabled=move || history.with(Vec::is_empty)
                on:click=move |_| cursor.set(history.try_update(|h| h.pop()).flatten().flatten())
            >
                "Previous"
            </button>
            <button
                type="button"
                class="button"
                disabled=next.is_none()
                on:click=move |_| {
                    history.update(|h| h.push(cursor.get_untracked()));
                    cursor.set(next.clone());
                }
            >
                "Next"
            </button>
        </nav>
    }
}
