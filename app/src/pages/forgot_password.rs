//! /password/forgot: asking for a link that resets a forgotten password. The page
//! says the same thing whatever address is typed.

use crate::components::mail_request::MailRequestForm;
use crate::paths;
use crate::server_fns::links::ForgotPassword;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let query = use_query_map();
    // The server function sends both a hydrated call and a plain form post here.
    let sent = Memo::new(move |_| query.with(|q| q.get("sent").is_some()));
    view! {
        <Title text="Reset your password" />
        <Meta name="description" content="Forgot your Roster password? Ask for a link to choose a new one." />
        <section class="card auth-card" aria-labelledby="forgot-title">
            <h1 id="forgot-title">"Reset your password"</h1>
            <Show when=move || sent.get() fallback=ForgotPasswordForm>
                <p role="status" data-testid="forgot-sent">
                    "If an account uses that address, a link to choose a new password is on its way to it. "
                    "The link works once, for a limited time. Nothing there? Check the spam folder, or ask again."
                </p>
                <p class="form-footer">
                    <a href=paths::LOGIN>"Back to sign in"</a>
                </p>
            </Show>
        </section>
    }
}

#[component]
fn ForgotPasswordForm() -> impl IntoView {
    view! {
        <MailRequestForm
            call=|email| ForgotPassword { email }
            id="forgot-email"
            intro="Type the address of your account and we will mail it a link to choose a new password."
            label="Send me a link"
            pending_label="Sending…"
        />
        <p class="form-footer">"Remembered it? " <a href=paths::LOGIN>"Sign in"</a></p>
    }
}
