//! /account: the signed-in user's profile, password, sessions and account deletion.

use crate::components::field::Field;
use crate::components::form::{FormAlert, FormFields, LoadError, SubmitButton, action_error};
use crate::components::logout::LogoutButton;
use crate::components::strength::StrengthHint;
use crate::error::AppError;
use crate::model::{SessionInfo, User};
use crate::paths;
use crate::server_fns::links::ResendVerification;
use crate::server_fns::security::{Reauthenticate, THEN_SESSIONS, THEN_SIGN_OUT_OTHERS};
use crate::server_fns::sessions::{RevokeOtherSessions, RevokeSession, my_sessions};
use crate::server_fns::users::{ChangePassword, DeleteAccount, UpdateProfile};
use crate::signed_in::SignedIn;
use crate::validation::{DeleteUserInput, NEW_PASSWORD_HINT, ProofInput, UpdateUserInput};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::{Meta, Title};
use leptos_router::components::Redirect;

#[component]
pub fn AccountPage() -> impl IntoView {
    let signed_in = SignedIn::expect();
    // Live above the details, which re-render when the user is refetched after a save.
    let profile_saved = RwSignal::new(false);
    // A new address waits for the link mailed to it: the plain form is sent back here
    // with `?email=pending`; the hydrated form compares what it asked for.
    let query = leptos_router::hooks::use_query_map();
    let asked_by_query = move || query.with(|q| q.get("email").as_deref() == Some("pending"));
    let email_pending = RwSignal::new(query.with_untracked(|q| q.get("email").as_deref() == Some("pending")));
    // The server sends a saved new address to `?email=pending`: a hydrated page gets
    // there by navigating, which may come after the save's own answer.
    Effect::new(move |_| {
        if asked_by_query() {
            email_pending.set(true);
        }
    });
    // The account as the last save returned it: shown at once, whatever the
    // refetch of who is signed in (for the header) is doing meanwhile.
    let saved = RwSignal::new(None::<User>);
    // The save lives here, above the details: their re-render (who is signed in is
    // refetched after a save) must not take the save's answer with it.
    let profile = ServerAction::<UpdateProfile>::new();
    let requested = StoredValue::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(user)) = profile.value().get() {
            profile_saved.set(true);
            email_pending.set(!user.email.eq_ignore_ascii_case(requested.get_value().trim()));
            saved.set(Some(user));
            signed_in.refresh();
        }
    });
    let profile = ProfileSave {
        action: profile,
        requested,
    };
    view! {
        <Title text="Your account" />
        <Meta name="description" content="Your Roster account: profile, password, where you are signed in, and deleting the account." />
        <Transition fallback=|| view! { <p class="muted">"Loading your account…"</p> }>
            {move || Suspend::new(async move {
                match signed_in.user.await {
                    Ok(Some(user)) if user.approval_pending => view! { <AwaitingApproval user /> }.into_any(),
                    Ok(Some(user)) => view! { <AccountDetails user profile_saved email_pending saved profile /> }.into_any(),
                    Ok(None) => view! { <Redirect path=paths::LOGIN /> }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// All an account that waits for approval sees: that it waits, and a way out.
#[component]
fn AwaitingApproval(user: User) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="waiting-title" data-testid="awaiting-approval">
            <h1 id="waiting-title">"Your account is waiting for approval"</h1>
            <p>
                "Thank you, " {user.name.clone()} ". An administrator approves new accounts before they can be used; "
                "yours, " <strong>{user.email.clone()}</strong> ", is in the queue. Come back to this page once it is approved."
            </p>
            <LogoutButton />
        </section>
    }
}

#[component]
fn AccountDetails(
    user: User,
    profile_saved: RwSignal<bool>,
    email_pending: RwSignal<bool>,
    saved: RwSignal<Option<User>>,
    profile: ProfileSave,
) -> impl IntoView {
    let since = user.created_at.format("%-d %B %Y").to_string();
    let unverified = (!user.email_verified).then(|| view! { <UnverifiedNotice email=user.email.clone() /> });
    let (name, email) = (user.name.clone(), user.email.clone());
    let shown_name = move || saved.with(|s| s.as_ref().map_or_else(|| name.clone(), |u| u.name.clone()));
    let shown_email = move || saved.with(|s| s.as_ref().map_or_else(|| email.clone(), |u| u.email.clone()));
    view! {
        <div class="stack">
            {unverified}
            <section class="card" aria-labelledby="account-title">
                <h1 id="account-title">"Your account"</h1>
                <p class="lead">"Signed in as " <strong data-testid="account-name">{shown_name}</strong></p>
                <dl class="details">
                    <dt>"Email"</dt>
                    <dd data-testid="account-email">{shown_email}</dd>
                    <dt>"Role"</dt>
                    <dd>{user.role.as_str()}</dd>
                    <dt>"Member since"</dt>
                    <dd>
                        <time datetime=user.created_at.to_rfc3339()>{since}</time>
                    </dd>
                </dl>
                <LogoutButton />
            </section>
            <section class="card" aria-labelledby="security-link-title">
                <h2 id="security-link-title">"Two-step sign-in"</h2>
                <p>"Ask for a code from your phone as well as your password when you sign in."</p>
                <p><a href=paths::ACCOUNT_SECURITY data-testid="security-link">"Security settings →"</a></p>
            </section>
            <ProfileForm user=user.clone() saved=profile_saved pending=email_pending save=profile />
            <PasswordForm />
            <SessionList />
            <super::account_activity::RecentActivity />
            <DeleteAccountForm />
        </div>
    }
}

/// Until the address is proven: what to do, and a new link on request.
#[component]
fn UnverifiedNotice(email: String) -> impl IntoView {
    let action = ServerAction::<ResendVerification>::new();
    let server_error = action_error(action);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(ResendVerification {});
    };
    view! {
        <section class="card notice" aria-labelledby="unverified-title" data-testid="unverified-notice">
            <h2 id="unverified-title">"Confirm your address"</h2>
            <p>
                "We mailed a link to " <strong>{email}</strong>
                ". Follow it to confirm that the address is yours: it is how you get back in if you forget your password."
            </p>
            <FormAlert error=server_error />
            <form method="post" action=ResendVerification::PATH on:submit=on_submit>
                <SubmitButton pending=action.pending() label="Send a new link" pending_label="Sending…" />
            </form>
        </section>
    }
}

/// The profile's save and the address it asked for, owned by the page.
#[derive(Clone, Copy)]
struct ProfileSave {
    action: ServerAction<UpdateProfile>,
    requested: StoredValue<String>,
}

#[component]
fn ProfileForm(user: User, saved: RwSignal<bool>, pending: RwSignal<bool>, save: ProfileSave) -> impl IntoView {
    let ProfileSave { action, requested } = save;
    let fields = FormFields::new(["name", "email", "current_password"]);
    let server = action_error(action);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        let (name, email) = (fields.value("name"), fields.value("email"));
        let current_password = fields.value("current_password");
        let input = UpdateUserInput {
            name: Some(name.clone()),
            email: Some(email.clone()),
            ..Default::default()
        };
        if fields.check(input.validate()).is_some() {
            requested.set_value(email.clone());
            action.dispatch(UpdateProfile {
                name,
                email,
                current_password,
            });
        }
    };
    view! {
        <section class="card" aria-labelledby="profile-title">
            <h2 id="profile-title">"Profile"</h2>
            <FormAlert error=server />
            <p class="notice" role="status" hidden=move || !saved.get()>"Your profile was saved."</p>
            <p class="notice" role="status" data-testid="email-change-pending" hidden=move || !pending.get()>
                "We mailed a link to the new address. Your address changes when you follow it."
            </p>
            <form method="post" action=UpdateProfile::PATH on:submit=on_submit novalidate>
                <Field id="profile-name" name="name" label="Name" autocomplete="name" node_ref=fields.input("name")
                    value=user.name error=fields.error(server, "name") />
                <Field id="profile-email" name="email" label="Email" kind="email" autocomplete="email"
                    node_ref=fields.input("email") value=user.email error=fields.error(server, "email") />
                <Field id="profile-current-password" name="current_password" label="Password (to change your email)"
                    kind="password" autocomplete="current-password" node_ref=fields.input("current_password")
                    error=fields.error(server, "current_password") />
                <SubmitButton pending=action.pending() label="Save changes" pending_label="Saving…" />
            </form>
        </section>
    }
}

#[component]
fn PasswordForm() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let fields = FormFields::new(["current_password", "password"]);
    let typed = RwSignal::new(String::new());
    let server = action_error(action);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (current_password, password) = (fields.value("current_password"), fields.value("password"));
        let input = UpdateUserInput {
            current_password: Some(current_password.clone()),
            password: Some(password.clone()),
            ..Default::default()
        };
        if fields.check(input.validate()).is_some() {
            action.dispatch(ChangePassword {
                current_password,
                password,
            });
        }
    };
    let changed = move || matches!(action.value().get(), Some(Ok(())));
    Effect::new(move |_| {
        if changed() {
            fields.clear_values();
        }
    });
    view! {
        <section class="card" aria-labelledby="password-title">
            <h2 id="password-title">"Change password"</h2>
            <FormAlert error=server />
            <p class="notice" role="status" hidden=move || !changed()>
                "Password changed. Your other devices were signed out."
            </p>
            <form method="post" action=ChangePassword::PATH on:submit=on_submit novalidate>
                <Field id="current-password" name="current_password" label="Current password" kind="password"
                    autocomplete="current-password" node_ref=fields.input("current_password")
                    error=fields.error(server, "current_password") />
                <Field id="new-password" name="password" label="New password" kind="password"
                    autocomplete="new-password" node_ref=fields.input("password") hint=NEW_PASSWORD_HINT
                    error=fields.error(server, "password")
                    on_edit=Callback::new(move |_| typed.set(fields.value("password"))) />
                <StrengthHint password=typed id="new-password-strength" />
                <SubmitButton pending=action.pending() label="Change password" pending_label="Changing…" />
            </form>
        </section>
    }
}

