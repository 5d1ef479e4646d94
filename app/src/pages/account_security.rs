//! /account/security: the authenticator app (set up with a QR code rendered on the
//! server, confirmed with its first code, turned off with the password or a code)
//! and the recovery codes (shown once, regenerated on request). A change that needs
//! a recent proof asks for the password inline, then carries on with what was asked.
//! Every form works without WASM: the server says what to show (`security_overview`).

use crate::components::field::Field;
use crate::components::form::{FormAlert, FormFields, LoadError, SubmitButton, action_error};
use crate::error::AppError;
use crate::model::PasskeyInfo;
use crate::paths;
use crate::server_fns::security::{
    BeginTotp, ConfirmTotp, DisableTotp, DismissRecoveryCodes, Reauthenticate, RegenerateRecoveryCodes, RemovePasskey,
    RenamePasskey, SecurityPage, THEN_NEW_CODES, THEN_SET_UP_APP, TotpSetup, security_overview,
};
use crate::signed_in::SignedIn;
use crate::validation::{FactorCode, FieldErrors, ProofInput};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::{Meta, Title};
use leptos_router::components::Redirect;

/// The page's actions, shared by its sections: any of them changes what it shows.
#[derive(Clone, Copy)]
struct Actions {
    begin: ServerAction<BeginTotp>,
    confirm: ServerAction<ConfirmTotp>,
    disable: ServerAction<DisableTotp>,
    regenerate: ServerAction<RegenerateRecoveryCodes>,
    dismiss: ServerAction<DismissRecoveryCodes>,
    reauthenticate: ServerAction<Reauthenticate>,
    rename_passkey: ServerAction<RenamePasskey>,
    remove_passkey: ServerAction<RemovePasskey>,
}

impl Actions {
    fn new() -> Self {
        Self {
            begin: ServerAction::new(),
            confirm: ServerAction::new(),
            disable: ServerAction::new(),
            regenerate: ServerAction::new(),
            dismiss: ServerAction::new(),
            reauthenticate: ServerAction::new(),
            rename_passkey: ServerAction::new(),
            remove_passkey: ServerAction::new(),
        }
    }

    fn versions(&self) -> [usize; 8] {
        [
            self.begin.version().get(),
            self.confirm.version().get(),
            self.disable.version().get(),
            self.regenerate.version().get(),
            self.dismiss.version().get(),
            self.reauthenticate.version().get(),
            self.rename_passkey.version().get(),
            self.remove_passkey.version().get(),
        ]
    }

    /// What a proof should carry on with: the action that asked for it.
    fn waiting_for_proof(&self) -> Option<&'static str> {
        let needs_proof = |err: Option<AppError>| matches!(err, Some(AppError::ReauthenticationRequired));
        if needs_proof(self.begin.value().get().and_then(Result::err)) {
            Some(THEN_SET_UP_APP)
        } else if needs_proof(self.regenerate.value().get().and_then(Result::err)) {
            Some(THEN_NEW_CODES)
        } else if needs_proof(self.confirm.value().get().and_then(Result::err))
            || needs_proof(self.remove_passkey.value().get().and_then(Result::err))
        {
            Some("")
        } else {
            None
        }
    }
}

/// An action's error, unless it is the request for a proof (the prompt shows that).
fn except_proof_needed(error: Signal<Option<AppError>>) -> Signal<Option<AppError>> {
    Signal::derive(move || error.get().filter(|e| !matches!(e, AppError::ReauthenticationRequired)))
}

