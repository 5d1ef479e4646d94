use crate::components::field::Field;
use crate::components::form::{FormAlert, FormFields, LoadError, SubmitButton, action_error};
use crate::components::strength::StrengthHint;
use crate::model::{InvitationPreview, RegistrationContext, RegistrationMode};
use crate::paths;
use crate::server_fns::auth::{Register, registration_context};
use crate::signed_in::SignedIn;
use crate::validation::{NEW_PASSWORD_HINT, RegisterInput};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::{Meta, Title};

/// Under the password field: the rule, and a word on choosing well.
const PASSWORD_ADVICE: &str = "A long phrase is easier to remember and harder to guess.";

#[component]
pub fn RegisterPage() -> impl IntoView {
    // An invitation link: `/register?invitation=…`.
    let query = leptos_router::hooks::use_query_map();
    let invitation = query
        .with_untracked(|q| q.get("invitation"))
        .filter(|t| !t.trim().is_empty());
    let context = Resource::new(move || invitation.clone(), registration_context);
    view! {
        <Title text="Create your account" />
        <Meta name="description" content="Create a Roster account: a name, an email address and a password." />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match context.await {
                    Ok(context) => view! { <Registration context /> }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The form, or why there is none: `ROSTER_REGISTRATION` and the invitation decide.
#[component]
fn Registration(context: RegistrationContext) -> impl IntoView {
    let RegistrationContext {
        mode,
        invitation,
        invitation_invalid,
    } = context;
    let closed = match (mode, &invitation) {
        (RegistrationMode::Closed, _) => Some((
            "Registration is closed",
            "New accounts are made by an administrator. If you should have one, ask them.",
        )),
        (RegistrationMode::Invite, None) if invitation_invalid => Some((
            "This invitation is not valid",
            "It may have been used already, withdrawn, or have expired. Ask whoever invited you for a new one.",
        )),
        (RegistrationMode::Invite, None) => Some((
            "Registration is by invitation",
            "Accounts here are made from an invitation: follow the link in the mail you were sent.",
        )),
        _ => None,
    };
    if let Some((title, text)) = closed {
        return view! {
            <section class="card auth-card" aria-labelledby="register-title" data-testid="registration-closed">
                <h1 id="register-title">{title}</h1>
                <p>{text}</p>
                <p class="form-footer">"Already have an account? " <a href=paths::LOGIN>"Sign in"</a></p>
            </section>
        }
        .into_any();
    }
    view! { <RegisterForm mode invitation invitation_invalid /> }.into_any()
}

#[component]
fn RegisterForm(
    mode: RegistrationMode,
    invitation: Option<InvitationPreview>,
    invitation_invalid: bool,
) -> impl IntoView {
    let signed_in = SignedIn::expect();
    let action = ServerAction::<Register>::new();
    let fields = FormFields::new(["name", "email", "password"]);
    let typed_password = RwSignal::new(String::new());
    let server_error = action_error(action);
    let hint = format!("{NEW_PASSWORD_HINT} {PASSWORD_ADVICE}");
    let token = leptos_router::hooks::use_query_map()
        .with_untracked(|q| q.get("invitation"))
        .filter(|_| invitation.is_some());

    Effect::new(move |_| match action.value().get() {
        Some(Ok(_)) => signed_in.refresh(),
        Some(Err(_)) => {
            if let Some(errors) = server_error.get_untracked().and_then(|e| e.fields().cloned()) {
                fields.focus_first(&errors);
            }
        }
        None => {}
    });

    let submitted_token = token.clone();
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
                invitation: submitted_token.clone(),
            });
        }
    };
    let clear_password = fields.clear_on_edit("password");
    let invited_email = invitation.as_ref().map(|i| i.email.clone());
    let intro = match (&invitation, mode) {
        (Some(invited), _) => Some(
            view! {
                <p class="notice" data-testid="invited">
                    "You were invited to join with " <strong>{invited.email.clone()}</strong> "."
                </p>
            }
            .into_any(),
        ),
        (None, RegistrationMode::Approval) => Some(
            view! {
                <p class="notice" data-testid="approval-notice">
                    "An administrator approves new accounts: you can sign in once yours is approved."
                </p>
            }
            .into_any(),
        ),
        _ => None,
    };
    let stale_link = invitation_invalid.then(|| view! {
        <p class="form-error" role="alert">
            "The invitation link you followed is not valid any more (used, withdrawn or expired). You can still register below."
        </p>
    });

    view! {
        <section class="card auth-card" aria-labelledby="register-title">
            <h1 id="register-title">"Create your account"</h1>
            {intro}
            {stale_link}
            <FormAlert error=server_error />
            <form method="post" action=Register::PATH on:submit=on_submit novalidate>
                {token.map(|token| view! { <input type="hidden" name="invitation" value=token /> })}
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
                    value=invited_email.clone().unwrap_or_default()
                    readonly=invited_email.is_some()
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
