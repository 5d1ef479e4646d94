//! Secrets the server must read back (an authenticator app's shared secret), kept
//! encrypted at rest with XChaCha20-Poly1305 under `ROSTER_SECRET_KEY`. A copy of the
//! database alone gives none of them away.
//!
//! A sealed value reads `v1.<key id>.<hex of nonce and ciphertext>`: the key id (the
//! first 4 bytes of the key's SHA-256) says which key sealed it, so a key can be
//! rotated: the new key becomes `ROSTER_SECRET_KEY`, the old one moves to
//! `ROSTER_SECRET_KEY_PREVIOUS` (values sealed with it still open), `roster secrets
//! rotate` seals everything again under the new key, and then the old one can go.
//! Each value is bound to its owner (the associated data), so a sealed secret copied
//! to another account's row does not open.

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The length of a key: 256 bits.
pub const KEY_BYTES: usize = 32;
const VERSION: &str = "v1";
const NONCE_BYTES: usize = 24;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretBoxError {
    #[error("a secret key must be {} hex digits (256 bits); `openssl rand -hex 32` makes one", KEY_BYTES * 2)]
    BadKey,
    #[error("a sealed value is not in the v1.<key id>.<hex> form")]
    Malformed,
    #[error("sealed with key {0}, which is neither ROSTER_SECRET_KEY nor in ROSTER_SECRET_KEY_PREVIOUS")]
    UnknownKey(String),
    #[error("a sealed value does not open with its key: altered, or moved to another owner")]
    Forged,
}

/// One key and its id.
struct Key {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl Key {
    fn from_hex(hex_key: &str) -> Result<Self, SecretBoxError> {
        let bytes = hex::decode(hex_key.trim()).map_err(|_| SecretBoxError::BadKey)?;
        if bytes.len() != KEY_BYTES {
            return Err(SecretBoxError::BadKey);
        }
        let id = hex::encode(&Sha256::digest(&bytes)[..4]);
        let cipher = XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| SecretBoxError::BadKey)?;
        Ok(Self { id, cipher })
    }
}

/// The current key (which seals) and the previous ones (which only open).
#[derive(Clone)]
pub struct SecretBox {
    keys: Arc<Vec<Key>>,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        write!(f, "SecretBox(key ids {ids:?})")
    }
}

/// A fresh random key, as hex: what development generates into `data/`.
pub fn generate_key_hex() -> String {
    hex::encode(XChaCha20Poly1305::generate_key(&mut OsRng))
}

impl SecretBox {
    /// `current` seals; `previous` (oldest last or first, it does not matter) only open.
    pub fn new(current: &str, previous: &[String]) -> Result<Self, SecretBoxError> {
        let mut keys = vec![Key::from_hex(current)?];
        for key in previous {
            keys.push(Key::from_hex(key)?);
        }
        Ok(Self { keys: Arc::new(keys) })
    }

    /// The id of the key that seals, as sealed values name it.
    pub fn current_key_id(&self) -> &str {
        &self.keys[0].id
    }

    /// Encrypts `plaintext` for `owner` under the current key, with a random nonce.
    pub fn seal(&self, plaintext: &[u8], owner: &[u8]) -> String {
        let key = &self.keys[0];
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = key
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: owner,
                },
            )
            .expect("XChaCha20-Poly1305 encrypts any message under 256 GiB");
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        format!("{VERSION}.{}.{}", key.id, hex::encode(sealed))
    }

    /// Decrypts a value `seal` made for `owner`, with whichever known key sealed it.
    pub fn open(&self, sealed: &str, owner: &[u8]) -> Result<Vec<u8>, SecretBoxError> {
        let (key_id, bytes) = parse(sealed)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.id == key_id)
            .ok_or_else(|| SecretBoxError::UnknownKey(key_id.to_owned()))?;
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        key.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: owner,
                },
            )
            .map_err(|_| SecretBoxError::Forged)
    }

    /// Whether a sealed value was sealed by an older key (`roster secrets rotate`
    /// seals it again).
    pub fn is_sealed_with_old_key(&self, sealed: &str) -> bool {
        parse(sealed).is_ok_and(|(key_id, _)| key_id != self.current_key_id())
    }
}

