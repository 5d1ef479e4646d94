//! Who is signed in, as the pages see it: one resource for the whole app,
//! refetched whenever a sign-in, registration or sign-out completes.

use crate::error::AppError;
use crate::model::User;
use crate::server_fns::auth::current_user;
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct SignedIn {
    pub user: Resource<Result<Option<User>, AppError>>,
    version: RwSignal<u32>,
}

impl SignedIn {
    pub fn provide() -> Self {
        let version = RwSignal::new(0u32);
        let user = Resource::new(move || version.get(), |_| current_user());
        let signed_in = Self { user, version };
        provide_context(signed_in);
        signed_in
    }

    pub fn expect() -> Self {
        expect_context::<Self>()
    }

    /// Who is signed in, once known: `Some(None)` when nobody is (or the check
    /// failed), `None` while the answer is still on its way.
    pub fn get(&self) -> Option<Option<User>> {
        self.user.get().map(|result| result.ok().flatten())
    }

    /// Call after anything that changes who is signed in.
    pub fn refresh(&self) {
        self.version.update(|v| *v = v.wrapping_add(1));
    }
}
