//! Password hashes made by the systems people move in from, verified as they are
//! (`roster import` keeps them) until the account's next sign-in rehashes the
//! password to Roster's argon2id. Each format is checked with a well-kept RustCrypto
//! or bcrypt crate; the vectors in `server/tests/fixtures/legacy_hashes.json` were
//! made by the real Werkzeug, Django, bcrypt and argon2-cffi libraries.
//!
//! Work factors are bounded: an imported hash is verified on every sign-in attempt
//! until it is replaced, so a file naming 100 million PBKDF2 rounds would otherwise
//! let anyone with the address tie up the hashing threads.

use argon2::password_hash::PasswordHash;
use argon2::{Argon2, PasswordVerifier as _};
use sha2::Digest as _;

/// The most PBKDF2 rounds accepted (Django 5.1 uses 870,000).
pub const MAX_PBKDF2_ROUNDS: u32 = 2_000_000;
/// The largest scrypt cost accepted: N ≤ 2^17 (Werkzeug's default is 2^15), r ≤ 16, p ≤ 4.
pub const MAX_SCRYPT_LOG_N: u8 = 17;
/// The highest bcrypt cost accepted (Devise and Django default to 12).
pub const MAX_BCRYPT_COST: u32 = 15;
/// The most argon2 memory accepted, in KiB (Django uses 100 MiB).
pub const MAX_ARGON2_MEMORY_KIB: u32 = 262_144;
/// The most argon2 passes and lanes accepted (Django: t=2, p=8; argon2-cffi: t=3, p=4).
pub const MAX_ARGON2_PASSES: u32 = 10;
pub const MAX_ARGON2_LANES: u32 = 16;

/// A stored password hash, as recognised by its shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredHash {
    /// A PHC argon2 string: Roster's own, argon2-cffi's, or Django's with its
    /// `argon2` prefix removed.
    Argon2(String),
    /// Werkzeug/Flask `pbkdf2:sha256:ROUNDS$salt$hex` (also sha1 and sha512), or
    /// Django `pbkdf2_sha256$ROUNDS$salt$base64` (also `pbkdf2_sha1`).
    Pbkdf2 {
        digest: Pbkdf2Digest,
        rounds: u32,
        salt: String,
        expected: Vec<u8>,
    },
    /// Werkzeug/Flask `scrypt:N:r:p$salt$hex` (64 bytes of output).
    Scrypt {
        log_n: u8,
        r: u32,
        p: u32,
        salt: String,
        expected: Vec<u8>,
    },
    /// `$2a$`, `$2b$` or `$2y$` (bcrypt, Devise), or Django's `bcrypt_sha256$…`,
    /// which runs bcrypt over the hex SHA-256 of the password.
    Bcrypt { hash: String, prehash_sha256: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pbkdf2Digest {
    Sha1,
    Sha256,
    Sha512,
}

impl Pbkdf2Digest {
    /// Bytes of one digest: what Werkzeug and Django store.
    fn output_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha512 => 64,
        }
    }
}

impl StoredHash {
    /// What `stored` is, or why it is not a hash Roster can check.
    pub fn recognize(stored: &str) -> Result<Self, &'static str> {
        if stored.starts_with("$argon2") {
            return argon2_phc(stored);
        }
        if let Some(rest) = stored.strip_prefix("argon2$") {
            // Django: "argon2" then the PHC string without its leading '$'.
            return argon2_phc(&format!("${rest}"));
        }
        if let Some(rest) = stored.strip_prefix("bcrypt_sha256$") {
            return bcrypt(rest, true);
        }
        if stored.starts_with("$2a$") || stored.starts_with("$2b$") || stored.starts_with("$2y$") {
            return bcrypt(stored, false);
        }
        if let Some(rest) = stored.strip_prefix("pbkdf2:") {
            return werkzeug_pbkdf2(rest);
        }
        if let Some(rest) = stored.strip_prefix("scrypt:") {
            return werkzeug_scrypt(rest);
        }
        if let Some((algorithm, rest)) = stored.split_once('$') {
            let digest = match algorithm {
                "pbkdf2_sha256" => Some(Pbkdf2Digest::Sha256),
                "pbkdf2_sha1" => Some(Pbkdf2Digest::Sha1),
                _ => None,
            };
            if let Some(digest) = digest {
                return django_pbkdf2(digest, rest);
            }
        }
        Err("not a password hash format Roster knows (argon2, bcrypt, bcrypt_sha256, pbkdf2 or scrypt)")
    }

    /// Whether `password` is the one this hash was made from. Costs what the hash
    /// costs: run it off the async threads.
    pub fn verify(&self, password: &str) -> bool {
        match self {
            Self::Argon2(phc) => match PasswordHash::new(phc) {
                // The parameters come from the stored hash.
                Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
                Err(_) => false,
            },
            Self::Pbkdf2 {
                digest,
                rounds,
                salt,
                expected,
            } => {
                let mut out = vec![0u8; expected.len()];
                let (pw, salt) = (password.as_bytes(), salt.as_bytes());
                match digest {
                    Pbkdf2Digest::Sha1 => pbkdf2::pbkdf2_hmac::<sha1_v011::Sha1>(pw, salt, *rounds, &mut out),
                    Pbkdf2Digest::Sha256 => pbkdf2::pbkdf2_hmac::<pbkdf2::sha2::Sha256>(pw, salt, *rounds, &mut out),
                    Pbkdf2Digest::Sha512 => pbkdf2::pbkdf2_hmac::<pbkdf2::sha2::Sha512>(pw, salt, *rounds, &mut out),
                }
                constant_time_eq(&out, expected)
            }
            Self::Scrypt {
                log_n,
                r,
                p,
                salt,
                expected,
            } => {
                let Ok(params) = scrypt::Params::new(*log_n, *r, *p) else {
                    return false;
                };
                let mut out = vec![0u8; expected.len()];
                scrypt::scrypt(password.as_bytes(), salt.as_bytes(), &params, &mut out).is_ok()
                    && constant_time_eq(&out, expected)
            }
            Self::Bcrypt { hash, prehash_sha256 } => {
                let input = match prehash_sha256 {
                    true => hex::encode(sha2::Sha256::digest(password.as_bytes())),
                    false => password.to_owned(),
                };
                bcrypt::verify(input.as_bytes(), hash).unwrap_or(false)
            }
        }
    }

    /// The name an import report and the docs use for this format.
    pub fn format_name(&self) -> &'static str {
        match self {
            Self::Argon2(_) => "argon2",
            Self::Pbkdf2 { .. } => "pbkdf2",
            Self::Scrypt { .. } => "scrypt",
            Self::Bcrypt {
                prehash_sha256: true, ..
            } => "bcrypt_sha256",
            Self::Bcrypt { .. } => "bcrypt",
        }
    }
}

