//! The banner on every page while an administrator views the site as a user
//! ("view as"): whom, until when, and the one click back. "Back" is a plain form
//! post that loads a whole page, hydrated or not: who is signed in changes.

use crate::server_fns::impersonation::{EndImpersonation, current_impersonation};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

#[component]
pub fn ViewingAsBanner() -> impl IntoView {
    let viewing = Resource::new(|| (), |_| current_impersonation());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                viewing.await.ok().flatten().map(|info| {
                    let ends = info.ends_at.format("%H:%M UTC").to_string();
                    view! {
                        <aside class="viewing-as" aria-label="Viewing as another user" data-testid="viewing-as">
                            <p>
                                <strong>{format!("You are viewing as {} ({}).", info.user.name, info.user.email)}</strong>
                                " You can look, not change anything. This ends by itself at "
                                <time datetime=info.ends_at.to_rfc3339()>{ends}</time> "."
                            </p>
                            <form method="post" action=EndImpersonation::PATH>
                                <button type="submit" class="button button-small">
                                    {format!("Back to {}", info.admin_email)}
                                </button>
                            </form>
                        </aside>
                    }
                })
            })}
        </Transition>
    }
}