/// A sign-out of other sessions waiting for the person's proof.
#[derive(Clone)]
enum WaitingSignOut {
    One(RevokeSession),
    Others,
}

#[component]
fn SessionList() -> impl IntoView {
    let revoke = ServerAction::<RevokeSession>::new();
    let revoke_others = ServerAction::<RevokeOtherSessions>::new();
    let prove = ServerAction::<Reauthenticate>::new();
    let waiting = StoredValue::new(None::<WaitingSignOut>);
    let sessions = Resource::new(
        move || (revoke.version().get(), revoke_others.version().get()),
        |_| my_sessions(),
    );
    // Proven: carry on with the sign-out that asked for it.
    Effect::new(move |_| {
        if let Some(Ok(())) = prove.value().get() {
            match waiting.get_value() {
                Some(WaitingSignOut::One(input)) => {
                    revoke.dispatch(input);
                }
                Some(WaitingSignOut::Others) => {
                    revoke_others.dispatch(RevokeOtherSessions {});
                }
                None => {}
            }
            waiting.set_value(None);
        }
    });
    let asked = |e: Option<AppError>| matches!(e, Some(AppError::ReauthenticationRequired));
    let needs_proof = move || {
        let answered = matches!(prove.value().get(), Some(Ok(())));
        (!answered
            && (asked(revoke.value().get().and_then(Result::err))
                || asked(revoke_others.value().get().and_then(Result::err))))
            || prove.value().get().is_some_and(|r| r.is_err())
    };
    // Without WASM the proof's form carries on with "sign out everywhere else" itself.
    let then = move || {
        if asked(revoke_others.value().get().and_then(Result::err)) {
            THEN_SIGN_OUT_OTHERS
        } else {
            THEN_SESSIONS
        }
    };
    let error = Signal::derive(move || {
        revoke
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| revoke_others.value().get().and_then(Result::err))
            .filter(|e| !matches!(e, AppError::ReauthenticationRequired))
    });
    let fields = FormFields::new(["password", "code"]);
    let proof_error = action_error(prove);
    let on_prove = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (password, code) = (fields.value("password"), fields.value("code"));
        let input = ProofInput {
            password: Some(password).filter(|p| !p.is_empty()),
            code: Some(code).filter(|c| !c.is_empty()),
        };
        if fields.check(input.validate()).is_some() {
            prove.dispatch(Reauthenticate {
                password: input.password,
                code: input.code,
                then: None,
                stay: Some(true),
            });
        }
    };
    view! {
        <section class="card" id="sessions" aria-labelledby="sessions-title">
            <h2 id="sessions-title">"Where you're signed in"</h2>
            <FormAlert error />
            <Show when=needs_proof>
                <div class="notice" role="region" aria-labelledby="sessions-proof-title" data-testid="sessions-proof">
                    <h3 id="sessions-proof-title">"Confirm it is you"</h3>
                    <p>"Signing sessions out needs your password again (or a code from your authenticator app)."</p>
                    <FormAlert error=proof_error />
                    <form method="post" action=Reauthenticate::PATH on:submit=on_prove novalidate>
                        <input type="hidden" name="then" value=then />
                        <Field id="sessions-proof-password" name="password" label="Password" kind="password"
                            autocomplete="current-password" node_ref=fields.input("password")
                            error=fields.error(proof_error, "password") autofocus=Signal::derive(|| true) />
                        <Field id="sessions-proof-code" name="code" label="Or a code" autocomplete="one-time-code"
                            node_ref=fields.input("code") error=fields.error(proof_error, "code") />
                        <SubmitButton pending=prove.pending() label="Continue" pending_label="Checking…" />
                    </form>
                </div>
            </Show>
            <Transition fallback=|| view! { <p class="muted">"Loading sessions…"</p> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(list) => view! { <SessionTable list revoke prove waiting /> }.into_any(),
                        Err(error) => view! { <LoadError error /> }.into_any(),
                    }
                })}
            </Transition>
            <form method="post" action=RevokeOtherSessions::PATH on:submit=move |ev| {
                ev.prevent_default();
                waiting.set_value(Some(WaitingSignOut::Others));
                prove.clear();
                revoke_others.dispatch(RevokeOtherSessions {});
            }>
                <SubmitButton pending=revoke_others.pending() label="Sign out everywhere else" pending_label="Signing out…" />
            </form>
        </section>
    }
}

