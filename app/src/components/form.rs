//! Pieces shared by the sign-in and registration forms.

use crate::error::AppError;
use crate::validation::FieldErrors;
use leptos::html;
use leptos::prelude::*;

/// The error for one field: the browser's own check wins, then the server's answer.
pub fn field_error(
    client: RwSignal<FieldErrors>,
    server: Signal<Option<AppError>>,
    field: &'static str,
) -> Signal<Option<String>> {
    Signal::derive(move || {
        client
            .with(|errors| errors.get(field).cloned())
            .or_else(|| server.with(|err| err.as_ref().and_then(|e| e.field(field))))
    })
}

/// Moves keyboard focus to the first field (in form order) that has an error, so
/// screen-reader and keyboard users land on what needs fixing.
pub fn focus_first_error(fields: &[(&'static str, NodeRef<html::Input>)], errors: &FieldErrors) {
    if let Some((_, node)) = fields.iter().find(|(name, _)| errors.contains_key(*name))
        && let Some(input) = node.get_untracked()
    {
        let _ = input.focus();
    }
}

/// The first field, in form order, that the server rejected.
pub fn first_server_error(
    fields: &'static [&'static str],
    server: Signal<Option<AppError>>,
) -> Memo<Option<&'static str>> {
    Memo::new(move |_| {
        server.with(|err| {
            err.as_ref()
                .and_then(|e| fields.iter().copied().find(|f| e.field(f).is_some()))
        })
    })
}

pub fn input_value(node: NodeRef<html::Input>) -> String {
    node.get_untracked().map(|input| input.value()).unwrap_or_default()
}

/// A message for errors that belong to no single field.
#[component]
pub fn FormAlert(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    let message = move || error.with(|e| e.as_ref().filter(|e| e.fields().is_none()).map(ToString::to_string));
    view! {
        <div class="alert" role="alert" aria-live="assertive" hidden=move || message().is_none()>
            {message}
        </div>
    }
}

#[component]
pub fn SubmitButton(
    #[prop(into)] pending: Signal<bool>,
    label: &'static str,
    pending_label: &'static str,
) -> impl IntoView {
    view! {
        <button
            type="submit"
            class="button button-primary"
            disabled=move || pending.get()
            aria-busy=move || if pending.get() { "true" } else { "false" }
        >
            {move || if pending.get() { pending_label } else { label }}
        </button>
    }
}