#[component]
pub fn AccountSecurityPage() -> impl IntoView {
    let signed_in = SignedIn::expect();
    view! {
        <Title text="Security" />
        <Meta name="description" content="Protect your Roster account with an authenticator app and recovery codes." />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match signed_in.user.await {
                    Ok(Some(_)) => view! { <SecuritySections /> }.into_any(),
                    Ok(None) => view! { <Redirect path=paths::LOGIN /> }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn SecuritySections() -> impl IntoView {
    let actions = Actions::new();
    let overview = Resource::new(move || actions.versions(), |_| security_overview());
    // The prompt lives outside the sections, which are drawn again after every
    // change: its state (and the change waiting for it) survives them.
    view! {
        <div class="stack">
            <p><a href=paths::ACCOUNT>"← Your account"</a></p>
            <ReauthPrompt actions overview />
            <Transition fallback=|| view! { <p class="muted">"Loading your security settings…"</p> }>
                {move || Suspend::new(async move {
                    match overview.await {
                        Ok(page) => view! { <Sections page actions /> }.into_any(),
                        Err(error) => view! { <LoadError error /> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn Sections(page: SecurityPage, actions: Actions) -> impl IntoView {
    let SecurityPage {
        factors,
        setup,
        fresh_codes,
        passkeys,
        passkeys_available,
    } = page;
    let app_section = match (factors.totp, setup) {
        (true, _) => view! { <AppOn codes_left=factors.recovery_codes_left actions /> }.into_any(),
        (false, Some(setup)) => view! { <AppSetup setup actions /> }.into_any(),
        (false, None) => view! { <AppOff actions /> }.into_any(),
    };
    view! {
        {fresh_codes.map(|codes| view! { <FreshCodes codes actions /> })}
        <section class="card" aria-labelledby="security-title">
            <h1 id="security-title">"Two-step sign-in"</h1>
            <p>
                "With an authenticator app (such as Aegis, Google Authenticator, 1Password or Bitwarden), "
                "signing in asks for a code from your phone after your password: a stolen password alone "
                "is no longer enough."
            </p>
            {app_section}
        </section>
        <Passkeys passkeys available=passkeys_available actions />
    }
}

/// Asks for the password (or a code) when a change needs a recent proof, then
/// carries on with that change.
#[component]
fn ReauthPrompt(actions: Actions, overview: Resource<Result<SecurityPage, AppError>>) -> impl IntoView {
    let action = actions.reauthenticate;
    let fields = FormFields::new(["password", "code"]);
    let server = action_error(action);
    let then = Memo::new(move |_| actions.waiting_for_proof());
    // Proven: what asked for it is answered (the server carried on with it).
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            actions.begin.clear();
            actions.confirm.clear();
            actions.regenerate.clear();
            actions.remove_passkey.clear();
        }
    });
    // Asked for: the password field takes the keyboard.
    Effect::new(move |_| {
        if then.get().is_some() {
            fields.focus_first(&FieldErrors::from([("password".to_string(), String::new())]));
        }
    });
    // A failed proof keeps the prompt open.
    let open = move || then.get().is_some() || server.get().is_some();
    let then_value = move || then.get().unwrap_or_default().to_owned();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (password, code) = (fields.value("password"), fields.value("code"));
        let input = ProofInput {
            password: Some(password.clone()).filter(|p| !p.is_empty()),
            code: Some(code.clone()).filter(|c| !c.is_empty()),
        };
        if fields.check(input.validate()).is_some() {
            let then = Some(then_value()).filter(|t| !t.is_empty());
            action.dispatch(Reauthenticate {
                password: input.password,
                code: input.code,
                then,
                stay: None,
            });
        }
    };
    view! {
        <div class="notice" role="region" aria-labelledby="reauth-title" data-testid="reauth-prompt" hidden=move || !open()>
            <h2 id="reauth-title">"Confirm it is you"</h2>
            <p>"This change needs your password again (or a code from your authenticator app)."</p>
            <FormAlert error=server />
            <form method="post" action=Reauthenticate::PATH on:submit=on_submit novalidate>
                <input type="hidden" name="then" value=then_value />
                <Field id="reauth-password" name="password" label="Password" kind="password"
                    autocomplete="current-password" node_ref=fields.input("password")
                    error=fields.error(server, "password") autofocus=Signal::derive(open) />
                <Field id="reauth-code" name="code" label="Or a code" autocomplete="one-time-code"
                    node_ref=fields.input("code") error=fields.error(server, "code") />
                <SubmitButton pending=action.pending() label="Continue" pending_label="Checking…" />
            </form>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let has_passkeys = overview.await.is_ok_and(|page| !page.passkeys.is_empty());
                    has_passkeys
                        .then(|| {
                            view! {
                                <div class="passkey-action">
                                    <button type="button" class="button" data-passkey="reauthenticate">
                                        "Use a passkey instead"
                                    </button>
                                    <p class="alert" role="alert" data-passkey-error hidden></p>
                                </div>
                            }
                        })
                })}
            </Suspense>
        </div>
    }
}

#[component]
fn AppOff(actions: Actions) -> impl IntoView {
    let action = actions.begin;
    let server = except_proof_needed(action_error(action));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(BeginTotp {});
    };
    view! {
        <p data-testid="totp-status">"Status: " <strong>"off"</strong></p>
        <FormAlert error=server />
        <form method="post" action=BeginTotp::PATH on:submit=on_submit data-then=THEN_SET_UP_APP>
            <SubmitButton pending=action.pending() label="Set up an authenticator app" pending_label="Preparing…" />
        </form>
    }
}

#[component]
fn AppSetup(setup: TotpSetup, actions: Actions) -> impl IntoView {
    let action = actions.confirm;
    let fields = FormFields::new(["code"]);
    let server = except_proof_needed(action_error(action));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let code = fields.value("code");
        let checked = FactorCode::parse_totp(&code).map_err(|e| FieldErrors::from([("code".to_string(), e)]));
        if fields.check(checked).is_some() {
            action.dispatch(ConfirmTotp { code });
        }
    };
    view! {
        <ol class="steps">
            <li>
                <p>"Scan this QR code with your authenticator app:"</p>
                <div class="qr-code" role="img" aria-label="QR code for your authenticator app" inner_html=setup.qr_svg />
            </li>
            <li>
                <p>"Or type this key into the app instead:"</p>
                <p><code class="secret" data-testid="totp-secret">{setup.enrolment.secret}</code></p>
            </li>
            <li>
                <p>"Then type the 6-digit code the app shows, to check it works."</p>
                <FormAlert error=server />
                <form method="post" action=ConfirmTotp::PATH on:submit=on_submit novalidate>
                    <Field id="totp-code" name="code" label="Code from the app" inputmode="numeric"
                        autocomplete="one-time-code" node_ref=fields.input("code")
                        error=fields.error(server, "code") on_edit=fields.clear_on_edit("code") />
                    <SubmitButton pending=action.pending() label="Turn on" pending_label="Checking…" />
                </form>
            </li>
        </ol>
    }
}

#[component]
fn AppOn(codes_left: u32, actions: Actions) -> impl IntoView {
    let regenerate = actions.regenerate;
    let regenerate_error = except_proof_needed(action_error(regenerate));
    let on_regenerate = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        regenerate.dispatch(RegenerateRecoveryCodes {});
    };
    let low = codes_left <= 3;
    view! {
        <p data-testid="totp-status">"Status: " <strong>"on"</strong> " — signing in asks for a code from your app."</p>
        <h2>"Recovery codes"</h2>
        <p data-testid="codes-left" class:alert=low>
            {format!("{codes_left} unused recovery code(s) left. ")}
            "Each signs you in once if you lose your phone. Making new ones voids the old."
        </p>
        <FormAlert error=regenerate_error />
        <form method="post" action=RegenerateRecoveryCodes::PATH on:submit=on_regenerate data-then=THEN_NEW_CODES>
            <SubmitButton pending=regenerate.pending() label="Make new recovery codes" pending_label="Making…" />
        </form>
        <TurnOff actions />
    }
}

