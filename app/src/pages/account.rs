use crate::components::logout::LogoutButton;
use crate::model::User;
use crate::session::Session;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

#[component]
pub fn AccountPage() -> impl IntoView {
    let session = Session::expect();
    view! {
        <Title text="Your account" />
        <Suspense fallback=|| view! { <p class="muted">"Loading your account…"</p> }>
            {move || Suspend::new(async move {
                match session.user.await {
                    Ok(Some(user)) => view! { <AccountDetails user /> }.into_any(),
                    Ok(None) => view! { <Redirect path="/login" /> }.into_any(),
                    Err(err) => view! { <p class="alert" role="alert">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AccountDetails(user: User) -> impl IntoView {
    let since = user.created_at.format("%-d %B %Y").to_string();
    view! {
        <section class="card" aria-labelledby="account-title">
            <h1 id="account-title">"Your account"</h1>
            <p class="lead">"Signed in as " <strong data-testid="account-name">{user.name.clone()}</strong></p>
            <dl class="details">
                <dt>"Name"</dt>
                <dd>{user.name}</dd>
                <dt>"Email"</dt>
                <dd data-testid="account-email">{user.email}</dd>
                <dt>"Role"</dt>
                <dd>{user.role.as_str()}</dd>
                <dt>"Member since"</dt>
                <dd>
                    <time datetime=user.created_at.to_rfc3339()>{since}</time>
                </dd>
            </dl>
            <LogoutButton />
        </section>
    }
}
