//! /admin/audit: the security events, newest first, filterable. Admins only.

use super::{AdminNav, AdminOnly};
use crate::components::form::LoadError;
use crate::components::pager::{Pager, Paging};
use crate::model::{AuditAction, AuditEvent};
use crate::server_fns::audit::list_audit;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};

#[component]
pub fn AdminAuditPage() -> impl IntoView {
    view! {
        <Title text="Audit log" />
        <Meta name="description" content="Roster administration: the security events, newest first." />
        <AdminOnly content=|_| view! { <AuditLogView /> } />
    }
}

#[component]
fn AuditLogView() -> impl IntoView {
    // `?user=ID` (the user page's "every event" link): one account's events.
    let user = leptos_router::hooks::use_query_map()
        .with_untracked(|query| query.get("user").and_then(|id| uuid::Uuid::parse_str(&id).ok()));
    let action = RwSignal::new(String::new());
    let search = RwSignal::new(String::new());
    let paging = Paging::new();
    let reset = move || paging.reset();
    let page = Resource::new(
        move || (action.get(), search.get(), paging.cursor.get()),
        move |(action, q, cursor)| list_audit(Some(action), Some(q), user, cursor),
    );
    view! {
        <AdminNav current=crate::paths::ADMIN_AUDIT />
        <section class="card card-wide" aria-labelledby="audit-title">
            <h1 id="audit-title">"Audit log"</h1>
            {user.map(|id| view! {
                <p class="notice" data-testid="audit-one-user">
                    "Only the events of one account ("
                    <a href=crate::paths::admin_user(id)>"its page"</a>
                    "). " <a href=crate::paths::ADMIN_AUDIT>"Show every event"</a>
                </p>
            })}
            <div class="toolbar" role="search">
                <label class="toolbar-field">
                    "Filter by action"
                    <select on:change=move |ev| {
                        reset();
                        action.set(event_target_value(&ev));
                    }>
                        <option value="">"All actions"</option>
                        {AuditAction::ALL
                            .into_iter()
                            .map(|a| view! { <option value=a.as_str()>{a.as_str().replace('_', " ")}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label class="toolbar-field">
                    "Email"
                    <input type="search" placeholder="Actor or target email" on:change=move |ev| {
                        reset();
                        search.set(event_target_value(&ev));
                    } />
                </label>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading events…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => {
                            let next = page.next_cursor.clone();
                            view! {
                                <AuditTable events=page.items />
                                <Pager paging next />
                            }
                                .into_any()
                        }
                        Err(error) => view! { <LoadError error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
pub(super) fn AuditTable(events: Vec<AuditEvent>) -> impl IntoView {
    let empty = events.is_empty();
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"When (UTC)"</th>
                        <th scope="col">"Action"</th>
                        <th scope="col">"Actor"</th>
                        <th scope="col">"Target"</th>
                        <th scope="col">"IP"</th>
                        <th scope="col">"Detail"</th>
                    </tr>
                </thead>
                <tbody>
                    {events
                        .into_iter()
                        .map(|e| {
                            view! {
                                <tr data-testid="audit-row" data-action=e.action.clone()>
                                    <td><time datetime=e.at.to_rfc3339()>{e.at.format("%Y-%m-%d %H:%M:%S").to_string()}</time></td>
                                    <td>{e.action.replace('_', " ")}</td>
                                    <td>{e.actor_email.unwrap_or_else(|| "—".into())}</td>
                                    <td>{e.target_email.unwrap_or_else(|| "—".into())}</td>
                                    <td>{e.ip.unwrap_or_else(|| "—".into())}</td>
                                    <td>{e.detail.unwrap_or_default()}</td>
                                </tr>
                            }
                                .into_any()
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        {empty.then(|| view! { <p class="muted">"No events match."</p> })}
    }
}
