use crate::components::field::Field;
use crate::components::form::{FormAlert, FormFields, SubmitButton, action_error};
use crate::components::strength::StrengthHint;
use crate::paths;
use crate::server_fns::auth::Register;
use crate::signed_in::SignedIn;
use crate::validation::{NEW_PASSWORD_HINT, RegisterInput};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::{Meta, Title};

/// Under the password field: the rule, and a word on choosing well.
const PASSWORD_ADVICE: &str = "A long phrase is easier to remember and harder to guess.";

#[component]
pub fn RegisterPage() -> impl IntoView {
    let signed_in = SignedIn::expect();
    let action = ServerAction::<Register>::new();
    let fields = FormFields::new(["name", "email", "password"]);
    let typed_password = RwSignal::new(String::new());
    let server_error = action_error(action);
    let hint = format!("{NEW_PASSWORD_HINT} {PASSWORD_ADVICE}");

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
        let input = RegisterInput {
            name: fields.value("name"),
            email: fields.value("email"),
            password: fields.value("password"),
        };
        if fields.check(input.validate()).is_some() {
            action.dispatch(Register {
                name: input.name,
                email: input.email,
                password: input.password,
            });
        }
    };
    let clear_password = fields.clear_on_edit("password");

    view! {
        <Title text="Create your account" />
        <Meta name="description" content="Create a Roster account: a name, an email address and a password." />
        <section class="card auth-card" aria-labelledby="register-title">
            <h1 id="register-title">"Create your account"</h1>
            <FormAlert error=server_error />
            <form method="post" action=Register::PATH on:submit=on_submit novalidate>
                <Field
                    id="register-name"
                    name="name"
                    label="Name"
                    autocomplete="name"
                    node_ref=fields.input("name")
                    error=fields.error(server_error, "name")
                    autofocus=fields.autofocus(server_error, "name")
                    on_edit=fields.clear_on_edit("name")
                />
                <Field
                    id="register-email"
                    name="email"
                    label="Email"
                    kind="email"
                    autocomplete="email"
                    node_ref=fields.input("email")
                    error=fields.error(server_error, "email")
                    autofocus=fields.autofocus(server_error, "email")
                    on_edit=fields.clear_on_edit("email")
                />
                <Field
                    id="register-password"
                    name="password"
                    label="Password"
                    kind="password"
                    autocomplete="new-password"
                    node_ref=fields.input("password")
                    hint=hint
                    error=fields.error(server_error, "password")
                    autofocus=fields.autofocus(server_error, "password")
                    on_edit=Callback::new(move |_| {
                        typed_password.set(fields.value("password"));
                        clear_password.run(());
                    })
                />
                <StrengthHint password=typed_password id="register-password-strength" />
                <SubmitButton pending=action.pending() label="Create account" pending_label="Creating account…" />
            </form>
            <p class="form-footer">"Already have an account? " <a href=paths::LOGIN>"Sign in"</a></p>
        </section>
    }
}