fn argon2_phc(phc: &str) -> Result<StoredHash, &'static str> {
    let parsed = PasswordHash::new(phc).map_err(|_| "not a valid argon2 hash")?;
    if !matches!(parsed.algorithm.as_str(), "argon2id" | "argon2i" | "argon2d") {
        return Err("not a valid argon2 hash");
    }
    let param = |name: &str| parsed.params.get_decimal(name).unwrap_or(0);
    if param("m") > MAX_ARGON2_MEMORY_KIB || param("t") > MAX_ARGON2_PASSES || param("p") > MAX_ARGON2_LANES {
        return Err("argon2 cost above the accepted limit");
    }
    // The output is what the verification computes: no more than a real hash has.
    if parsed.hash.is_some_and(|h| h.len() > 64) {
        return Err("not a valid argon2 hash");
    }
    Ok(StoredHash::Argon2(phc.to_owned()))
}

fn bcrypt(hash: &str, prehash_sha256: bool) -> Result<StoredHash, &'static str> {
    // $2b$12$ then 53 characters of salt and hash.
    let cost: u32 = hash
        .get(4..6)
        .and_then(|c| c.parse().ok())
        .ok_or("not a valid bcrypt hash")?;
    if hash.len() != 60 || hash.as_bytes()[6] != b'$' {
        return Err("not a valid bcrypt hash");
    }
    if cost > MAX_BCRYPT_COST {
        return Err("bcrypt cost above the accepted limit");
    }
    Ok(StoredHash::Bcrypt {
        hash: hash.to_owned(),
        prehash_sha256,
    })
}

/// `sha256:600000$salt$hex` (the part after `pbkdf2:`): Werkzeug writes the rounds
/// it used into the method.
fn werkzeug_pbkdf2(rest: &str) -> Result<StoredHash, &'static str> {
    const BAD: &str = "not a valid Werkzeug pbkdf2 hash";
    let (method, salt, hex_hash) = three_fields(rest).ok_or(BAD)?;
    let (digest_name, rounds) = method.split_once(':').ok_or(BAD)?;
    let digest = match digest_name {
        "sha1" => Pbkdf2Digest::Sha1,
        "sha256" => Pbkdf2Digest::Sha256,
        "sha512" => Pbkdf2Digest::Sha512,
        _ => return Err("a Werkzeug pbkdf2 digest other than sha1, sha256 or sha512"),
    };
    let rounds = parse_rounds(rounds)?;
    let expected = hex::decode(hex_hash).map_err(|_| BAD)?;
    // Werkzeug writes exactly one digest; a longer one would multiply the work.
    if expected.len() != digest.output_len() || salt.is_empty() {
        return Err(BAD);
    }
    Ok(StoredHash::Pbkdf2 {
        digest,
        rounds,
        salt: salt.to_owned(),
        expected,
    })
}

