//! /admin/users/{id}: one account, whole: who it is, its role and state, every
//! action an administrator may take on it, where it is signed in (each session
//! can be ended), and what it did or had done to it lately. Every action is a
//! plain form, so the page works before (and without) WebAssembly; hydrated, the
//! page refreshes itself after each.

use super::audit::AuditTable;
use super::{AdminNav, AdminOnly};
use crate::components::field::Field;
use crate::components::form::{FormAlert, LoadError};
use crate::error::AppError;
use crate::model::{Role, SessionInfo, User, UserDetail};
use crate::paths;
use crate::server_fns::admin::{ApproveUser, RejectUser};
use crate::server_fns::impersonation::Impersonate;
use crate::server_fns::security::Reauthenticate;
use crate::server_fns::users::{
    DeleteUser, EndUserSession, EndUserSessions, ResetSecondFactors, UpdateUser, admin_user_detail,
};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

#[component]
pub fn AdminUserPage() -> impl IntoView {
    view! {
        <Title text="User" />
        <Meta name="description" content="Roster administration: one account, its sessions and its activity." />
        <AdminOnly content=|me| view! { <AdminNav current=paths::ADMIN_USERS /> <UserPage me /> } />
    }
}

/// The actions of this page; the account is read again after any of them.
#[derive(Clone, Copy)]
struct Actions {
    update: ServerAction<UpdateUser>,
    end_one: ServerAction<EndUserSession>,
    end_all: ServerAction<EndUserSessions>,
    reset: ServerAction<ResetSecondFactors>,
    delete: ServerAction<DeleteUser>,
    approve: ServerAction<ApproveUser>,
    reject: ServerAction<RejectUser>,
    prove: ServerAction<Reauthenticate>,
    /// A plain form (a whole page loads after it); here for its refusals.
    impersonate: ServerAction<Impersonate>,
}

impl Actions {
    fn new() -> Self {
        Self {
            update: ServerAction::new(),
            end_one: ServerAction::new(),
            end_all: ServerAction::new(),
            reset: ServerAction::new(),
            delete: ServerAction::new(),
            approve: ServerAction::new(),
            reject: ServerAction::new(),
            prove: ServerAction::new(),
            impersonate: ServerAction::new(),
        }
    }

    /// Changes with every answer to any of them.
    fn versions(&self) -> [usize; 8] {
        [
            self.update.version().get(),
            self.end_one.version().get(),
            self.end_all.version().get(),
            self.reset.version().get(),
            self.delete.version().get(),
            self.approve.version().get(),
            self.reject.version().get(),
            self.prove.version().get(),
        ]
    }

    /// The newest refusal among them (each read every time, so each is tracked).
    fn error(&self) -> Option<AppError> {
        let errors = [
            self.update.value().get().and_then(Result::err),
            self.end_one.value().get().and_then(Result::err),
            self.end_all.value().get().and_then(Result::err),
            self.reset.value().get().and_then(Result::err),
            self.delete.value().get().and_then(Result::err),
            self.approve.value().get().and_then(Result::err),
            self.reject.value().get().and_then(Result::err),
            self.impersonate.value().get().and_then(Result::err),
        ];
        errors.into_iter().flatten().next()
    }
}

