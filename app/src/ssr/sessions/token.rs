//! The session token: 256 random bits in the cookie, and the hash the store keys
//! sessions by. The token itself is never stored or logged.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// 256 random bits, hex-encoded for the cookie. Never stored or logged.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

impl SessionToken {
    pub const BYTES: usize = 32;

    pub fn generate() -> Self {
        let mut bytes = [0u8; Self::BYTES];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(hex::encode(bytes))
    }

    /// Accepts only the shape `generate` produces, so junk cookies cost no lookup.
    pub fn from_cookie(value: &str) -> Option<Self> {
        (value.len() == Self::BYTES * 2 && value.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self(value.to_ascii_lowercase()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the store keys sessions by. A plain SHA-256 suffices: the token has
    /// 256 bits of entropy, so there is nothing to brute-force.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_256_random_bits_and_differ() {
        let a = SessionToken::generate();
        let b = SessionToken::generate();
        assert_eq!(a.expose().len(), 64);
        assert_ne!(a, b);
    }

    #[test]
    fn the_stored_hash_is_not_the_token() {
        let t = SessionToken::generate();
        assert_ne!(t.hash(), t.expose());
        assert_eq!(t.hash(), t.hash(), "deterministic, so it can be looked up");
        assert_eq!(t.hash().len(), 64);
    }

    #[test]
    fn only_well_formed_cookie_values_parse() {
        let t = SessionToken::generate();
        assert_eq!(SessionToken::from_cookie(t.expose()), Some(t.clone()));
        assert!(SessionToken::from_cookie("short").is_none());
        assert!(SessionToken::from_cookie(&"z".repeat(64)).is_none());
        assert_eq!(
            format!("{t:?}"),
            "SessionToken(<redacted>)",
            "says what it is, never what it holds"
        );
    }
}
