use crate::components::field::Field;
use crate::components::form::{
    FormAlert, SubmitButton, field_error, first_server_error, focus_first_error, input_value,
};
use crate::components::strength::StrengthHint;
use crate::error::AppError;
use crate::server_fns::Register;
use crate::session::Session;
use crate::validation::{FieldErrors, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS, RegisterInput};
use leptos::html;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

const FIELDS: &[&str] = &["name", "email", "password"];

#[component]
pub fn RegisterPage() -> impl IntoView {
    let session = Session::expect();
    let action = ServerAction::<Register>::new();
    let client_errors = RwSignal::new(FieldErrors::new());
    let typed_password = RwSignal::new(String::new());
    let (name, email, password) = (NodeRef::<html::Input>::new(), NodeRef::new(), NodeRef::new());
    let refs = [("name", name), ("email", email), ("password", password)];

    // A taken email is shown on the email field, where it can be fixed.
    let server_error = Signal::derive(move || {
        action.value().get().and_then(Result::err).map(|err| match err {
            AppError::EmailTaken => AppError::validation(FieldErrors::from([("email".to_string(), err.to_string())])),
            other => other,
        })
    });
    let first_error = first_server_error(FIELDS, server_error);
    Effect::new(move |_| match action.value().get() {
        Some(Ok(_)) => session.refresh(),
        Some(Err(_)) => {
            if let Some(errors) = server_error.get_untracked().and_then(|e| e.fields().cloned()) {
                focus_first_error(&refs, &errors);
            }
        }
        None => {}
    });

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = RegisterInput {
            name: input_value(name),
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
                action.dispatch(Register {
                    name: input.name,
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
        <Title text="Create your account" />
        <section class="card auth-card" aria-labelledby="register-title">
            <h1 id="register-title">"Create your account"</h1>
            <FormAlert error=server_error />
            <form method="post" action=Register::PATH on:submit=on_submit novalidate>
                <Field
                    id="register-name"
                    name="name"
                    label="Name"
                    autocomplete="name"
                    node_ref=name
                    error=field_error(client_errors, server_error, "name")
                    autofocus=Signal::derive(move || first_error.get() == Some("name"))
                    on_edit=clear("name")
                />
                <Field
                    id="register-email"
                    name="email"
                    label="Email"
                    kind="email"
                    autocomplete="email"
                    node_ref=email
                    error=field_error(client_errors, server_error, "email")
                    autofocus=Signal::derive(move || first_error.get() == Some("email"))
                    on_edit=clear("email")
                />
                <Field
                    id="register-password"
                    name="password"
                    label="Password"
                    kind="password"
                    autocomplete="new-password"
                    node_ref=password
                    hint=PASSWORD_HINT
                    error=field_error(client_errors, server_error, "password")
                    autofocus=Signal::derive(move || first_error.get() == Some("password"))
                    on_edit=Callback::new(move |_| {
                        typed_password.set(input_value(password));
                        clear("password").run(());
                    })
                />
                <StrengthHint password=typed_password id="register-password-strength" />
                <SubmitButton pending=action.pending() label="Create account" pending_label="Creating account…" />
            </form>
            <p class="form-footer">"Already have an account? " <a href="/login">"Sign in"</a></p>
        </section>
    }
}

/// Must match the policy in `validation`; the assertion breaks the build if it drifts.
const PASSWORD_HINT: &str = "8 to 128 characters. A long phrase is easier to remember and harder to guess.";
const _: () = assert!(PASSWORD_MIN_CHARS == 8 && PASSWORD_MAX_CHARS == 128);
