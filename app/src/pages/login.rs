use crate::components::field::Field;
use crate::components::form::{
    FormAlert, SubmitButton, field_error, first_server_error, focus_first_error, input_value,
};
use crate::server_fns::Login;
use crate::session::Session;
use crate::validation::{FieldErrors, LoginInput};
use leptos::html;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

const FIELDS: &[&str] = &["email", "password"];

#[component]
pub fn LoginPage() -> impl IntoView {
    let session = Session::expect();
    let action = ServerAction::<Login>::new();
    let client_errors = RwSignal::new(FieldErrors::new());
    let (email, password) = (NodeRef::<html::Input>::new(), NodeRef::new());
    let refs = [("email", email), ("password", password)];
    let server_error = Signal::derive(move || action.value().get().and_then(Result::err));
    let first_error = first_server_error(FIELDS, server_error);

    Effect::new(move |_| match action.value().get() {
        Some(Ok(_)) => session.refresh(),
        Some(Err(err)) => match err.fields() {
            Some(errors) => focus_first_error(&refs, errors),
            // Wrong credentials: start over at the email field.
            None => focus_first_error(&refs, &FieldErrors::from([("email".to_string(), String::new())])),
        },
        None => {}
    });

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = LoginInput {
            email: input_value(email),
            password: input_value(password),
        };
        match input.validate() {
            Err(errors) => {
                focus_first_error(&refs, &errors);
                client_errors.set(errors);
            }
            Ok(_) => {
                client_errors.set(FieldErrors::new());
                action.dispatch(Login {
                    email: input.email,
                    password: input.password,
                });
            }
        }
    };
    let clear = move |field: &'static str| {
        Callback::new(move |_| {
            client_errors.update(|e| {
                e.remove(field);
            })
        })
    };

    view! {
        <Title text="Sign in" />
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
                    node_ref=email
                    error=field_error(client_errors, server_error, "email")
                    autofocus=Signal::derive(move || first_error.get() == Some("email"))
                    on_edit=clear("email")
                />
                <Field
                    id="login-password"
                    name="password"
                    label="Password"
                    kind="password"
                    autocomplete="current-password"
                    node_ref=password
                    error=field_error(client_errors, server_error, "password")
                    autofocus=Signal::derive(move || first_error.get() == Some("password"))
                    on_edit=clear("password")
                />
                <SubmitButton pending=action.pending() label="Sign in" pending_label="Signing in…" />
            </form>
            <p class="form-footer">"New here? " <a href="/register">"Create an account"</a></p>
        </section>
    }
}
