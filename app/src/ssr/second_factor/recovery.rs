//! Recovery codes: ten per set, each 24 characters of Crockford's base 32 (120
//! random bits), shown once as six groups of four. Only each code's SHA-256 is
//! kept: with over 112 random bits a fast hash is safe (ASVS 6.5.2), and checking
//! one needs no key.

use crate::validation::{RECOVERY_CODE_ALPHABET, RECOVERY_CODE_CHARS};
use rand::Rng;
use sha2::{Digest, Sha256};

/// How many codes a set has.
pub const CODES_PER_SET: usize = 10;

/// A code as stored and compared: its 16 characters without dashes.
pub fn generate() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..RECOVERY_CODE_CHARS)
        .map(|_| RECOVERY_CODE_ALPHABET[rng.gen_range(0..RECOVERY_CODE_ALPHABET.len())] as char)
        .collect()
}

/// A code as shown: `abcd-efgh-jkmn-pqrs-tvwx-yz01`.
pub fn display(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|chunk| std::str::from_utf8(chunk).expect("ASCII"))
        .collect::<Vec<_>>()
        .join("-")
}

/// What is stored of a code (given as `FactorCode::Recovery` reads it).
pub fn hash(code: &str) -> String {
    hex::encode(Sha256::digest(code.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::FactorCode;

    #[test]
    fn a_shown_code_reads_back_as_itself() {
        for _ in 0..50 {
            let code = generate();
            assert_eq!(code.len(), 24);
            let shown = display(&code);
            assert_eq!(shown.len(), 29);
            assert_eq!(FactorCode::parse(&shown), Ok(FactorCode::Recovery(code.clone())));
            assert_eq!(
                FactorCode::parse(&shown.to_uppercase()),
                Ok(FactorCode::Recovery(code.clone()))
            );
            assert_eq!(hash(&code).len(), 64);
            assert_ne!(hash(&code), code);
        }
    }

    #[test]
    fn codes_vary() {
        let codes: std::collections::HashSet<String> = (0..1000).map(|_| generate()).collect();
        assert_eq!(codes.len(), 1000);
        let letters: std::collections::HashSet<char> = codes.iter().flat_map(|c| c.chars()).collect();
        assert_eq!(letters.len(), 32, "every letter of the alphabet is drawn");
    }
}
