//! /admin/users: every account, searchable and pageable, with role and flag edits
//! in the row, resetting a user's second factors, delete with confirmation, and
//! one change to many selected rows (bulk). Each name leads to the account's own
//! page (`user_detail`), where everything also works without JavaScript. Admins
//! only. A change that needs a recent proof (a role, a reset) asks for the
//! administrator's password in the row, then makes the change.

use super::{AdminNav, AdminNoticeView, AdminOnly};
use crate::components::form::{FormAlert, LoadError};
use crate::components::pager::{Pager, Paging};
use crate::error::AppError;
use crate::model::{BulkUserAction, Role, User};
use crate::paths;
use crate::server_fns::admin::{ApproveUser, RejectUser, approval_queue, take_admin_notice};
use crate::server_fns::security::Reauthenticate;
use crate::server_fns::users::{BulkUsers, DeleteUser, ResetSecondFactors, UpdateUser, list_users};
use leptos::form::ActionForm;
use leptos::html;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use std::time::Duration;
use uuid::Uuid;

/// The form the rows' selection boxes belong to (they sit in the table, outside it).
const BULK_FORM: &str = "bulk-users";

const PAGE_SIZE: u32 = 20;
const SEARCH_DEBOUNCE: Duration = Duration::from_millis(250);

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    view! {
        <Title text="Users" />
        <Meta name="description" content="Roster administration: every account, searchable, with roles and status." />
        <AdminOnly content=|me| view! { <UserAdmin me /> } />
    }
}

