//! What every form shares: its fields (inputs by name, in form order), the
//! messages the shared validation finds in the browser, the server's answer, and
//! keyboard focus on the first field in error.

use crate::error::AppError;
use crate::validation::FieldErrors;
use leptos::html;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// A form's text inputs and the browser's own messages about them.
#[derive(Clone, Copy)]
pub struct FormFields<const N: usize> {
    inputs: [(&'static str, NodeRef<html::Input>); N],
    /// Messages from the shared validation, run in the browser before sending.
    errors: RwSignal<FieldErrors>,
}

impl<const N: usize> FormFields<N> {
    /// The fields' names (equal to the server function's arguments), in form order.
    pub fn new(names: [&'static str; N]) -> Self {
        Self {
            inputs: names.map(|name| (name, NodeRef::new())),
            errors: RwSignal::new(FieldErrors::new()),
        }
    }

    pub fn input(&self, name: &str) -> NodeRef<html::Input> {
        self.inputs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, node)| *node)
            .unwrap_or_else(|| panic!("no field named {name} in this form"))
    }

    /// What is typed in a field now.
    pub fn value(&self, name: &str) -> String {
        input_value(self.input(name))
    }

    /// Takes the shared validation's verdict: on failure shows every message and
    /// focuses the first field in error; on success clears old messages.
    pub fn check<T>(&self, verdict: Result<T, FieldErrors>) -> Option<T> {
        match verdict {
            Ok(valid) => {
                self.errors.set(FieldErrors::new());
                Some(valid)
            }
            Err(errors) => {
                self.focus_first(&errors);
                self.errors.set(errors);
                None
            }
        }
    }

    /// Moves keyboard focus to the first field (in form order) that has an error,
    /// so screen-reader and keyboard users land on what needs fixing.
    pub fn focus_first(&self, errors: &FieldErrors) {
        if let Some((_, node)) = self.inputs.iter().find(|(name, _)| errors.contains_key(*name))
            && let Some(input) = node.get_untracked()
        {
            let _ = input.focus();
        }
    }

    /// The message for one field: the browser's own check wins, then the server's.
    pub fn error(&self, server: Signal<Option<AppError>>, name: &'static str) -> Signal<Option<String>> {
        let errors = self.errors;
        Signal::derive(move || {
            errors
                .with(|e| e.get(name).cloned())
                .or_else(|| server.with(|err| err.as_ref().and_then(|e| e.field(name))))
        })
    }

    /// Forgets a field's browser message once it is edited.
    pub fn clear_on_edit(&self, name: &'static str) -> Callback<()> {
        let errors = self.errors;
        Callback::new(move |_| {
            errors.update(|e| {
                e.remove(name);
            })
        })
    }

    /// Whether a field should take focus on load: the first one, in form order, that
    /// the server rejected (a form posted without WASM comes back with its errors).
    pub fn autofocus(&self, server: Signal<Option<AppError>>, name: &'static str) -> Signal<bool> {
        let names = self.inputs.map(|(n, _)| n);
        let first = Memo::new(move |_| {
            server.with(|err| {
                err.as_ref()
                    .and_then(|e| names.iter().copied().find(|f| e.field(f).is_some()))
            })
        });
        Signal::derive(move || first.get() == Some(name))
    }

    /// Empties every field (after a successful create or change).
    pub fn clear_values(&self) {
        for (_, node) in self.inputs {
            if let Some(input) = node.get_untracked() {
                input.set_value("");
            }
        }
    }
}

pub fn input_value(node: NodeRef<html::Input>) -> String {
    node.get_untracked().map(|input| input.value()).unwrap_or_default()
}

/// The error of a server action's last call, if it failed. A taken email is shown
/// on the email field, where it can be fixed.
pub fn action_error<S>(action: ServerAction<S>) -> Signal<Option<AppError>>
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Signal::derive(move || {
        action.value().get().and_then(Result::err).map(|err| match err {
            AppError::EmailTaken => AppError::invalid_field("email", err.to_string()),
            other => other,
        })
    })
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

/// What a section shows when its data could not be loaded.
#[component]
pub fn LoadError(error: AppError) -> impl IntoView {
    view! { <p class="alert" role="alert">{error.to_string()}</p> }
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
