use crate::components::field::Field;
use crate::components::form::{FormAlert, FormFields, SubmitButton, action_error};
use crate::paths;
use crate::server_fns::auth::Login;
use crate::signed_in::SignedIn;
use crate::validation::{FieldErrors, LoginInput};
use leptos::html;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::{Meta, Title};

#[component]
pub fn LoginPage() -> impl IntoView {
    let signed_in = SignedIn::expect();
    let action = ServerAction::<Login>::new();
    let fields = FormFields::new(["email", "password"]);
    let remember = NodeRef::<html::Input>::new();
    let server_error = action_error(action);

    Effect::new(move |_| match action.value().get() {
        Some(Ok(_)) => signed_in.refresh(),
        Some(Err(err)) => match err.fields() {
            Some(errors) => fields.focus_first(errors),
            // Wrong credentials: start over at the email field.
            None => fields.focus_first(&FieldErrors::from([("email".to_string(), String::new())])),
        },
        None => {}
    });

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = LoginInput {
            email: fields.value("email"),
            password: fields.value("password"),
            remember: remember.get_untracked().is_some_and(|input| input.checked()),
        };
        if fields.check(input.validate()).is_some() {
            action.dispatch(Login {
                email: input.email,
                password: input.password,
                remember: input.remember.then_some(true),
            });
        }
    };

    view! {
        <Title text="Sign in" />
        <Meta name="description" content="Sign in to your Roster account." />
        <section class="card auth-card" aria-labelledby="login-title">
            <h1 id="login-title">"Sign in"</h1>
            <FormAlert error=server_error />
            <form method="post" action=Login::PATH on:submit=on_submit novalidate>
                <Field
                    id="login-email"
                    name="email"
                    label="Email"
                    kind="email"
                    autocomplete="username"
                    node_ref=fields.input("email")
                    error=fields.error(server_error, "email")
                    autofocus=fields.autofocus(server_error, "email")
                    on_edit=fields.clear_on_edit("email")
                />
                <Field
                    id="login-password"
                    name="password"
                    label="Password"
                    kind="password"
                    autocomplete="current-password"
                    node_ref=fields.input("password")
                    error=fields.error(server_error, "password")
                    autofocus=fields.autofocus(server_error, "password")
                    on_edit=fields.clear_on_edit("password")
                />
                // Unchecked, nothing is sent: the session ends with the browser.
                <div class="field-check">
                    <input id="login-remember" type="checkbox" name="remember" value="true" node_ref=remember />
                    <label for="login-remember">"Keep me signed in on this device"</label>
                </div>
                <SubmitButton pending=action.pending() label="Sign in" pending_label="Signing in…" />
            </form>
            <div class="passkey-action">
                <button type="button" class="button" data-passkey="sign-in" data-passkey-remember="#login-remember">
                    "Sign in with a passkey"
                </button>
                <p class="alert" role="alert" data-passkey-error hidden></p>
            </div>
            <p class="form-footer">
                <a href=paths::FORGOT_PASSWORD>"Forgot your password?"</a>
                " · "
                <a href=paths::LOGIN_CODE>"Email me a sign-in code"</a>
                " · New here? "
                <a href=paths::REGISTER>"Create an account"</a>
            </p>
        </section>
    }
}