#[component]
fn TurnOff(actions: Actions) -> impl IntoView {
    let action = actions.disable;
    let fields = FormFields::new(["password", "code"]);
    let server = action_error(action);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (password, code) = (fields.value("password"), fields.value("code"));
        let input = ProofInput {
            password: Some(password).filter(|p| !p.is_empty()),
            code: Some(code).filter(|c| !c.is_empty()),
        };
        if fields.check(input.validate()).is_some() {
            action.dispatch(DisableTotp {
                password: input.password,
                code: input.code,
            });
        }
    };
    view! {
        <details class="danger-zone">
            <summary>"Turn off the authenticator app"</summary>
            <p>"Signing in will need only your password. Confirm with your password, or a code."</p>
            <FormAlert error=server />
            <form method="post" action=DisableTotp::PATH on:submit=on_submit novalidate>
                <Field id="disable-password" name="password" label="Password" kind="password"
                    autocomplete="current-password" node_ref=fields.input("password")
                    error=fields.error(server, "password") />
                <Field id="disable-code" name="code" label="Or a code" autocomplete="one-time-code"
                    node_ref=fields.input("code") error=fields.error(server, "code") />
                <SubmitButton pending=action.pending() label="Turn off" pending_label="Turning off…" />
            </form>
        </details>
    }
}

