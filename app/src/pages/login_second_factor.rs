//! /login/second-factor: sign-in's second step, for an account with an
//! authenticator app. The first step (password, emailed code or reset link) left a
//! pending cookie; this page takes the app's code or a recovery code. Five wrong
//! codes, or five minutes, and the sign-in starts over.

use crate::components::field::Field;
use crate::components::form::{FormAlert, FormFields, SubmitButton, action_error};
use crate::error::AppError;
use crate::model::SecondFactorMethod;
use crate::paths;
use crate::server_fns::auth::CompleteSignIn;
use crate::server_fns::security::pending_sign_in_methods;
use crate::signed_in::SignedIn;
use crate::validation::{FactorCode, FieldErrors};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::{Meta, Title};

#[component]
pub fn LoginSecondFactorPage() -> impl IntoView {
    let signed_in = SignedIn::expect();
    let action = ServerAction::<CompleteSignIn>::new();
    let fields = FormFields::new(["code"]);
    let server_error = action_error(action);
    let methods = Resource::new(|| (), |_| pending_sign_in_methods());
    // Gone (expired, out of tries): say so, and lead back to the first step.
    let expired = move || matches!(server_error.get(), Some(AppError::Unauthenticated));
    Effect::new(move |_| match action.value().get() {
        Some(Ok(_)) => signed_in.refresh(),
        Some(Err(_)) => fields.focus_first(&FieldErrors::from([("code".to_string(), String::new())])),
        None => {}
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let code = fields.value("code");
        let checked = FactorCode::parse(&code).map_err(|e| FieldErrors::from([("code".to_string(), e)]));
        if fields.check(checked).is_some() {
            action.dispatch(CompleteSignIn { code });
        }
    };
    view! {
        <Title text="Enter your code" />
        <Meta name="description" content="The second step of signing in to Roster: a code from your authenticator app." />
        <section class="card auth-card" aria-labelledby="second-factor-title">
            <h1 id="second-factor-title">"Enter your code"</h1>
            <p>"Open your authenticator app and type the 6-digit code it shows for this account."</p>
            <Show
                when=expired
                fallback=move || view! { <FormAlert error=server_error /> }
            >
                <p class="alert" role="alert" data-testid="second-factor-expired">
                    "This sign-in has timed out or had too many wrong codes. "
                    <a href=paths::LOGIN>"Sign in again"</a>
                </p>
            </Show>
            <form method="post" action=CompleteSignIn::PATH on:submit=on_submit novalidate>
                <Field
                    id="second-factor-code"
                    name="code"
                    label="Code"
                    kind="text"
                    autocomplete="one-time-code"
                    hint="Lost your phone? Type one of your recovery codes instead (six groups of four)."
                    node_ref=fields.input("code")
                    error=fields.error(server_error, "code")
                    autofocus=Signal::derive(|| true)
                    on_edit=fields.clear_on_edit("code")
                />
                <SubmitButton pending=action.pending() label="Sign in" pending_label="Checking…" />
            </form>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let passkey = methods.await.is_ok_and(|m| m.contains(&SecondFactorMethod::Passkey));
                    passkey
                        .then(|| {
                            view! {
                                <div class="passkey-action">
                                    <button type="button" class="button" data-passkey="second-factor">
                                        "Use a passkey instead"
                                    </button>
                                    <p class="alert" role="alert" data-passkey-error hidden></p>
                                </div>
                            }
                        })
                })}
            </Suspense>
            <p class="form-footer">
                <a href=paths::LOGIN>"Start again"</a>
            </p>
        </section>
    }
}
