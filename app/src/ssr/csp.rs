//! The per-response nonce that lets the hydration script run under a CSP without
//! 'unsafe-inline'. The security middleware makes one per request and puts it in
//! the request's extensions; the shell hands it to Leptos.

use rand::RngCore;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CspNonce(String);

impl CspNonce {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 16];
        // The thread's CSPRNG (seeded from the OS): no system call per response.
        rand::thread_rng().fill_bytes(&mut bytes);
        Self(hex::encode(bytes))
    }

    pub fn value(&self) -> &str {
        &self.0
    }

    /// Makes this request's nonce the one Leptos puts on its inline scripts.
    pub fn provide_for_render() {
        use leptos::prelude::{provide_context, use_context};
        if let Some(nonce) = use_context::<http::request::Parts>().and_then(|p| p.extensions.get::<Self>().cloned()) {
            provide_context(leptos::nonce::Nonce::from_value(nonce.0));
        }
    }
}
