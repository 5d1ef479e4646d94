//! /admin/import: bring accounts in from another system. The file (CSV with a header
//! row, or JSON lines) is chosen or pasted; "Check only" reports every row that
//! would be refused, "Import" writes all of them or none. Password hashes from
//! Werkzeug/Flask, Django, bcrypt and argon2 keep working. Without JavaScript the
//! file is pasted into the text box (a browser reads a chosen file only with it).

use super::{AdminNav, AdminNoticeView, AdminOnly};
use crate::components::form::{FormAlert, action_error};
use crate::paths;
use crate::server_fns::admin::{ImportUsers, take_admin_notice};
use leptos::form::ActionForm;
use leptos::html;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};

#[component]
pub fn AdminImportPage() -> impl IntoView {
    view! {
        <Title text="Import accounts" />
        <Meta name="description" content="Roster administration: import accounts from another system." />
        <AdminOnly content=|_| view! { <Import /> } />
    }
}

#[component]
fn Import() -> impl IntoView {
    let import = ServerAction::<ImportUsers>::new();
    let version = RwSignal::new(0u32);
    Effect::new(move |_| {
        if import.value().get().is_some() {
            version.update(|v| *v += 1);
        }
    });
    let notice = Resource::new(move || version.get(), |_| take_admin_notice());
    // Errors other than a refused import (which the notice shows row by row).
    let error = Signal::derive(move || {
        action_error(import)
            .get()
            .filter(|e| !matches!(e, crate::error::AppError::ImportRefused { .. }))
    });
    let text = NodeRef::<html::Textarea>::new();
    let on_file = move |ev: leptos::ev::Event| {
        read_chosen_file(ev, text);
    };
    view! {
        <AdminNav current=paths::ADMIN_IMPORT />
        <section class="card card-wide" aria-labelledby="import-title">
            <h1 id="import-title">"Import accounts"</h1>
            <p>
                "A CSV file with a header row, or JSON lines, with the fields "
                <code>"email"</code>", "<code>"name"</code>", "<code>"role"</code>", "<code>"created_at"</code>", "
                <code>"password_hash"</code>" and "<code>"email_verified"</code>". Password hashes made by "
                "Werkzeug/Flask, Django, bcrypt (Devise) and argon2 keep working: each is replaced by Roster's own at "
                "the account's next sign-in. Every row is checked first; if one is refused, nothing is imported."
            </p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    notice.await.ok().flatten().map(|notice| view! { <AdminNoticeView notice /> })
                })}
            </Suspense>
            <FormAlert error=error />
            <ActionForm action=import>
                <div class="field">
                    <label for="import-choose">"Choose a file"</label>
                    <input id="import-choose" type="file" accept=".csv,.jsonl,.ndjson,.json,text/csv" on:change=on_file />
                </div>
                <div class="field">
                    <label for="import-file">"…or paste it here"</label>
                    <textarea id="import-file" name="file" rows="10" class="code-input" node_ref=text required
                        placeholder="email,name,role,created_at,password_hash"></textarea>
                </div>
                <div class="button-row">
                    <button type="submit" class="button" name="dry_run" value="true" disabled=move || import.pending().get()>
                        "Check only"
                    </button>
                    <button type="submit" class="button button-primary" disabled=move || import.pending().get()>
                        {move || if import.pending().get() { "Working…" } else { "Import" }}
                    </button>
                </div>
            </ActionForm>
        </section>
    }
}

/// Puts the chosen file's text into the text box (in the browser only).
#[allow(unused_variables)]
fn read_chosen_file(ev: leptos::ev::Event, text: NodeRef<html::Textarea>) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|files| files.get(0)) else {
            return;
        };
        leptos::task::spawn_local(async move {
            let promise = file.text();
            if let Ok(value) = wasm_bindgen_futures::JsFuture::from(promise).await
                && let (Some(content), Some(area)) = (value.as_string(), text.get_untracked())
            {
                area.set_value(&content);
            }
        });
    }
}
