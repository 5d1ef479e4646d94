//! The form that asks for something by mail (a reset link, a sign-in code): one
//! address, checked in the browser by the shared validation, sent to a server
//! function that answers the same whatever the address and sends the page to its
//! "on its way" state. Works as a plain form without WASM.

use crate::components::field::Field;
use crate::components::form::{FormAlert, FormFields, SubmitButton, action_error};
use crate::error::AppError;
use crate::validation::EmailInput;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

#[component]
pub fn MailRequestForm<S>(
    /// The server function's call for a typed address.
    call: fn(String) -> S,
    /// The email field's element id.
    id: &'static str,
    /// What will be mailed.
    intro: &'static str,
    label: &'static str,
    pending_label: &'static str,
) -> impl IntoView
where
    S: ServerFn<Output = (), Error = AppError> + Clone + Send + Sync + 'static,
{
    let action = ServerAction::<S>::new();
    let fields = FormFields::new(["email"]);
    let server_error = action_error(action);
    Effect::new(move |_| {
        if let Some(errors) = server_error.get().and_then(|e| e.fields().cloned()) {
            fields.focus_first(&errors);
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = EmailInput {
            email: fields.value("email"),
        };
        if fields.check(input.validate()).is_some() {
            action.dispatch(call(input.email));
        }
    };
    view! {
        <p>{intro}</p>
        <FormAlert error=server_error />
        <form method="post" action=S::PATH on:submit=on_submit novalidate>
            <Field
                id
                name="email"
                label="Email"
                kind="email"
                autocomplete="username"
                node_ref=fields.input("email")
                error=fields.error(server_error, "email")
                autofocus=fields.autofocus(server_error, "email")
                on_edit=fields.clear_on_edit("email")
            />
            <SubmitButton pending=action.pending() label pending_label />
        </form>
    }
}
