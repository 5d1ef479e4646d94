//! /admin/invitations: invite an address to register (with the role it gets and
//! how long the link works), see every invitation's state, withdraw one. When no
//! mail server is configured the link is shown here once, to pass on. Every form is
//! a plain form too: after a post without JavaScript the page shows the same notice.

use super::{AdminNav, AdminNoticeView, AdminOnly};
use crate::components::form::{FormAlert, LoadError, SubmitButton, action_error};
use crate::model::{InvitationState, RegistrationMode};
use crate::paths;
use crate::server_fns::admin::{CreateInvitation, RevokeInvitation, list_invitations, take_admin_notice};
use crate::server_fns::auth::registration_context;
use crate::validation::{INVITATION_DEFAULT_DAYS, INVITATION_MAX_DAYS};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};

#[component]
pub fn AdminInvitationsPage() -> impl IntoView {
    view! {
        <Title text="Invitations" />
        <Meta name="description" content="Roster administration: invite people to register, and withdraw invitations." />
        <AdminOnly content=|_| view! { <Invitations /> } />
    }
}

#[component]
fn Invitations() -> impl IntoView {
    let create = ServerAction::<CreateInvitation>::new();
    let revoke = ServerAction::<RevokeInvitation>::new();
    let version = RwSignal::new(0u32);
    Effect::new(move |_| {
        // Both read every time: with `||` the second would go untracked once the
        // first had succeeded, and a withdrawal would never refresh the list.
        let created = matches!(create.value().get(), Some(Ok(_)));
        let revoked = matches!(revoke.value().get(), Some(Ok(_)));
        if created || revoked {
            version.update(|v| *v += 1);
        }
    });
    let page = Resource::new(move || version.get(), |_| list_invitations(None));
    let notice = Resource::new(move || version.get(), |_| take_admin_notice());
    let mode = Resource::new(|| (), |_| registration_context(None));
    let create_error = action_error(create);
    let revoke_error = action_error(revoke);
    view! {
        <AdminNav current=paths::ADMIN_INVITATIONS />
        <div class="admin-columns">
            <section class="card" aria-labelledby="invite-title">
                <h1 id="invite-title">"Invite someone"</h1>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        mode.await.ok().map(|context| {
                            let text = match context.mode {
                                RegistrationMode::Invite => "Registration here is by invitation only.",
                                RegistrationMode::Closed => "Registration is closed: invitation links do not work until ROSTER_REGISTRATION allows them.",
                                RegistrationMode::Approval => "Invited people skip the approval queue.",
                                RegistrationMode::Open => "Anyone may register here; an invitation also sets the role.",
                            };
                            view! { <p class="muted" data-testid="registration-mode">{text}</p> }
                        })
                    })}
                </Suspense>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        notice.await.ok().flatten().map(|notice| view! { <AdminNoticeView notice /> })
                    })}
                </Suspense>
                <FormAlert error=create_error />
                <ActionForm action=create>
                    <div class="field">
                        <label for="invite-email">"Email"</label>
                        <input id="invite-email" name="email" type="email" autocomplete="off" required />
                        <p class="field-error">{move || create_error.get().and_then(|e| e.field("email"))}</p>
                    </div>
                    <div class="field">
                        <label for="invite-role">"Role"</label>
                        <select id="invite-role" name="role">
                            <option value="user">"user"</option>
                            <option value="admin">"admin"</option>
                        </select>
                    </div>
                    <div class="field">
                        <label for="invite-days">"The link works for (days)"</label>
                        <input id="invite-days" name="expires_in_days" type="number" min="1"
                            max=INVITATION_MAX_DAYS.to_string() value=INVITATION_DEFAULT_DAYS.to_string() required />
                        <p class="field-error">{move || create_error.get().and_then(|e| e.field("expires_in_days"))}</p>
                    </div>
                    <SubmitButton pending=create.pending() label="Send invitation" pending_label="Inviting…" />
                </ActionForm>
            </section>
            <section class="card card-wide" aria-labelledby="invitations-title">
                <h2 id="invitations-title">"Invitations"</h2>
                <FormAlert error=revoke_error />
                <Transition fallback=|| view! { <p class="muted">"Loading invitations…"</p> }>
                    {move || Suspend::new(async move {
                        match page.await {
                            Ok(page) if page.items.is_empty() => view! {
                                <p class="muted">"No invitations yet."</p>
                            }.into_any(),
                            Ok(page) => view! {
                                <div class="table-wrap">
                                    <table class="table" data-testid="invitations">
                                        <thead>
                                            <tr>
                                                <th scope="col">"Email"</th>
                                                <th scope="col">"Role"</th>
                                                <th scope="col">"State"</th>
                                                <th scope="col">"Expires"</th>
                                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {page.items.into_iter().map(|invitation| {
                                                let open = invitation.state == InvitationState::Pending;
                                                let expires = invitation.expires_at.format("%Y-%m-%d %H:%M UTC").to_string();
                                                let label = format!("Withdraw the invitation for {}", invitation.email);
                                                view! {
                                                    <tr data-testid="invitation-row" data-email=invitation.email.clone()>
                                                        <td>{invitation.email.clone()}</td>
                                                        <td>{invitation.role.as_str()}</td>
                                                        <td><span class=format!("badge badge-{}", invitation.state.as_str())>{invitation.state.as_str()}</span></td>
                                                        <td><time datetime=invitation.expires_at.to_rfc3339()>{expires}</time></td>
                                                        <td class="row-actions">
                                                            {open.then(|| view! {
                                                                <ActionForm action=revoke>
                                                                    <input type="hidden" name="id" value=invitation.id.to_string() />
                                                                    <button type="submit" class="button button-small" aria-label=label>"Withdraw"</button>
                                                                </ActionForm>
                                                            })}
                                                        </td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            }.into_any(),
                            Err(error) => view! { <LoadError error /> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </div>
    }
}
