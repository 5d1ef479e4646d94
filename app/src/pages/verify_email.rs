//! /email/verify: proving an address. A link from the mail lands here (its secret
//! moved to a cookie by `link_landing`) and a button confirms it: a link that did
//! the work on a plain GET would be used up by the mail scanners that open links
//! before people do. The same page says "check your inbox" (`?sent=1`) and "done"
//! (`?confirmed=1`).

use crate::components::confirm_link::ConfirmLinkForm;
use crate::paths;
use crate::server_fns::links::VerifyEmail;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// A link was just sent.
    Sent,
    Confirmed,
    /// A link was followed: confirm it.
    Confirm,
}

#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let query = use_query_map();
    let stage = Memo::new(move |_| {
        query.with(|q| {
            if q.get("confirmed").is_some() {
                Stage::Confirmed
            } else if q.get("sent").is_some() {
                Stage::Sent
            } else {
                Stage::Confirm
            }
        })
    });
    view! {
        <Title text="Confirm your address" />
        <Meta name="description" content="Confirm the address of your Roster account." />
        <section class="card auth-card" aria-labelledby="verify-title">
            <h1 id="verify-title">"Confirm your address"</h1>
            {move || match stage.get() {
                Stage::Sent => view! {
                    <p role="status" data-testid="verify-sent">
                        "We mailed a link to your address. Follow it to confirm that the address is yours. "
                        "Nothing there? Check the spam folder."
                    </p>
                    <p class="form-footer"><a href=paths::ACCOUNT>"Go to your account"</a></p>
                }
                .into_any(),
                Stage::Confirmed => view! {
                    <p role="status" data-testid="verify-confirmed">"Thank you: your address is confirmed."</p>
                    <p class="form-footer"><a href=paths::ACCOUNT>"Go to your account"</a></p>
                }
                .into_any(),
                Stage::Confirm => view! {
                    <ConfirmLinkForm
                        call=VerifyEmail {}
                        intro="You followed the link we mailed to your address. Confirm that it is yours:"
                        label="Confirm my address"
                        pending_label="Confirming…"
                    />
                }
                .into_any(),
            }}
        </section>
    }
}
