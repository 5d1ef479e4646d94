use crate::components::logout::LogoutButton;
use crate::session::Session;
use leptos::prelude::*;

#[component]
pub fn SiteHeader() -> impl IntoView {
    let session = Session::expect();
    view! {
        <header class="site-header">
            <nav aria-label="Main" class="nav">
                <a href="/" class="brand">
                    "Roster"
                </a>
                <div class="nav-links">
                    <Transition fallback=|| ()>
                        {move || {
                            session
                                .user
                                .get()
                                .map(|result| match result {
                                    Ok(Some(user)) => {
                                        let is_admin = user.role == crate::model::Role::Admin;
                                        view! {
                                            {is_admin.then(|| view! { <a href="/admin/users">"Admin"</a> })}
                                            <a href="/account" class="nav-user">
                                                {user.name}
                                            </a>
                                            <LogoutButton />
                                        }
                                            .into_any()
                                    }
                                    _ => {
                                        view! {
                                            <a href="/login">"Sign in"</a>
                                            <a href="/register" class="button button-small">
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
