//! The form of a page a mailed link leads to: a sentence and one button. The link's
//! secret waits in a cookie (`link_landing`), so the server function takes no
//! argument and the page holds no secret; the button press is the act, because mail
//! scanners open links before people do, but press no buttons. Works as a plain form
//! without WASM; hydrated, the signed-in user is fetched again once it is done.

use crate::components::form::{FormAlert, SubmitButton, action_error};
use crate::error::AppError;
use crate::model::User;
use crate::signed_in::SignedIn;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

#[component]
pub fn ConfirmLinkForm<S>(
    /// The server function the button calls.
    call: S,
    /// What pressing the button will do.
    intro: &'static str,
    label: &'static str,
    pending_label: &'static str,
) -> impl IntoView
where
    S: ServerFn<Output = User, Error = AppError> + Clone + Send + Sync + 'static,
{
    let signed_in = SignedIn::expect();
    let action = ServerAction::<S>::new();
    let server_error = action_error(action);
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            signed_in.refresh();
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(call.clone());
    };
    view! {
        <p>{intro}</p>
        <FormAlert error=server_error />
        <form method="post" action=S::PATH on:submit=on_submit>
            <SubmitButton pending=action.pending() label pending_label />
        </form>
    }
}