fn parse(sealed: &str) -> Result<(&str, Vec<u8>), SecretBoxError> {
    let mut parts = sealed.splitn(3, '.');
    let (Some(VERSION), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(SecretBoxError::Malformed);
    };
    let bytes = hex::decode(body).map_err(|_| SecretBoxError::Malformed)?;
    // A nonce and at least a tag (an empty message seals to its tag alone).
    if bytes.len() < NONCE_BYTES + 16 {
        return Err(SecretBoxError::Malformed);
    }
    Ok((key_id, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> String {
        hex::encode([byte; KEY_BYTES])
    }

    #[test]
    fn a_sealed_secret_opens_for_its_owner_only() {
        let secrets = SecretBox::new(&key(1), &[]).unwrap();
        let sealed = secrets.seal(b"JBSWY3DPEHPK3PXP", b"user-a");
        assert!(
            sealed.starts_with(&format!("v1.{}.", secrets.current_key_id())),
            "{sealed}"
        );
        assert!(!sealed.contains("JBSWY3DP"), "never in the clear");
        assert_eq!(secrets.open(&sealed, b"user-a").unwrap(), b"JBSWY3DPEHPK3PXP");
        assert_eq!(secrets.open(&sealed, b"user-b"), Err(SecretBoxError::Forged));
    }

    #[test]
    fn the_same_secret_seals_differently_each_time() {
        let secrets = SecretBox::new(&key(1), &[]).unwrap();
        assert_ne!(secrets.seal(b"same", b"o"), secrets.seal(b"same", b"o"));
    }

    #[test]
    fn an_altered_value_does_not_open() {
        let secrets = SecretBox::new(&key(1), &[]).unwrap();
        let sealed = secrets.seal(b"secret", b"o");
        let last = sealed.chars().last().unwrap();
        let flipped = format!("{}{}", &sealed[..sealed.len() - 1], if last == '0' { '1' } else { '0' });
        assert_eq!(secrets.open(&flipped, b"o"), Err(SecretBoxError::Forged));
        assert_eq!(secrets.open("v1.abcd.zz", b"o"), Err(SecretBoxError::Malformed));
        assert_eq!(secrets.open("v2.abcd.00", b"o"), Err(SecretBoxError::Malformed));
        assert_eq!(secrets.open(&sealed[..20], b"o"), Err(SecretBoxError::Malformed));
    }

    #[test]
    fn after_rotation_old_values_open_with_the_previous_key_until_it_is_dropped() {
        let old = SecretBox::new(&key(1), &[]).unwrap();
        let sealed_before = old.seal(b"secret", b"o");
        let rotated = SecretBox::new(&key(2), &[key(1)]).unwrap();
        assert_eq!(rotated.open(&sealed_before, b"o").unwrap(), b"secret");
        assert!(rotated.is_sealed_with_old_key(&sealed_before));
        let resealed = rotated.seal(b"secret", b"o");
        assert!(!rotated.is_sealed_with_old_key(&resealed));
        let only_new = SecretBox::new(&key(2), &[]).unwrap();
        assert_eq!(only_new.open(&resealed, b"o").unwrap(), b"secret");
        assert_eq!(
            only_new.open(&sealed_before, b"o"),
            Err(SecretBoxError::UnknownKey(old.current_key_id().to_owned()))
        );
    }

    #[test]
    fn keys_must_be_256_bits_of_hex() {
        assert!(SecretBox::new(&generate_key_hex(), &[]).is_ok());
        assert_eq!(SecretBox::new("abcd", &[]).unwrap_err(), SecretBoxError::BadKey);
        assert_eq!(
            SecretBox::new(&"g".repeat(64), &[]).unwrap_err(),
            SecretBoxError::BadKey
        );
        assert_eq!(
            SecretBox::new(&key(1), &["short".into()]).unwrap_err(),
            SecretBoxError::BadKey
        );
    }
}