#[component]
fn UserAdmin(me: User) -> impl IntoView {
    let search_text = RwSignal::new(String::new());
    let search = RwSignal::new(String::new());
    let role_filter = RwSignal::new(String::new());
    let disabled_filter = RwSignal::new(String::new());
    let paging = Paging::new();
    let version = RwSignal::new(0u32);
    let refresh = move || version.update(|v| *v += 1);
    let reset_paging = move || paging.reset();
    let selected = RwSignal::new(Vec::<Uuid>::new());
    let bulk = ServerAction::<BulkUsers>::new();
    // After a bulk action: a fresh page, nothing selected, and its report.
    Effect::new(move |_| {
        if bulk.version().get() > 0 && matches!(bulk.value().get(), Some(Ok(_))) {
            selected.set(Vec::new());
            refresh();
        }
    });
    let notice = Resource::new(move || bulk.version().get(), |_| take_admin_notice());

    let page = Resource::new(
        move || {
            (
                search.get(),
                role_filter.get(),
                disabled_filter.get(),
                paging.cursor.get(),
                version.get(),
            )
        },
        |(q, role, disabled, cursor, _)| {
            let disabled = match disabled.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            };
            list_users(Some(q), Some(role), disabled, cursor, Some(PAGE_SIZE))
        },
    );

    // Search as you type, without a request per keystroke.
    let pending_search = StoredValue::new(None::<leptos::prelude::TimeoutHandle>);
    let on_search = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        search_text.set(value.clone());
        if let Some(handle) = pending_search.get_value() {
            handle.clear();
        }
        let handle = set_timeout_with_handle(
            move || {
                reset_paging();
                search.set(value);
            },
            SEARCH_DEBOUNCE,
        )
        .ok();
        pending_search.set_value(handle);
    };

    view! {
        <AdminNav current=paths::ADMIN_USERS />
        <ApprovalQueue on_change=Callback::new(move |_| refresh()) />
        <section class="card card-wide" aria-labelledby="users-title">
            <div class="card-heading">
                <h1 id="users-title">"Users"</h1>
                <a class="button button-primary" href=paths::ADMIN_USER_NEW>"New user"</a>
            </div>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    notice.await.ok().flatten().map(|notice| view! { <AdminNoticeView notice /> })
                })}
            </Transition>
            <div class="toolbar" role="search">
                <label class="toolbar-field">
                    "Search"
                    <input type="search" placeholder="Name or email" prop:value=search_text on:input=on_search
                        aria-controls="users-table" />
                </label>
                <label class="toolbar-field">
                    "Filter by role"
                    <select on:change=move |ev| { reset_paging(); role_filter.set(event_target_value(&ev)); }>
                        <option value="">"All roles"</option>
                        <option value="user">"Users"</option>
                        <option value="admin">"Admins"</option>
                    </select>
                </label>
                <label class="toolbar-field">
                    "Filter by status"
                    <select on:change=move |ev| { reset_paging(); disabled_filter.set(event_target_value(&ev)); }>
                        <option value="">"Any status"</option>
                        <option value="no">"Active"</option>
                        <option value="yes">"Disabled"</option>
                    </select>
                </label>
            </div>
            <BulkBar action=bulk selected />
            <Transition fallback=|| view! { <p class="muted">"Loading users…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => {
                            let next = page.next_cursor.clone();
                            let empty = page.items.is_empty();
                            let on_page: Vec<Uuid> =
                                page.items.iter().filter(|u| u.id != me.id).map(|u| u.id).collect();
                            view! {
                                <div class="table-wrap">
                                    <table id="users-table" class="table">
                                        <thead>
                                            <tr>
                                                <th scope="col"><SelectAll on_page selected /></th>
                                                <th scope="col">"Name"</th>
                                                <th scope="col">"Email"</th>
                                                <th scope="col">"Role"</th>
                                                <th scope="col">"Disabled"</th>
                                                <th scope="col">"Address confirmed"</th>
                                                <th scope="col">"Created"</th>
                                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {page.items.into_iter().map(|user| {
                                                let is_me = user.id == me.id;
                                                view! { <UserRow user is_me selected on_change=Callback::new(move |_| refresh()) /> }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                                {empty.then(|| view! { <p class="muted">"No users match."</p> })}
                                <Pager paging next />
                            }.into_any()
                        }
                        Err(error) => view! { <LoadError error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// "With selected": an action, the one confirmation (a box to tick, which the
/// browser insists on with or without JavaScript), and the button. The rows'
/// boxes belong to this form through their `form` attribute.
#[component]
fn BulkBar(action: ServerAction<BulkUsers>, selected: RwSignal<Vec<Uuid>>) -> impl IntoView {
    let error = Signal::derive(move || {
        action.value().get().and_then(Result::err).map(|e| {
            e.field("ids")
                .or_else(|| e.field("confirmed"))
                .unwrap_or_else(|| e.to_string())
        })
    });
    let count = move || selected.with(Vec::len);
    // Each action is confirmed on its own: the box is cleared once one is done.
    let confirm = NodeRef::<html::Input>::new();
    Effect::new(move |_| {
        if action.version().get() > 0
            && let Some(input) = confirm.get_untracked()
        {
            input.set_checked(false);
        }
    });
    view! {
        <ActionForm action attr:id=BULK_FORM attr:class="toolbar bulk-bar" attr:aria-label="With the selected accounts">
            <label class="toolbar-field">
                "With selected"
                <select name="action">
                    {BulkUserAction::ALL.into_iter().map(|a| view! { <option value=a.as_str()>{a.label()}</option> }).collect_view()}
                </select>
            </label>
            <label class="toolbar-check">
                <input type="checkbox" name="confirmed" value="true" required node_ref=confirm />
                {move || match count() {
                    0 => "Yes, apply to the selected accounts".to_owned(),
                    1 => "Yes, apply to the 1 selected account".to_owned(),
                    n => format!("Yes, apply to the {n} selected accounts"),
                }}
            </label>
            <button type="submit" class="button" disabled=move || action.pending().get()>"Apply"</button>
            <span class="row-error" role="alert">{error}</span>
        </ActionForm>
    }
}

/// Selects or clears every row on this page (with JavaScript).
#[component]
fn SelectAll(on_page: Vec<Uuid>, selected: RwSignal<Vec<Uuid>>) -> impl IntoView {
    let all = on_page.clone();
    let every = move || !all.is_empty() && selected.with(|s| all.iter().all(|id| s.contains(id)));
    view! {
        <input type="checkbox" aria-label="Select every account on this page" prop:checked=every
            on:change=move |ev| {
                let on = event_target_checked(&ev);
                selected.update(|s| {
                    s.retain(|id| !on_page.contains(id));
                    if on {
                        s.extend(on_page.iter().copied());
                    }
                });
            } />
    }
}

#[component]
fn UserRow(user: User, is_me: bool, selected: RwSignal<Vec<Uuid>>, on_change: Callback<()>) -> impl IntoView {
    let update = ServerAction::<UpdateUser>::new();
    let delete = ServerAction::<DeleteUser>::new();
    let reset = ServerAction::<ResetSecondFactors>::new();
    let prove = ServerAction::<Reauthenticate>::new();
    let confirming = RwSignal::new(false);
    let id = user.id;
    // What waits for the administrator's proof, to be made once it is given.
    let waiting = StoredValue::new(None::<Waiting>);
    Effect::new(move |_| {
        // Both read every time (see `ApprovalQueue`).
        let updated = matches!(update.value().get(), Some(Ok(_)));
        let deleted = matches!(delete.value().get(), Some(Ok(())));
        if updated || deleted {
            on_change.run(());
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = prove.value().get() {
            match waiting.get_value() {
                Some(Waiting::Update(input)) => {
                    update.dispatch(input);
                }
                Some(Waiting::Reset) => {
                    reset.dispatch(ResetSecondFactors { id });
                }
                None => {}
            }
            waiting.set_value(None);
        }
    });
    let needs_proof = move || {
        let asked = |e: Option<AppError>| matches!(e, Some(AppError::ReauthenticationRequired));
        let answered = matches!(prove.value().get(), Some(Ok(())));
        !answered
            && (asked(update.value().get().and_then(Result::err)) || asked(reset.value().get().and_then(Result::err)))
            || prove.value().get().is_some_and(|r| r.is_err())
    };
    let error = Signal::derive(move || {
        update
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| delete.value().get().and_then(Result::err))
            .or_else(|| reset.value().get().and_then(Result::err))
            .filter(|e| !matches!(e, AppError::ReauthenticationRequired))
    });
    let reset_done = move || matches!(reset.value().get(), Some(Ok(())));
    let created = user.created_at.format("%Y-%m-%d %H:%M").to_string();
    let label = user.name.clone();
    let grant_label = user.name.clone();
    // How long a role chosen next lasts, in hours (0: for good).
    let grant_for = RwSignal::new(0i64);
    let grant_until = user
        .role_expires_at
        .map(|at| format!("until {}", at.format("%Y-%m-%d %H:%M UTC")));
    let busy = move || update.pending().get() || delete.pending().get() || reset.pending().get();
    let change = move |input: UpdateUser| {
        waiting.set_value(Some(Waiting::Update(input.clone())));
        prove.clear();
        update.dispatch(input);
    };
    view! {
        <tr data-testid="user-row" data-email=user.email.clone() aria-busy=move || if busy() { "true" } else { "false" }>
            <td>
                {(!is_me).then(|| view! {
                    <input type="checkbox" name="ids[]" value=id.to_string() form=BULK_FORM
                        aria-label=format!("Select {}", user.email)
                        prop:checked=move || selected.with(|s| s.contains(&id))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            selected.update(|s| {
                                s.retain(|x| *x != id);
                                if on {
                                    s.push(id);
                                }
                            });
                        } />
                })}
            </td>
            <td>
                <a href=paths::admin_user(id)>{user.name.clone()}</a>
                {is_me.then(|| view! { <span class="badge">"You"</span> })}
            </td>
            <td>{user.email.clone()}</td>
            <td>
                <select aria-label=format!("For how long {grant_label} gets a new role") class="grant-for"
                    on:change=move |ev| grant_for.set(event_target_value(&ev).parse().unwrap_or(0))>
                    <option value="0">"for good"</option>
                    <option value="1">"for 1 hour"</option>
                    <option value="24">"for 1 day"</option>
                    <option value="168">"for 7 days"</option>
                    <option value="720">"for 30 days"</option>
                </select>
                {grant_until.map(|until| view! { <span class="row-note" data-testid="role-until">{until}</span> })}
                <select aria-label=format!("Role of {label}") disabled=busy
                    on:change=move |ev| change(UpdateUser { id, name: None, email: None, role: Some(event_target_value(&ev)), disabled: None, email_verified: None, role_expires_at: grant_end(grant_for.get_untracked()), role_for_hours: None })>
                    <option value="user" selected=user.role == Role::User>"user"</option>
                    <option value="admin" selected=user.role == Role::Admin>"admin"</option>
                </select>
            </td>
            <td>
                <input type="checkbox" aria-label=format!("{} disabled", user.name) checked=user.disabled disabled=busy
                    on:change=move |ev| { update.dispatch(UpdateUser { id, name: None, email: None, role: None, disabled: Some(event_target_checked(&ev)), email_verified: None, role_expires_at: None, role_for_hours: None }); } />
            </td>
            <td>
                <input type="checkbox" aria-label=format!("{} address confirmed", user.name) checked=user.email_verified disabled=busy
                    on:change=move |ev| { update.dispatch(UpdateUser { id, name: None, email: None, role: None, disabled: None, email_verified: Some(event_target_checked(&ev)), role_expires_at: None, role_for_hours: None }); } />
            </td>
            <td><time datetime=user.created_at.to_rfc3339()>{created}</time></td>
            <td class="row-actions">
                <button type="button" class="button button-small" disabled=busy
                    title="Remove the authenticator app, passkeys and recovery codes (the user is mailed)"
                    on:click=move |_| {
                        waiting.set_value(Some(Waiting::Reset));
                        prove.clear();
                        reset.dispatch(ResetSecondFactors { id });
                    }>"Reset second factors"</button>
                <Show when=move || confirming.get() fallback=move || view! {
                    <button type="button" class="button button-small" on:click=move |_| confirming.set(true)>"Delete"</button>
                }>
                    <span role="group" aria-label="Confirm deletion">
                        <button type="button" class="button button-small button-danger" disabled=busy
                            on:click=move |_| { delete.dispatch(DeleteUser { id, then_list: None }); }>"Confirm delete"</button>
                        <button type="button" class="button button-small" on:click=move |_| confirming.set(false)>"Cancel"</button>
                    </span>
                </Show>
                <span class="row-note" role="status" hidden=move || !reset_done()>"Second factors reset."</span>
                <span class="row-error" role="alert">{move || error.get().map(|e| e.to_string())}</span>
                <Show when=needs_proof>
                    <RowProof prove />
                </Show>
            </td>
        </tr>
    }
}

/// A change the administrator asked for, waiting for their proof.
#[derive(Clone)]
enum Waiting {
    Update(UpdateUser),
    Reset,
}

/// The administrator's password, asked in the row when a change needs a recent proof.
#[component]
fn RowProof(prove: ServerAction<Reauthenticate>) -> impl IntoView {
    let password = NodeRef::<html::Input>::new();
    let failed = move || {
        prove
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.field("password").unwrap_or_else(|| e.to_string()))
    };
    Effect::new(move |_| {
        if let Some(input) = password.get() {
            let _ = input.focus();
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = password.get_untracked().map(|i| i.value()).unwrap_or_default();
        prove.dispatch(Reauthenticate {
            password: Some(typed),
            code: None,
            then: None,
            stay: Some(true),
        });
    };
    view! {
        <form class="row-proof" on:submit=on_submit data-testid="row-proof">
            <label>
                "Confirm it is you: your password "
                <input type="password" autocomplete="current-password" node_ref=password />
            </label>
            <button type="submit" class="button button-small">"Confirm"</button>
            <span class="row-error" role="alert">{failed}</span>
        </form>
    }
}

/// Accounts waiting for approval (`ROSTER_REGISTRATION=approval`), oldest first;
/// shown only while there are any.
#[component]
fn ApprovalQueue(on_change: Callback<()>) -> impl IntoView {
    let approve = ServerAction::<ApproveUser>::new();
    let reject = ServerAction::<RejectUser>::new();
    let version = RwSignal::new(0u32);
    Effect::new(move |_| {
        // Both read every time: with `||` the second would go untracked once the
        // first had succeeded, and a later rejection would never refresh the queue.
        let approved = matches!(approve.value().get(), Some(Ok(_)));
        let rejected = matches!(reject.value().get(), Some(Ok(())));
        if approved || rejected {
            version.update(|v| *v += 1);
            on_change.run(());
        }
    });
    let queue = Resource::new(move || version.get(), |_| approval_queue());
    let error = Signal::derive(move || {
        approve
            .value()
            .get()
            .and_then(|r| r.err())
            .or_else(|| reject.value().get().and_then(Result::err))
    });
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let waiting = queue.await.map(|page| page.items).unwrap_or_default();
                (!waiting.is_empty()).then(|| view! {
                    <section class="card card-wide" aria-labelledby="queue-title" data-testid="approval-queue">
                        <h2 id="queue-title">{format!("Waiting for approval ({})", waiting.len())}</h2>
                        <FormAlert error=error />
                        <ul class="queue">
                            {waiting.into_iter().map(|user| {
                                let (approve_id, reject_id) = (user.id.to_string(), user.id.to_string());
                                let approve_label = format!("Approve {}", user.email);
                                let reject_label = format!("Reject {}", user.email);
                                let since = user.created_at.format("%Y-%m-%d %H:%M").to_string();
                                view! {
                                    <li data-testid="waiting-user" data-email=user.email.clone()>
                                        <span><strong>{user.name.clone()}</strong> " " {user.email.clone()}
                                            <span class="muted">" registered " {since}</span></span>
                                        <span class="row-actions">
                                            <ActionForm action=approve>
                                                <input type="hidden" name="id" value=approve_id />
                                                <button type="submit" class="button button-small button-primary"
                                                    aria-label=approve_label>"Approve"</button>
                                            </ActionForm>
                                            <ActionForm action=reject>
                                                <input type="hidden" name="id" value=reject_id />
                                                <button type="submit" class="button button-small button-danger"
                                                    aria-label=reject_label>"Reject"</button>
                                            </ActionForm>
                                        </span>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </section>
                })
            })}
        </Transition>
    }
}

/// The end of a grant that lasts `hours` from now (RFC 3339), or none for good.
fn grant_end(hours: i64) -> Option<String> {
    (hours > 0).then(|| {
        (chrono::Utc::now() + chrono::Duration::hours(hours)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    })
}