/// `N:r:p$salt$hex` (the part after `scrypt:`).
fn werkzeug_scrypt(rest: &str) -> Result<StoredHash, &'static str> {
    const BAD: &str = "not a valid Werkzeug scrypt hash";
    let (method, salt, hex_hash) = three_fields(rest).ok_or(BAD)?;
    let numbers: Vec<u64> = method
        .split(':')
        .map(|n| n.parse().map_err(|_| BAD))
        .collect::<Result<_, _>>()?;
    let [n, r, p] = numbers[..] else {
        return Err(BAD);
    };
    if n < 2 || !n.is_power_of_two() {
        return Err(BAD);
    }
    let log_n = n.trailing_zeros() as u8;
    if log_n > MAX_SCRYPT_LOG_N || !(1..=16).contains(&r) || !(1..=4).contains(&p) {
        return Err("scrypt cost above the accepted limit");
    }
    let expected = hex::decode(hex_hash).map_err(|_| BAD)?;
    if !(10..=64).contains(&expected.len()) || salt.is_empty() {
        return Err(BAD);
    }
    Ok(StoredHash::Scrypt {
        log_n,
        r: r as u32,
        p: p as u32,
        salt: salt.to_owned(),
        expected,
    })
}

/// `ROUNDS$salt$base64` (the part after `pbkdf2_sha256$`).
fn django_pbkdf2(digest: Pbkdf2Digest, rest: &str) -> Result<StoredHash, &'static str> {
    use base64::Engine as _;
    const BAD: &str = "not a valid Django pbkdf2 hash";
    let (rounds, salt, encoded) = three_fields(rest).ok_or(BAD)?;
    let rounds = parse_rounds(rounds)?;
    let expected = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| BAD)?;
    // Django writes exactly one digest; a longer one would multiply the work.
    if expected.len() != digest.output_len() || salt.is_empty() {
        return Err(BAD);
    }
    Ok(StoredHash::Pbkdf2 {
        digest,
        rounds,
        salt: salt.to_owned(),
        expected,
    })
}

/// `a$b$c`: the three `$`-separated fields these formats share (the last may hold `$`).
fn three_fields(rest: &str) -> Option<(&str, &str, &str)> {
    let mut parts = rest.splitn(3, '$');
    Some((parts.next()?, parts.next()?, parts.next()?))
}

fn parse_rounds(raw: &str) -> Result<u32, &'static str> {
    let rounds: u32 = raw.parse().map_err(|_| "pbkdf2 rounds are not a number")?;
    match rounds {
        0 => Err("pbkdf2 rounds are not a number"),
        r if r > MAX_PBKDF2_ROUNDS => Err("pbkdf2 rounds above the accepted limit"),
        r => Ok(r),
    }
}

/// Compares without stopping at the first difference.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_that_are_not_hashes_are_refused_with_a_reason() {
        for stored in ["", "plain text", "md5$abc$def", "pbkdf2:md5:1000$s$00", "$2b$99$x"] {
            assert!(StoredHash::recognize(stored).is_err(), "{stored}");
        }
        let too_many_rounds = format!("pbkdf2_sha256${}$salt$AAAA", MAX_PBKDF2_ROUNDS + 1);
        assert_eq!(
            StoredHash::recognize(&too_many_rounds),
            Err("pbkdf2 rounds above the accepted limit")
        );
        let endless_argon2 = "$argon2id$v=19$m=8,t=4294967295,p=1$c29tZXNhbHQ$OzCc0c6tkWoyHIBUDD0eMg";
        assert_eq!(
            StoredHash::recognize(endless_argon2),
            Err("argon2 cost above the accepted limit")
        );
        let long_output = format!("pbkdf2_sha256$1000$salt${}", "A".repeat(4096));
        assert!(
            StoredHash::recognize(&long_output).is_err(),
            "one digest, not a kilobyte of them"
        );
        let huge_scrypt = "scrypt:1048576:8:1$salt$00112233445566778899";
        assert_eq!(
            StoredHash::recognize(huge_scrypt),
            Err("scrypt cost above the accepted limit")
        );
    }

    /// Every vector made by the real libraries verifies with its password and with
    /// no other; removing any format's verification fails here.
    #[test]
    fn hashes_made_by_werkzeug_django_bcrypt_and_argon2_cffi_verify() {
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../../server/tests/fixtures/legacy_hashes.json")).unwrap();
        let vectors = fixture["vectors"].as_array().unwrap();
        assert!(vectors.len() >= 16);
        for vector in vectors {
            let (format, hash) = (vector["format"].as_str().unwrap(), vector["hash"].as_str().unwrap());
            let password = vector["password"].as_str().unwrap();
            let stored = StoredHash::recognize(hash).unwrap_or_else(|e| panic!("{format}: {e}"));
            assert!(stored.verify(password), "{format} verifies {password:?}");
            assert!(
                !stored.verify(&format!("{password}x")),
                "{format} refuses another password"
            );
            assert!(!stored.verify(""), "{format} refuses the empty password");
        }
    }

    #[test]
    fn a_django_argon2_hash_is_its_phc_string_with_a_prefix() {
        let phc = "$argon2id$v=19$m=512,t=2,p=2$c29tZXNhbHQ$OzCc0c6tkWoyHIBUDD0eMg";
        let django = format!("argon2{phc}");
        assert_eq!(StoredHash::recognize(&django), Ok(StoredHash::Argon2(phc.to_owned())));
    }
}
