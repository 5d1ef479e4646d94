use crate::validation::{Strength, password_strength};
use leptos::prelude::*;

/// "Strength: fair" under a new-password field, updated as the person types.
#[component]
pub fn StrengthHint(#[prop(into)] password: Signal<String>, id: &'static str) -> impl IntoView {
    let strength = Memo::new(move |_| password.with(|p| (!p.is_empty()).then(|| password_strength(p))));
    view! {
        <p class="strength" id=id aria-live="polite" data-strength=move || strength.get().map(Strength::label)
            hidden=move || strength.get().is_none()>
            "Strength: " <strong>{move || strength.get().map(Strength::label)}</strong>
        </p>
    }
}
