//! Keyset paging controls: where a paged list is, and "Previous" / "Next".

use leptos::prelude::*;

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
