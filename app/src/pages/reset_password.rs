//! /password/reset: choosing a new password with the link from the mail. The link's
//! secret is not in this page: it waits in an HttpOnly cookie (`link_landing`) and
//! goes with the form.

use crate::components::field::Field;
use crate::components::form::{FormAlert, FormFields, SubmitButton, action_error};
use crate::components::strength::StrengthHint;
use crate::paths;
use crate::server_fns::links::ResetPassword;
use crate::signed_in::SignedIn;
use crate::validation::{NEW_PASSWORD_HINT, ResetPasswordInput};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::{Meta, Title};

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let signed_in = SignedIn::expect();
    let action = ServerAction::<ResetPassword>::new();
    let fields = FormFields::new(["password"]);
    let typed_password = RwSignal::new(String::new());
    let server_error = action_error(action);
    Effect::new(move |_| match action.value().get() {
        Some(Ok(_)) => signed_in.refresh(),
        Some(Err(_)) => {
            if let Some(errors) = server_error.get_untracked().and_then(|e| e.fields().cloned()) {
                fields.focus_first(&errors);
            }
        }
        None => {}
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = ResetPasswordInput {
            token: String::new(),
            password: fields.value("password"),
        };
        if fields.check(input.validate()).is_some() {
            action.dispatch(ResetPassword {
                password: input.password,
            });
        }
    };
    let clear_password = fields.clear_on_edit("password");
    view! {
        <Title text="Choose a new password" />
        <Meta name="description" content="Choose a new password for your Roster account." />
        <section class="card auth-card" aria-labelledby="reset-title">
            <h1 id="reset-title">"Choose a new password"</h1>
            <p>"Setting it signs you out on every other device."</p>
            <FormAlert error=server_error />
            <form method="post" action=ResetPassword::PATH on:submit=on_submit novalidate>
                <Field
                    id="reset-password"
                    name="password"
                    label="New password"
                    kind="password"
                    autocomplete="new-password"
                    node_ref=fields.input("password")
                    hint=NEW_PASSWORD_HINT
                    error=fields.error(server_error, "password")
                    autofocus=fields.autofocus(server_error, "password")
                    on_edit=Callback::new(move |_| {
                        typed_password.set(fields.value("password"));
                        clear_password.run(());
                    })
                />
                <StrengthHint password=typed_password id="reset-password-strength" />
                <SubmitButton pending=action.pending() label="Set the new password" pending_label="Setting…" />
            </form>
            <p class="form-footer">"Link not working? " <a href=paths::FORGOT_PASSWORD>"Ask for a new one"</a></p>
        </section>
    }
}
