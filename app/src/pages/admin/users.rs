//! /admin/users: every account, searchable and pageable, with create, role and
//! flag edits, and delete with confirmation. Admins only.

use super::AdminOnly;
use crate::components::field::Field;
use crate::components::form::{FormAlert, FormFields, LoadError, SubmitButton, action_error};
use crate::components::pager::{Pager, Paging};
use crate::model::{Role, User};
use crate::paths;
use crate::server_fns::users::{CreateUser, DeleteUser, UpdateUser, list_users};
use crate::validation::{CreateUserInput, RegisterInput};
use leptos::html;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::{Meta, Title};
use std::time::Duration;

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
        <section class="card card-wide" aria-labelledby="users-title">
            <h1 id="users-title">"Users"</h1>
            <p><a href=paths::ADMIN_AUDIT>"Audit log"</a></p>
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
            <Transition fallback=|| view! { <p class="muted">"Loading users…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => {
                            let next = page.next_cursor.clone();
                            let empty = page.items.is_empty();
                            view! {
                                <div class="table-wrap">
                                    <table id="users-table" class="table">
                                        <thead>
                                            <tr>
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
                                                view! { <UserRow user is_me on_change=Callback::new(move |_| refresh()) /> }
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
        <CreateUserForm on_created=Callback::new(move |_| { reset_paging(); refresh(); }) />
    }
}

#[component]
fn UserRow(user: User, is_me: bool, on_change: Callback<()>) -> impl IntoView {
    let update = ServerAction::<UpdateUser>::new();
    let delete = ServerAction::<DeleteUser>::new();
    let confirming = RwSignal::new(false);
    let id = user.id;
    Effect::new(move |_| {
        if matches!(update.value().get(), Some(Ok(_))) || matches!(delete.value().get(), Some(Ok(()))) {
            on_change.run(());
        }
    });
    let error = Signal::derive(move || {
        update
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| delete.value().get().and_then(Result::err))
    });
    let created = user.created_at.format("%Y-%m-%d %H:%M").to_string();
    let label = user.name.clone();
    let busy = move || update.pending().get() || delete.pending().get();
    view! {
        <tr data-testid="user-row" data-email=user.email.clone() aria-busy=move || if busy() { "true" } else { "false" }>
            <td>{user.name.clone()} {is_me.then(|| view! { <span class="badge">"You"</span> })}</td>
            <td>{user.email.clone()}</td>
            <td>
                <select aria-label=format!("Role of {label}") disabled=busy
                    on:change=move |ev| { update.dispatch(UpdateUser { id, role: Some(event_target_value(&ev)), disabled: None, email_verified: None }); }>
                    <option value="user" selected=user.role == Role::User>"user"</option>
                    <option value="admin" selected=user.role == Role::Admin>"admin"</option>
                </select>
            </td>
            <td>
                <input type="checkbox" aria-label=format!("{} disabled", user.name) checked=user.disabled disabled=busy
                    on:change=move |ev| { update.dispatch(UpdateUser { id, role: None, disabled: Some(event_target_checked(&ev)), email_verified: None }); } />
            </td>
            <td>
                <input type="checkbox" aria-label=format!("{} address confirmed", user.name) checked=user.email_verified disabled=busy
                    on:change=move |ev| { update.dispatch(UpdateUser { id, role: None, disabled: None, email_verified: Some(event_target_checked(&ev)) }); } />
            </td>
            <td><time datetime=user.created_at.to_rfc3339()>{created}</time></td>
            <td class="row-actions">
                <Show when=move || confirming.get() fallback=move || view! {
                    <button type="button" class="button button-small" on:click=move |_| confirming.set(true)>"Delete"</button>
                }>
                    <span role="group" aria-label="Confirm deletion">
                        <button type="button" class="button button-small button-danger" disabled=busy
                            on:click=move |_| { delete.dispatch(DeleteUser { id }); }>"Confirm delete"</button>
                        <button type="button" class="button button-small" on:click=move |_| confirming.set(false)>"Cancel"</button>
                    </span>
                </Show>
                <span class="row-error" role="alert">{move || error.get().map(|e| e.to_string())}</span>
            </td>
        </tr>
    }
}

#[component]
fn CreateUserForm(on_created: Callback<()>) -> impl IntoView {
    let action = ServerAction::<CreateUser>::new();
    let fields = FormFields::new(["name", "email", "password"]);
    let role = NodeRef::<html::Select>::new();
    let server = action_error(action);
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            fields.clear_values();
            on_created.run(());
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = CreateUserInput {
            account: RegisterInput {
                name: fields.value("name"),
                email: fields.value("email"),
                password: fields.value("password"),
            },
            role: role.get_untracked().map(|r| r.value()).unwrap_or_default(),
        };
        if fields.check(input.validate()).is_some() {
            let CreateUserInput { account, role } = input;
            action.dispatch(CreateUser {
                name: account.name,
                email: account.email,
                password: account.password,
                role,
            });
        }
    };
    let created = move || {
        action
            .value()
            .get()
            .and_then(Result::ok)
            .map(|u| format!("Created {}.", u.email))
    };
    view! {
        <section class="card" aria-labelledby="create-title">
            <h2 id="create-title">"Create a user"</h2>
            <FormAlert error=server />
            <p class="notice" role="status" hidden=move || created().is_none()>{created}</p>
            <form method="post" action=CreateUser::PATH on:submit=on_submit novalidate>
                <Field id="create-name" name="name" label="Name" autocomplete="off" node_ref=fields.input("name")
                    error=fields.error(server, "name") />
                <Field id="create-email" name="email" label="Email" kind="email" autocomplete="off"
                    node_ref=fields.input("email") error=fields.error(server, "email") />
                <Field id="create-password" name="password" label="Initial password" kind="password"
                    autocomplete="new-password" node_ref=fields.input("password")
                    error=fields.error(server, "password") />
                <div class="field">
                    <label for="create-role">"Role"</label>
                    <select id="create-role" name="role" node_ref=role>
                        <option value="user">"user"</option>
                        <option value="admin">"admin"</option>
                    </select>
                </div>
                <SubmitButton pending=action.pending() label="Create user" pending_label="Creating…" />
            </form>
        </section>
    }
}
