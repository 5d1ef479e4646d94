//! Who is signed in, as the pages see it: one resource for the whole app, refetched
//! whenever a sign-in, registration or sign-out completes.

use crate::error::AppError;
use crate::model::User;
use crate::server_fns::current_user;
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Session {
    pub user: Resource<Result<Option<User>, AppError>>,
    version: RwSignal<u32>,
}

impl Session {
    pub fn provide() -> Self {
        let version = RwSignal::new(0u32);
        let user = Resource::new(move || version.get(), |_| current_user());
        let session = Self { user, version };
        provide_context(session);
        session
    }

    pub fn expect() -> Self {
        expect_context::<Self>()
    }

    /// Call after anything that changes who is signed in.
    pub fn refresh(&self) {
        self.version.update(|v| *v = v.wrapping_add(1));
    }
}
