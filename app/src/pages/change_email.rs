//! /email/change and /email/revert: the two links of a change of address. The first
//! (mailed to the new address) makes it the account's; the second (mailed to the old
//! one once the change is made) puts the old address back and signs the account out
//! everywhere. Each lands here without its secret (`link_landing`) and acts on a
//! button press; `?done=1` says it is done.

use crate::components::confirm_link::ConfirmLinkForm;
use crate::paths;
use crate::server_fns::links::{ConfirmEmailChange, RevertEmailChange};
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

fn done() -> Memo<bool> {
    let query = use_query_map();
    Memo::new(move |_| query.with(|q| q.get("done").is_some()))
}

#[component]
pub fn ChangeEmailPage() -> impl IntoView {
    let done = done();
    view! {
        <Title text="Confirm your new address" />
        <Meta name="description" content="Confirm the new address of your Roster account." />
        <section class="card auth-card" aria-labelledby="change-title">
            <h1 id="change-title">"Confirm your new address"</h1>
            <Show
                when=move || done.get()
                fallback=|| view! {
                    <ConfirmLinkForm
                        call=ConfirmEmailChange {}
                        intro="Use this address for your account from now on? Your old address will be told, and can undo it."
                        label="Use this address"
                        pending_label="Changing…"
                    />
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
    view! {
        <Title text="Undo a change of address" />
        <Meta name="description" content="Put your old address back on your Roster account." />
        <section class="card auth-card" aria-labelledby="revert-title">
            <h1 id="revert-title">"Undo the change of address"</h1>
            <Show
                when=move || done.get()
                fallback=|| view! {
                    <ConfirmLinkForm
                        call=RevertEmailChange {}
                        intro="This puts your old address back on the account and signs it out on every device."
                        label="Undo the change"
                        pending_label="Undoing…"
                    />
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
