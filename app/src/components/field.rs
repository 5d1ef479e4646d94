//! An accessible form field: a label, the input, and an error message tied to the
//! input with `aria-describedby` and flagged with `aria-invalid`.

use leptos::html;
use leptos::prelude::*;

#[component]
pub fn Field(
    /// The element id; the error message gets `{id}-error`.
    id: &'static str,
    /// The form field name, equal to the server function argument.
    name: &'static str,
    label: &'static str,
    #[prop(default = "text")] kind: &'static str,
    autocomplete: &'static str,
    /// The keyboard a phone shows (`numeric` for a code).
    #[prop(optional)]
    inputmode: Option<&'static str>,
    #[prop(into)] error: Signal<Option<String>>,
    node_ref: NodeRef<html::Input>,
    /// Focus this field on load (the first field with a server-reported error).
    #[prop(into, optional)]
    autofocus: Signal<bool>,
    #[prop(optional, into)] hint: Option<String>,
    /// The initial value (server-rendered, so it is there before hydration).
    #[prop(into, optional)]
    value: Option<String>,
    /// Shown but not editable (an invitation's address).
    #[prop(optional)]
    readonly: bool,
    /// Called when the user edits the field (to clear a stale error).
    #[prop(optional)]
    on_edit: Option<Callback<()>>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let has_error = move || error.with(Option::is_some);
    let has_hint = hint.is_some();
    let described_by = {
        let (error_id, hint_id) = (error_id.clone(), hint_id.clone());
        move || {
            let mut ids = Vec::new();
            if has_hint {
                ids.push(hint_id.clone());
            }
            if has_error() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field" class:field-invalid=has_error>
            <label for=id>{label}</label>
            {hint.map(|text| view! { <p class="field-hint" id=hint_id.clone()>{text}</p> })}
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                inputmode=inputmode
                node_ref=node_ref
                value=value
                readonly=readonly
                autofocus=move || autofocus.get()
                aria-invalid=move || if has_error() { "true" } else { "false" }
                aria-describedby=described_by
                on:input=move |_| {
                    if let Some(cb) = on_edit {
                        cb.run(());
                    }
                }
            />
            <p class="field-error" id=error_id>
                {move || error.get()}
            </p>
        </div>
    }
}
