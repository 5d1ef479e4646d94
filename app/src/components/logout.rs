use crate::server_fns::auth::Logout;
use crate::signed_in::SignedIn;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// A real form, so signing out works before the WASM loads too.
#[component]
pub fn LogoutButton() -> impl IntoView {
    let signed_in = SignedIn::expect();
    let action = ServerAction::<Logout>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            signed_in.refresh();
        }
    });
    view! {
        <form
            method="post"
            action=Logout::PATH
            class="inline-form"
            on:submit=move |ev| {
                ev.prevent_default();
                action.dispatch(Logout {});
            }
        >
            <button type="submit" class="button-link" disabled=move || action.pending().get()>
                {move || if action.pending().get() { "Signing out…" } else { "Sign out" }}
            </button>
        </form>
    }
}
