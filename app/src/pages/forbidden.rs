use crate::paths;
use leptos::prelude::*;
use leptos_meta::Title;

/// Signed in but not allowed: a real 403.
#[component]
pub fn ForbiddenPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::FORBIDDEN);
    }
    view! {
        <Title text="Not allowed" />
        <section class="card">
            <h1>"Not allowed"</h1>
            <p>"This page is for administrators. If you need access, ask one of them."</p>
            <p><a class="button" href=paths::ACCOUNT>"Go to your account"</a></p>
        </section>
    }
}
