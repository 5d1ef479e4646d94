use leptos::prelude::*;
use leptos_meta::Title;

/// Rendered for any path no route matches, with a real 404 status.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found" />
        <section class="card">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. It may have moved, or the link may be mistyped."</p>
            <p>
                <a class="button" href=crate::paths::HOME>
                    "Go to the home page"
                </a>
            </p>
        </section>
    }
}
