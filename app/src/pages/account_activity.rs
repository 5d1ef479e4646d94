//! The account page's "Recent activity": what the account did and had done to it
//! (sign-ins and refused ones, changes, sessions ended, an administrator viewing as
//! it), newest first, ten at a time.

use crate::components::form::LoadError;
use crate::components::pager::{Pager, Paging};
use crate::model::AuditEvent;
use crate::server_fns::audit::my_activity;
use leptos::prelude::*;

#[component]
pub(super) fn RecentActivity() -> impl IntoView {
    let paging = Paging::new();
    let page = Resource::new(move || paging.cursor.get(), my_activity);
    view! {
        <section class="card" aria-labelledby="activity-title" id="activity">
            <h2 id="activity-title">"Recent activity"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => {
                            let next = page.next_cursor.clone();
                            view! {
                                <ul class="session-list" data-testid="activity">
                                    {page.items.into_iter().map(|event| view! { <ActivityLine event /> }).collect_view()}
                                </ul>
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
fn ActivityLine(event: AuditEvent) -> impl IntoView {
    let when = event.at.format("%-d %b %Y, %H:%M UTC").to_string();
    let by_someone_else = event.actor_id.is_some() && event.actor_id != event.target_id && event.target_id.is_some();
    let who = by_someone_else
        .then(|| event.actor_email.clone())
        .flatten()
        .map(|email| format!(" · by {email}"));
    view! {
        <li class="session" data-testid="activity-event" data-action=event.action.clone()>
            <div>
                <strong>{describe(&event.action)}</strong>
                <p class="muted">
                    <time datetime=event.at.to_rfc3339()>{when}</time>
                    {who}
                    {event.ip.map(|ip| format!(" · from {ip}"))}
                    {event.detail.map(|detail| format!(" · {detail}"))}
                </p>
            </div>
        </li>
    }
}

/// An event's name in words.
fn describe(action: &str) -> String {
    match action {
        "impersonation_started" => "An administrator began viewing the site as you".to_owned(),
        "impersonation_ended" => "The administrator stopped viewing as you".to_owned(),
        "sign_in" => "Signed in".to_owned(),
        "sign_in_failed" => "A sign-in was refused".to_owned(),
        "sign_out" => "Signed out".to_owned(),
        other => {
            let words = other.replace('_', " ");
            let mut chars = words.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn events_read_as_words() {
        assert_eq!(describe("password_changed"), "Password changed");
        assert_eq!(
            describe("impersonation_started"),
            "An administrator began viewing the site as you"
        );
        assert_eq!(describe(""), "");
    }
}
