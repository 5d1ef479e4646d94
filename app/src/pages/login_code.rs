//! /login/code: signing in with a code mailed to the address, in two steps: the
//! address, then the 8 digits. The page says the same thing whatever address is
//! typed; between the steps the address waits in an HttpOnly cookie, not the URL.

use crate::components::field::Field;
use crate::components::form::{FormAlert, FormFields, SubmitButton, action_error};
use crate::components::mail_request::MailRequestForm;
use crate::paths;
use crate::server_fns::auth::{RequestSignInCode, SignInWithCode};
use crate::signed_in::SignedIn;
use crate::validation::{FieldErrors, SignInCode};
use leptos::html;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginCodePage() -> impl IntoView {
    let query = use_query_map();
    // The first step's server function sends both a hydrated call and a plain form
    // post here.
    let sent = Memo::new(move |_| query.with(|q| q.get("sent").is_some()));
    view! {
        <Title text="Sign in with a code" />
        <Meta name="description" content="Sign in to Roster with a one-time code sent to your email address." />
        <section class="card auth-card" aria-labelledby="code-title">
            <h1 id="code-title">"Sign in with a code"</h1>
            <Show when=move || sent.get() fallback=AskForCode>
                <EnterCode />
            </Show>
        </section>
    }
}

#[component]
fn AskForCode() -> impl IntoView {
    view! {
        <MailRequestForm
            call=|email| RequestSignInCode { email }
            id="code-email"
            intro="Type the address of your account and we will mail it a code to sign in with, instead of your password."
            label="Mail me a code"
            pending_label="Sending…"
        />
        <p class="form-footer">
            <a href=paths::LOGIN>"Sign in with your password"</a>
        </p>
    }
}

#[component]
fn EnterCode() -> impl IntoView {
    let signed_in = SignedIn::expect();
    let action = ServerAction::<SignInWithCode>::new();
    let fields = FormFields::new(["code"]);
    let remember = NodeRef::<html::Input>::new();
    let server_error = action_error(action);
    Effect::new(move |_| match action.value().get() {
        Some(Ok(_)) => signed_in.refresh(),
        Some(Err(err)) => match err.fields() {
            Some(errors) => fields.focus_first(errors),
            // A wrong or expired code: back to the code field.
            None => fields.focus_first(&FieldErrors::from([("code".to_string(), String::new())])),
        },
        None => {}
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let code = fields.value("code");
        let checked = SignInCode::parse(&code).map_err(|e| FieldErrors::from([("code".to_string(), e)]));
        if fields.check(checked).is_some() {
            action.dispatch(SignInWithCode {
                code,
                remember: remember
                    .get_untracked()
                    .is_some_and(|input| input.checked())
                    .then_some(true),
            });
        }
    };
    view! {
        <p role="status" data-testid="code-sent">
            "If an account uses that address, a code is on its way to it. It works once, for 10 minutes. "
            "Nothing there? Check the spam folder, or ask again."
        </p>
        <FormAlert error=server_error />
        <form method="post" action=SignInWithCode::PATH on:submit=on_submit novalidate>
            <Field
                id="code-code"
                name="code"
                label="Code from the mail"
                kind="text"
                inputmode="numeric"
                autocomplete="one-time-code"
                node_ref=fields.input("code")
                error=fields.error(server_error, "code")
                autofocus=fields.autofocus(server_error, "code")
                on_edit=fields.clear_on_edit("code")
            />
            <div class="field-check">
                <input id="code-remember" type="checkbox" name="remember" value="true" node_ref=remember />
                <label for="code-remember">"Keep me signed in on this device"</label>
            </div>
            <SubmitButton pending=action.pending() label="Sign in" pending_label="Signing in…" />
        </form>
        <p class="form-footer">
            <a href=paths::LOGIN_CODE>"Use another address, or get a new code"</a>
        </p>
    }
}