#[component]
fn UserPage(me: User) -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|raw| Uuid::try_parse(&raw).ok());
    let actions = Actions::new();
    let detail = Resource::new(
        move || (id(), actions.versions()),
        |(id, _)| async move {
            match id {
                Some(id) => admin_user_detail(id).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    view! {
        <p><a href=paths::ADMIN_USERS>"← All users"</a></p>
        <Transition fallback=|| view! { <p class="muted">"Loading the account…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => view! { <Account detail me=me.id actions /> }.into_any(),
                    Err(AppError::NotFound) => view! {
                        <section class="card">
                            <h1>"No such account"</h1>
                            <p>"It may have been deleted. " <a href=paths::ADMIN_USERS>"Back to all users"</a></p>
                        </section>
                    }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Account(detail: UserDetail, me: Uuid, actions: Actions) -> impl IntoView {
    let UserDetail {
        user,
        sessions,
        activity,
        more_activity,
    } = detail;
    let is_me = user.id == me;
    let error = Signal::derive(move || actions.error());
    let asked_for_proof = Signal::derive(move || {
        let asked = matches!(error.get(), Some(AppError::ReauthenticationRequired));
        asked || actions.prove.value().get().is_some_and(|r| r.is_err())
    });
    let every_event = format!("{}?user={}", paths::ADMIN_AUDIT, user.id);
    view! {
        <div class="admin-columns">
            <section class="card" aria-labelledby="user-title">
                <h1 id="user-title">{user.name.clone()}</h1>
                <Facts user=user.clone() />
            </section>
            <section class="card" aria-labelledby="actions-title">
                <h2 id="actions-title">"Actions"</h2>
                // Field errors are shown beside their fields.
                <FormAlert error=Signal::derive(move || error.get().filter(|e| !matches!(e, AppError::ReauthenticationRequired))) />
                <Show when=move || asked_for_proof.get()>
                    <ProofForm prove=actions.prove />
                </Show>
                <AccountActions user=user.clone() is_me actions />
            </section>
        </div>
        <section class="card card-wide" aria-labelledby="sessions-title" id="sessions">
            <h2 id="sessions-title">{format!("Signed in ({})", sessions.len())}</h2>
            <Sessions user=user.id sessions actions />
        </section>
        <section class="card card-wide" aria-labelledby="activity-title">
            <div class="card-heading">
                <h2 id="activity-title">"Recent activity"</h2>
                {more_activity.then(|| view! { <a href=every_event.clone()>"Every event"</a> })}
            </div>
            <AuditTable events=activity />
        </section>
    }
}

#[component]
fn Facts(user: User) -> impl IntoView {
    let state = if user.approval_pending {
        "waiting for approval"
    } else if user.disabled {
        "disabled"
    } else {
        "active"
    };
    let role = match user.role_expires_at {
        Some(until) => format!("{} until {}", user.role.as_str(), until.format("%Y-%m-%d %H:%M UTC")),
        None => user.role.as_str().to_owned(),
    };
    view! {
        <dl class="facts" data-testid="user-facts">
            <dt>"Email"</dt>
            <dd>{user.email.clone()}</dd>
            <dt>"Address"</dt>
            <dd>{if user.email_verified { "confirmed" } else { "not confirmed" }}</dd>
            <dt>"Role"</dt>
            <dd data-testid="user-role">{role}</dd>
            <dt>"State"</dt>
            <dd data-testid="user-state">{state}</dd>
            <dt>"Created"</dt>
            <dd><time datetime=user.created_at.to_rfc3339()>{user.created_at.format("%Y-%m-%d %H:%M UTC").to_string()}</time></dd>
            <dt>"Id"</dt>
            <dd><code>{user.id.to_string()}</code></dd>
        </dl>
    }
}

/// Every change an administrator may make to the account, each its own form.
#[component]
fn AccountActions(user: User, is_me: bool, actions: Actions) -> impl IntoView {
    let id = user.id;
    let other_role = match user.role {
        Role::Admin => Role::User,
        Role::User => Role::Admin,
    };
    let flag = |on: bool| if on { "true" } else { "false" };
    let (name, email) = (user.name.clone(), user.email.clone());
    let field_error = move |name: &'static str| {
        Signal::derive(move || {
            actions
                .update
                .value()
                .get()
                .and_then(Result::err)
                .and_then(|e| e.field(name))
        })
    };
    view! {
        <div class="admin-actions">
            <div>
                <h3>"Name and address"</h3>
                <ActionForm action=actions.update>
                    <input type="hidden" name="id" value=id.to_string() />
                    <Field id="admin-user-name" name="name" label="Name" autocomplete="off" value=name
                        node_ref=NodeRef::new() error=field_error("name") />
                    <Field id="admin-user-email" name="email" label="Email" kind="email" autocomplete="off"
                        value=email node_ref=NodeRef::new() error=field_error("email")
                        hint="A new address is unconfirmed until its owner follows the link mailed to it." />
                    <button type="submit" class="button">"Save name and address"</button>
                </ActionForm>
            </div>
            {user.approval_pending.then(|| view! {
                <div>
                    <h3>"Waiting for approval"</h3>
                    <ActionForm action=actions.approve>
                        <input type="hidden" name="id" value=id.to_string() />
                        <button type="submit" class="button button-primary">"Approve"</button>
                    </ActionForm>
                    <ActionForm action=actions.reject>
                        <input type="hidden" name="id" value=id.to_string() />
                        <button type="submit" class="button button-danger">"Reject and delete"</button>
                    </ActionForm>
                </div>
            })}
            <div>
                <h3>"Role"</h3>
                <ActionForm action=actions.update>
                    <input type="hidden" name="id" value=id.to_string() />
                    <label class="toolbar-field">
                        "New role"
                        <select name="role">
                            <option value=other_role.as_str() selected=true>{other_role.as_str()}</option>
                            <option value=user.role.as_str()>{user.role.as_str()}</option>
                        </select>
                    </label>
                    <label class="toolbar-field">
                        "For"
                        <select name="role_for_hours">
                            <option value="0">"good"</option>
                            <option value="1">"1 hour"</option>
                            <option value="24">"1 day"</option>
                            <option value="168">"7 days"</option>
                            <option value="720">"30 days"</option>
                        </select>
                    </label>
                    <button type="submit" class="button">"Change role"</button>
                </ActionForm>
            </div>
            <div>
                <h3>"Access"</h3>
                <ActionForm action=actions.update>
                    <input type="hidden" name="id" value=id.to_string() />
                    <input type="hidden" name="disabled" value=flag(!user.disabled) />
                    <button type="submit" class="button">
                        {if user.disabled { "Enable the account" } else { "Disable the account" }}
                    </button>
                </ActionForm>
                <ActionForm action=actions.update>
                    <input type="hidden" name="id" value=id.to_string() />
                    <input type="hidden" name="email_verified" value=flag(!user.email_verified) />
                    <button type="submit" class="button">
                        {if user.email_verified { "Mark the address not confirmed" } else { "Mark the address confirmed" }}
                    </button>
                </ActionForm>
                <ActionForm action=actions.end_all>
                    <input type="hidden" name="id" value=id.to_string() />
                    <button type="submit" class="button">"Sign out everywhere"</button>
                </ActionForm>
                <ActionForm action=actions.reset>
                    <input type="hidden" name="id" value=id.to_string() />
                    <button type="submit" class="button"
                        title="Remove the authenticator app, passkeys and recovery codes (the user is mailed)">
                        "Reset second factors"
                    </button>
                </ActionForm>
            </div>
            {(!is_me && user.role != Role::Admin && !user.disabled && !user.approval_pending).then(|| view! {
                <div>
                    <h3>"View as"</h3>
                    <p class="muted">"See the site as this account does, for 30 minutes, without changing anything. The account's owner sees that you did."</p>
                    // A plain form: who is signed in changes, so a whole page loads.
                    <form method="post" action=Impersonate::PATH>
                        <input type="hidden" name="id" value=id.to_string() />
                        <button type="submit" class="button">{format!("View as {}", user.name)}</button>
                    </form>
                </div>
            })}
            {(!is_me).then(|| view! {
                <div class="danger-zone">
                    <h3>"Delete"</h3>
                    <ActionForm action=actions.delete>
                        <input type="hidden" name="id" value=id.to_string() />
                        <input type="hidden" name="then_list" value="true" />
                        <label class="toolbar-check">
                            <input type="checkbox" required />
                            {format!("Yes, delete {} and everything of theirs", user.email)}
                        </label>
                        <button type="submit" class="button button-danger">"Delete the account"</button>
                    </ActionForm>
                </div>
            })}
        </div>
    }
}

/// A change needed a recent proof: the administrator's password, then they make
/// the change again (`stay`: no redirect, so a plain form post comes back here).
#[component]
fn ProofForm(prove: ServerAction<Reauthenticate>) -> impl IntoView {
    let failed = move || {
        prove
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.field("password").unwrap_or_else(|| e.to_string()))
    };
    let proven = move || matches!(prove.value().get(), Some(Ok(())));
    view! {
        <div class="notice" role="status" data-testid="proof-needed">
            <Show when=move || !proven() fallback=|| view! { <p>"Confirmed. Make the change again."</p> }>
                <p>"This change needs you to confirm it is you."</p>
                <ActionForm action=prove>
                    <input type="hidden" name="stay" value="true" />
                    <label class="toolbar-field">
                        "Your password"
                        <input type="password" name="password" autocomplete="current-password" />
                    </label>
                    <button type="submit" class="button">"Confirm"</button>
                    <span class="row-error" role="alert">{failed}</span>
                </ActionForm>
            </Show>
        </div>
    }
}

#[component]
fn Sessions(user: Uuid, sessions: Vec<SessionInfo>, actions: Actions) -> impl IntoView {
    if sessions.is_empty() {
        return view! { <p class="muted">"Not signed in anywhere."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Browser"</th>
                        <th scope="col">"IP"</th>
                        <th scope="col">"Signed in (UTC)"</th>
                        <th scope="col">"Last seen (UTC)"</th>
                        <th scope="col">"Ends (UTC)"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {sessions.into_iter().map(|s| {
                        let browser = crate::user_agent::describe(s.user_agent.as_deref());
                        let label = format!("Sign out the session from {browser}");
                        view! {
                            <tr data-testid="user-session">
                                <td>{browser} {s.current.then(|| view! { <span class="badge">"This one"</span> })}</td>
                                <td>{s.ip.unwrap_or_else(|| "—".into())}</td>
                                <td>{s.created_at.format("%Y-%m-%d %H:%M").to_string()}</td>
                                <td>{s.last_seen_at.format("%Y-%m-%d %H:%M").to_string()}</td>
                                <td>{s.expires_at.format("%Y-%m-%d %H:%M").to_string()}</td>
                                <td>
                                    <ActionForm action=actions.end_one>
                                        <input type="hidden" name="id" value=user.to_string() />
                                        <input type="hidden" name="session" value=s.id.to_string() />
                                        <button type="submit" class="button button-small" aria-label=label>"Sign out"</button>
                                    </ActionForm>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
