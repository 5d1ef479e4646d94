//! The interactive part of Roster's sign-in page as a Leptos island: the form with
//! its client-side checks and the server-function call. Everything else on the page
//! (header, headings, links) would stay server-rendered HTML with no WASM at all.

use leptos::prelude::*;

#[server]
pub async fn sign_in(email: String, password: String) -> Result<(), ServerFnError> {
    let _ = (email, password);
    Ok(())
}

fn email_problem(email: &str) -> Option<&'static str> {
    let email = email.trim();
    if email.is_empty() {
        Some("Enter your email address.")
    } else if email.len() > 254 || !email.contains('@') || email.starts_with('@') || email.ends_with('@') {
        Some("Enter a valid email address.")
    } else {
        None
    }
}

fn password_problem(password: &str) -> Option<&'static str> {
    match password.chars().count() {
        0 => Some("Enter your password."),
        n if n > 128 => Some("Passwords are at most 128 characters."),
        _ => None,
    }
}

#[island]
pub fn SignInForm() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let (email, set_email) = signal(String::new());
    let (password, set_password) = signal(String::new());
    let (touched, set_touched) = signal(false);
    let email_error = move || touched.get().then(|| email_problem(&email.get())).flatten();
    let password_error = move || touched.get().then(|| password_problem(&password.get())).flatten();
    view! {
        <ActionForm action=action>
            <label>"Email" <input name="email" type="email" autocomplete="email"
                on:input=move |ev| set_email.set(event_target_value(&ev)) /></label>
            <p class="field-error">{email_error}</p>
            <label>"Password" <input name="password" type="password" autocomplete="current-password"
                on:input=move |ev| set_password.set(event_target_value(&ev)) /></label>
            <p class="field-error">{password_error}</p>
            <button type="submit" on:click=move |_| set_touched.set(true) disabled=move || action.pending().get()>
                "Sign in"
            </button>
            <p role="alert">{move || action.value().get().and_then(Result::err).map(|e| e.to_string())}</p>
        </ActionForm>
    }
}

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    leptos::mount::hydrate_islands();
}
