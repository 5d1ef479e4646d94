//! /password/forgot: asking for a link that resets a forgotten password. The page
//! says the same thing whatever address is typed.

use crate::components::field::Field;
use crate::components::form::{FormAlert, FormFields, SubmitButton, action_error};
use crate::paths;
use crate::server_fns::links::ForgotPassword;
use crate::validation::ForgotPasswordInput;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
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
    let action = ServerAction::<ForgotPassword>::new();
    let fields = FormFields::new(["email"]);
    let server_error = action_error(action);
    Effect::new(move |_| {
        if let Some(errors) = server_error.get().and_then(|e| e.fields().cloned()) {
            fields.focus_first(&errors);
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = ForgotPasswordInput {
            email: fields.value("email"),
        };
        if fields.check(input.validate()).is_some() {
            action.dispatch(ForgotPassword { email: input.email });
        }
    };
    view! {
        <p>"Type the address of your account and we will mail it a link to choose a new password."</p>
        <FormAlert error=server_error />
        <form method="post" action=ForgotPassword::PATH on:submit=on_submit novalidate>
            <Field
                id="forgot-email"
                name="email"
                label="Email"
                kind="email"
                autocomplete="username"
                node_ref=fields.input("email")
                error=fields.error(server_error, "email")
                autofocus=fields.autofocus(server_error, "email")
                on_edit=fields.clear_on_edit("email")
            />
            <SubmitButton pending=action.pending() label="Send me a link" pending_label="Sending…" />
        </form>
        <p class="form-footer">"Remembered it? " <a href=paths::LOGIN>"Sign in"</a></p>
    }
}
