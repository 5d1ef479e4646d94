use crate::session::Session;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn HomePage() -> impl IntoView {
    let session = Session::expect();
    view! {
        <Title text="Accounts, sessions and administration" />
        <section class="hero">
            <h1>"Roster"</h1>
            <p class="lead">
                "Accounts, sessions and administration in one fast, self-contained app. "
                "Works in the browser, over a JSON API, and on SQLite or PostgreSQL."
            </p>
            <Transition fallback=|| ()>
                {move || {
                    session
                        .user
                        .get()
                        .map(|result| match result {
                            Ok(Some(user)) => {
                                view! {
                                    <p class="actions">
                                        <a class="button button-primary" href="/account">
                                            {format!("Continue as {}", user.name)}
                                        </a>
                                    </p>
                                }
                                    .into_any()
                            }
                            _ => {
                                view! {
                                    <p class="actions">
                                        <a class="button button-primary" href="/register">
                                            "Create an account"
                                        </a>
                                        <a class="button" href="/login">
                                            "Sign in"
                                        </a>
                                    </p>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
        </section>
    }
}