#[component]
fn SessionTable(
    list: Vec<SessionInfo>,
    revoke: ServerAction<RevokeSession>,
    prove: ServerAction<Reauthenticate>,
    waiting: StoredValue<Option<WaitingSignOut>>,
) -> impl IntoView {
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.format("%-d %b %Y, %H:%M UTC").to_string();
    view! {
        <ul class="session-list" data-testid="sessions">
            {list
                .into_iter()
                .map(|s| {
                    let id = s.id;
                    view! {
                        <li class="session" data-testid="session">
                            <div>
                                <strong>{crate::user_agent::describe(s.user_agent.as_deref())}</strong>
                                {s.current.then(|| view! { <span class="badge">"This device"</span> })}
                                {s.viewed_by_admin.then(|| view! {
                                    <span class="badge badge-pending">"An administrator viewing as you"</span>
                                })}
                                <p class="muted">
                                    {s.ip.clone().unwrap_or_else(|| "unknown address".into())} " · signed in "
                                    {fmt(s.created_at)} " · last seen " {fmt(s.last_seen_at)}
                                </p>
                            </div>
                            {(!s.current).then(|| view! {
                                <form method="post" action=RevokeSession::PATH on:submit=move |ev| {
                                    ev.prevent_default();
                                    waiting.set_value(Some(WaitingSignOut::One(RevokeSession { id })));
                                    prove.clear();
                                    revoke.dispatch(RevokeSession { id });
                                }>
                                    <input type="hidden" name="id" value=id.to_string() />
                                    <button type="submit" class="button button-small">"Sign out"</button>
                                </form>
                            })}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

#[component]
fn DeleteAccountForm() -> impl IntoView {
    let action = ServerAction::<DeleteAccount>::new();
    let fields = FormFields::new(["password"]);
    let server = action_error(action);
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            // Everything about the session is gone: start over from the home page
            // with a full load, rather than race this page's own signed-out redirect.
            let _ = window().location().set_href(paths::HOME);
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let password = fields.value("password");
        let input = DeleteUserInput {
            password: Some(password.clone()),
        };
        if fields.check(input.own_password()).is_some() {
            action.dispatch(DeleteAccount { password });
        }
    };
    view! {
        <section class="card danger-zone" aria-labelledby="delete-title">
            <h2 id="delete-title">"Delete your account"</h2>
            <p>"This removes your account and signs out every device. It cannot be undone."</p>
            <FormAlert error=server />
            <form method="post" action=DeleteAccount::PATH on:submit=on_submit novalidate>
                <Field id="delete-password" name="password" label="Your password" kind="password"
                    autocomplete="current-password" node_ref=fields.input("password")
                    error=fields.error(server, "password") />
                <button type="submit" class="button button-danger" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Deleting…" } else { "Delete my account" }}
                </button>
            </form>
        </section>
    }
}
