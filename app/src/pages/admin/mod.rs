//! The admin pages and their gate.

mod audit;
mod dashboard;
mod import;
mod invitations;
mod new_user;
mod user_detail;
mod users;

pub use audit::AdminAuditPage;
pub use dashboard::AdminDashboardPage;
pub use import::AdminImportPage;
pub use invitations::AdminInvitationsPage;
pub use new_user::AdminNewUserPage;
pub use user_detail::AdminUserPage;
pub use users::AdminUsersPage;

use crate::components::form::LoadError;
use crate::model::{AdminNotice, Role, User};
use crate::pages::forbidden::ForbiddenPage;
use crate::paths;
use crate::signed_in::SignedIn;
use leptos::prelude::*;
use leptos_router::components::Redirect;

/// Renders `content` for administrators only: signed-out visitors are sent to the
/// login page, everyone else gets the 403 page. (The server refuses the data anyway.)
#[component]
fn AdminOnly<F, V>(content: F) -> impl IntoView
where
    F: Fn(User) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let signed_in = SignedIn::expect();
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let content = content.clone();
                Suspend::new(async move {
                    match signed_in.user.await {
                        Ok(Some(user)) if user.role == Role::Admin => content(user).into_any(),
                        Ok(Some(_)) => view! { <ForbiddenPage /> }.into_any(),
                        Ok(None) => view! { <Redirect path=paths::LOGIN /> }.into_any(),
                        Err(error) => view! { <LoadError error /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// The admin area's navigation, on every admin page; `current` is marked for
/// screen readers and styled as the page one is on.
#[component]
fn AdminNav(current: &'static str) -> impl IntoView {
    let links = [
        (paths::ADMIN, "Dashboard"),
        (paths::ADMIN_USERS, "Users"),
        (paths::ADMIN_INVITATIONS, "Invitations"),
        (paths::ADMIN_IMPORT, "Import"),
        (paths::ADMIN_AUDIT, "Audit log"),
    ];
    view! {
        <nav class="admin-nav" aria-label="Administration">
            <ul>
                {links.into_iter().map(|(href, label)| {
                    let here = href == current;
                    view! {
                        <li>
                            <a href=href aria-current=here.then_some("page") class:current=here>{label}</a>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </nav>
    }
}

/// What an admin form just did: an invitation's link to pass on, or an import's report.
#[component]
fn AdminNoticeView(notice: AdminNotice) -> impl IntoView {
    match notice {
        AdminNotice::InvitationLink { email, link } => view! {
            <div class="notice" role="status" data-testid="invitation-link">
                <p>"No mail server is configured, so pass this link to " <strong>{email}</strong> " yourself. It is shown only now."</p>
                <p><input type="text" class="code-input" readonly value=link aria-label="Invitation link" /></p>
            </div>
        }
        .into_any(),
        AdminNotice::Import(report) => {
            let formats = report
                .hash_formats
                .iter()
                .map(|(format, count)| format!("{format}: {count}"))
                .collect::<Vec<_>>()
                .join(", ");
            let summary = match report.dry_run {
                true => format!(
                    "Checked {} rows: {} can be imported, {} would be refused.",
                    report.rows,
                    report.rows - report.refused.len() as u64,
                    report.refused.len()
                ),
                false => format!("Imported {} accounts.", report.imported),
            };
            view! {
                <div class="notice" role="status" data-testid="import-report">
                    <p>{summary}</p>
                    <p class="muted">"Password hashes: " {formats}</p>
                    <RefusedRows rows=report.refused more=0 />
                </div>
            }
            .into_any()
        }
        AdminNotice::Bulk {
            action,
            done,
            refused,
            refused_count,
        } => {
            let more = refused_count.saturating_sub(refused.len() as u64);
            let summary = format!(
                "{}: {done} account{} done, {refused_count} refused.",
                action.label(),
                if done == 1 { "" } else { "s" }
            );
            view! {
                <div class="notice" role="status" data-testid="bulk-report">
                    <p>{summary}</p>
                    {(!refused.is_empty()).then(|| view! {
                        <ul class="refused-rows">
                            {refused.into_iter().map(|r| view! {
                                <li>{r.email.unwrap_or_else(|| r.id.to_string())} ": " {r.message}</li>
                            }).collect_view()}
                        </ul>
                    })}
                    {(more > 0).then(|| view! { <p class="muted">{format!("…and {more} more.")}</p> })}
                </div>
            }
            .into_any()
        }
        AdminNotice::ImportRefused {
            rows,
            refused_count,
            refused,
        } => {
            let more = refused_count.saturating_sub(refused.len() as u64);
            view! {
                <div class="form-error" role="alert" data-testid="import-refused">
                    <p>{format!("{refused_count} of {rows} rows were refused; nothing was imported.")}</p>
                    <RefusedRows rows=refused more />
                </div>
            }
            .into_any()
        }
    }
}

#[component]
fn RefusedRows(rows: Vec<crate::model::RefusedRow>, more: u64) -> impl IntoView {
    (!rows.is_empty()).then(|| {
        view! {
            <ul class="refused-rows">
                {rows.into_iter().map(|row| view! {
                    <li>
                        {format!("Line {}", row.line)}
                        {row.email.map(|e| format!(" ({e})"))}
                        ": " {row.reason}
                    </li>
                }).collect_view()}
            </ul>
            {(more > 0).then(|| view! {
                <p class="muted">{format!("…and {more} more. `roster import --dry-run FILE` lists them all.")}</p>
            })}
        }
    })
}
