//! "View as" for the pages (`Impersonations`), under the same policy as
//! `/api/users/{id}/impersonate` and `/api/impersonation`. Starting and ending are
//! plain form posts that load a whole page afterwards: who is signed in changes,
//! and everything on the page with it.

use crate::error::AppError;
use crate::model::ImpersonationInfo;
use leptos::prelude::*;
use uuid::Uuid;

#[cfg(feature = "ssr")]
use crate::ssr::rpc::serve;

/// Begins viewing as the account, then shows its account page.
#[server(prefix = "/rpc", endpoint = "users/impersonate")]
pub async fn impersonate(id: Uuid) -> Result<(), AppError> {
    use crate::ssr::impersonation::VIEW_AS_LIFETIME;
    serve(|call| async move {
        let caller = call.caller().await?;
        let started = call.state.impersonations.start(&caller, id).await?;
        call.set_cookie(
            call.state
                .cookies
                .set_view_as(&started.token, VIEW_AS_LIFETIME.num_seconds()),
        );
        call.redirect(crate::paths::ACCOUNT);
        Ok(())
    })
    .await
}

/// Back to one's own account, on the page of the account that was viewed.
#[server(prefix = "/rpc", endpoint = "impersonation/end")]
pub async fn end_impersonation() -> Result<(), AppError> {
    serve(|call| async move {
        let caller = call.caller().await?;
        let viewed = call.state.impersonations.end(&caller).await?;
        call.set_cookie(call.state.cookies.clear_view_as());
        call.redirect(&crate::paths::admin_user(viewed));
        Ok(())
    })
    .await
}

/// Whom the caller views the site as, for the banner.
#[server(prefix = "/rpc", endpoint = "impersonation")]
pub async fn current_impersonation() -> Result<Option<ImpersonationInfo>, AppError> {
    serve(|call| async move {
        let caller = call.caller().await?;
        call.state.impersonations.info(&caller).await
    })
    .await
}
