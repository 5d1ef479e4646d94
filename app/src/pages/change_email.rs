//! /email/change and /email/revert: the two links of a change of address. The first
//! (mailed to the new address) makes it the account's; the second (mailed to the old
//! one once the change is made) puts the old address back and signs the account out
//! everywhere. Each lands here without its secret (`link_landing`) and acts on a
//! button press; `?done=1` says it is done.

use crate::components::form::{FormAlert, SubmitButton, action_error};
use crate::paths;
use crate::server_fns::links::{ConfirmEmailChange, RevertEmailChange};
use crate::signed_in::SignedIn;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

fn done() -> Memo<bool> {
    let query = use_query_map();
    Memo::new(move |_| query.with(|q| q.get("done").is_some()))
}

#[component]
pub fn ChangeEmailPage() -> impl IntoView {
    let done = done();
    let signed_in = SignedIn::expect();
    let action = ServerAction::<ConfirmEmailChange>::new();
    let server_error = action_error(action);
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            signed_in.refresh();
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(ConfirmEmailChange {});
    };
    view! {
        <Title text="Confirm your new address" />
        <Meta name="description" content="Confirm the new address of your Roster account." />
        <section class="card auth-card" aria-labelledby="change-title">
            <h1 id="change-title">"Confirm your new address"</h1>
            <Show
                when=move || done.get()
                fallback=move || view! {
                    <p>"Use this address for your account from now on? Your old address will be told, and can undo it."</p>
                    <FormAlert error=server_error />
                    <form method="post" action=ConfirmEmailChange::PATH on:submit=on_submit>
                        <SubmitButton pending=action.pending() label="Use this address" pending_label="Changing…" />
                    </form>
                }
            >
                <p role="status" data-testid="change-done">"Done: this is your account's address now."</p>
                <p class="form-footer"><a href=paths::ACCOUNT>"Go to your account"</a></p>
            </Show>
        </section>
    }
}

#[component]
pub fn RevertEmailPage() -> impl IntoView {
    let done = done();
    let signed_in = SignedIn::expect();
    let action = ServerAction::<RevertEmailChange>::new();
    let server_error = action_error(action);
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            signed_in.refresh();
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(RevertEmailChange {});
    };
    view! {
        <Title text="Undo a change of address" />
        <Meta name="description" content="Put your old address back on your Roster account." />
        <section class="card auth-card" aria-labelledby="revert-title">
            <h1 id="revert-title">"Undo the change of address"</h1>
            <Show
                when=move || done.get()
                fallback=move || view! {
                    <p>"This puts your old address back on the account and signs it out on every device."</p>
                    <FormAlert error=server_error />
                    <form method="post" action=RevertEmailChange::PATH on:submit=on_submit>
                        <SubmitButton pending=action.pending() label="Undo the change" pending_label="Undoing…" />
                    </form>
                }
            >
                <p role="status" data-testid="revert-done">
                    "Your old address is back, and the account is signed out everywhere. "
                    "If you did not make the change, choose a new password now: someone else may know it."
                </p>
                <p class="form-footer"><a href=paths::FORGOT_PASSWORD>"Choose a new password"</a></p>
            </Show>
        </section>
    }
}
