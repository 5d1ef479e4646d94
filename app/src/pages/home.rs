use crate::paths;
use crate::signed_in::SignedIn;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};

#[component]
pub fn HomePage() -> impl IntoView {
    let signed_in = SignedIn::expect();
    view! {
        <Title text="Accounts, sessions and administration" />
        <Meta name="description" content="Roster: accounts, sessions and administration in one self-contained app, in the browser and over a JSON API." />
        <section class="hero">
            <h1>"Roster"</h1>
            <p class="lead">
                "Accounts, sessions and administration in one fast, self-contained app. "
                "Works in the browser, over a JSON API, and on SQLite or PostgreSQL."
            </p>
            <Transition fallback=|| ()>
                {move || {
                    signed_in
                        .get()
                        .map(|user| match user {
                            Some(user) => {
                                view! {
                                    <p class="actions">
                                        <a class="button button-primary" href=paths::ACCOUNT>
                                            {format!("Continue as {}", user.name)}
                                        </a>
                                    </p>
                                }
                                    .into_any()
                            }
                            None => {
                                view! {
                                    <p class="actions">
                                        <a class="button button-primary" href=paths::REGISTER>
                                            "Create an account"
                                        </a>
                                        <a class="button" href=paths::LOGIN>
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
