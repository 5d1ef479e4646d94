use crate::components::logout::LogoutButton;
use crate::model::Role;
use crate::paths;
use crate::signed_in::SignedIn;
use leptos::prelude::*;

#[component]
pub fn SiteHeader() -> impl IntoView {
    let signed_in = SignedIn::expect();
    view! {
        <header class="site-header">
            <nav aria-label="Main" class="nav">
                <a href=paths::HOME class="brand">
                    "Roster"
                </a>
                <div class="nav-links">
                    <Transition fallback=|| ()>
                        {move || {
                            signed_in
                                .get()
                                .map(|user| match user {
                                    Some(user) => {
                                        let is_admin = user.role == Role::Admin;
                                        view! {
                                            {is_admin.then(|| view! { <a href=paths::ADMIN>"Admin"</a> })}
                                            <a href=paths::ACCOUNT class="nav-user">
                                                {user.name}
                                            </a>
                                            <LogoutButton />
                                        }
                                            .into_any()
                                    }
                                    None => {
                                        view! {
                                            <a href=paths::LOGIN>"Sign in"</a>
                                            <a href=paths::REGISTER class="button button-small">
                                                "Create account"
                                            </a>
                                        }
                                            .into_any()
                                    }
                                })
                        }}
                    </Transition>
                </div>
            </nav>
        </header>
    }
}