/// New recovery codes, until the person says they saved them.
#[component]
fn FreshCodes(codes: Vec<String>, actions: Actions) -> impl IntoView {
    let action = actions.dismiss;
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(DismissRecoveryCodes {});
    };
    view! {
        <section class="card notice" aria-labelledby="codes-title" data-testid="fresh-codes">
            <h2 id="codes-title">"Your recovery codes"</h2>
            <p>
                "Save these somewhere safe, away from your phone (a password manager, or printed). "
                "Each one signs you in once instead of a code from the app. They are shown only now."
            </p>
            <ul class="recovery-codes">
                {codes.into_iter().map(|code| view! { <li><code>{code}</code></li> }).collect_view()}
            </ul>
            <form method="post" action=DismissRecoveryCodes::PATH on:submit=on_submit>
                <SubmitButton pending=action.pending() label="I have saved them" pending_label="…" />
            </form>
        </section>
    }
}

/// The account's passkeys: each renamed or removed with a plain form; adding one
/// needs the browser's WebAuthn API (`public/passkeys.js`).
#[component]
fn Passkeys(passkeys: Vec<PasskeyInfo>, available: bool, actions: Actions) -> impl IntoView {
    let remove_error = except_proof_needed(action_error(actions.remove_passkey));
    let rename_error = action_error(actions.rename_passkey);
    let count = passkeys.len();
    let rows = passkeys
        .into_iter()
        .map(|passkey| view! { <PasskeyRow passkey actions /> })
        .collect_view();
    let adding = if available {
        view! {
            <div class="passkey-action">
                <div class="field">
                    <label for="passkey-name">"Name for a new passkey"</label>
                    <input id="passkey-name" type="text" maxlength="100" placeholder="This laptop" autocomplete="off" />
                </div>
                <button type="button" class="button button-primary" data-passkey="register" data-passkey-name="#passkey-name">
                    "Add a passkey"
                </button>
                <p class="alert" role="alert" data-passkey-error hidden></p>
                <noscript><p class="muted">"Adding a passkey needs JavaScript."</p></noscript>
            </div>
        }
        .into_any()
    } else {
        view! {
            <p class="muted">
                "Passkeys are not available here: the site must be reached by its domain name (ROSTER_PUBLIC_URL)."
            </p>
        }
        .into_any()
    };
    view! {
        <section class="card" aria-labelledby="passkeys-title">
            <h2 id="passkeys-title">"Passkeys"</h2>
            <p>
                "A passkey signs you in with your device's screen lock (fingerprint, face or PIN) instead of a "
                "password, and counts as a second step after one."
            </p>
            <FormAlert error=remove_error />
            <FormAlert error=rename_error />
            <p data-testid="passkey-count">{format!("{count} passkey(s).")}</p>
            <ul class="passkey-list">{rows}</ul>
            {adding}
        </section>
    }
}

#[component]
fn PasskeyRow(passkey: PasskeyInfo, actions: Actions) -> impl IntoView {
    let rename_id = format!("passkey-rename-{}", passkey.id);
    let added = passkey.created_at.format("%-d %B %Y").to_string();
    let used = passkey
        .last_used_at
        .map(|at| format!("last used {}", at.format("%-d %B %Y")))
        .unwrap_or_else(|| "not used yet".to_owned());
    let (rename, remove) = (actions.rename_passkey, actions.remove_passkey);
    let id = passkey.id;
    let name_input = NodeRef::<leptos::html::Input>::new();
    let on_rename = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = name_input.get_untracked().map(|i| i.value()).unwrap_or_default();
        rename.dispatch(RenamePasskey { id, name });
    };
    let on_remove = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        remove.dispatch(RemovePasskey { id });
    };
    view! {
        <li class="passkey" data-testid="passkey">
            <strong data-testid="passkey-name">{passkey.name.clone()}</strong>
            <span class="muted">{format!(" — added {added}, {used}")}</span>
            <form method="post" action=RenamePasskey::PATH on:submit=on_rename class="inline-form">
                <input type="hidden" name="id" value=id.to_string() />
                <label for=rename_id.clone() class="visually-hidden">{format!("New name for {}", passkey.name)}</label>
                <input id=rename_id name="name" type="text" maxlength="100" value=passkey.name.clone() node_ref=name_input />
                <button type="submit" class="button">"Rename"</button>
            </form>
            <form method="post" action=RemovePasskey::PATH on:submit=on_remove class="inline-form">
                <input type="hidden" name="id" value=id.to_string() />
                <button type="submit" class="button button-danger">"Remove"</button>
            </form>
        </li>
    }
}
