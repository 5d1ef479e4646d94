//! Authenticator-app codes (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps, one
//! step of drift either way), the `otpauth://` URI apps read, and its QR code as
//! SVG. The arithmetic is totp-rs'; this module fixes the parameters.

use crate::validation::TOTP_DIGITS;
use rand::RngCore;
use totp_rs::{Algorithm, Secret, Totp};

/// Seconds per code.
pub const STEP_SECS: u64 = 30;
/// Steps of clock drift accepted either side of now.
const SKEW_STEPS: u16 = 1;
/// 160 random bits: RFC 4226's recommended shared-secret length for HMAC-SHA-1.
pub const SECRET_BYTES: usize = 20;

/// A new shared secret from the OS's generator.
pub fn new_secret() -> Vec<u8> {
    let mut bytes = vec![0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// The generator for `secret`, labelled for the account (`issuer: account`).
fn generator(secret: &[u8], digits: usize, issuer: &str, account: &str) -> Result<Totp, String> {
    totp_rs::Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(digits as u8)
        .with_step_duration(STEP_SECS)
        .with_skew(SKEW_STEPS)
        .with_secret(Secret::from(secret.to_vec()))
        .with_issuer(Some(issuer.replace(':', " ")))
        .with_account_name(account.replace(':', " "))
        .build()
        .map_err(|e| format!("TOTP parameters: {e}"))
}

/// The time step a code matches at `unix_secs` (now, or one step either side), if
/// it matches at all. Compared in constant time by totp-rs.
pub fn matching_step(secret: &[u8], code: &str, unix_secs: u64) -> Result<Option<u64>, String> {
    Ok(generator(secret, TOTP_DIGITS, "-", "-")?.check(code, unix_secs))
}

/// The secret as apps take it typed: base 32, no padding.
pub fn secret_base32(secret: &[u8]) -> String {
    Secret::from(secret.to_vec()).to_base32()
}

/// The code for `secret` at `unix_secs`: what an authenticator app shows. For
/// tests and tools; the server only ever checks codes.
pub fn code_at(secret: &[u8], unix_secs: u64) -> Result<String, String> {
    Ok(generator(secret, TOTP_DIGITS, "-", "-")?
        .generate(unix_secs)
        .to_string())
}

/// The bytes of a secret typed in base 32 (as `secret_base32` writes it).
pub fn secret_from_base32(typed: &str) -> Option<Vec<u8>> {
    Secret::try_from_base32(typed).ok().map(|s| s.as_bytes().to_vec())
}

/// The `otpauth://totp/…` URI a QR code carries.
pub fn otpauth_uri(secret: &[u8], issuer: &str, account: &str) -> Result<String, String> {
    generator(secret, TOTP_DIGITS, issuer, account)?
        .to_url()
        .map_err(|e| format!("otpauth URI: {e}"))
}

/// The URI as a QR code: an inline SVG document, black on white whatever the page's
/// theme (scanners need the contrast), scaled by its container.
pub fn qr_svg(uri: &str) -> Result<String, String> {
    let qr = fast_qr::QRBuilder::new(uri)
        .ecl(fast_qr::ECL::M)
        .build()
        .map_err(|e| format!("QR code: {e:?}"))?;
    Ok(fast_qr::convert::svg::SvgBuilder::default().to_str(&qr))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B: the SHA-1 seed, times and 8-digit codes.
    #[test]
    fn rfc_6238_test_vectors() {
        let seed = b"12345678901234567890";
        let totp = generator(seed, 8, "Roster", "a@example.com").unwrap();
        for (time, code) in [
            (59u64, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ] {
            assert_eq!(totp.generate(time).to_string(), code, "at {time}");
        }
    }

    #[test]
    fn a_code_matches_its_step_and_one_either_side_only() {
        let secret = new_secret();
        let now = 1_800_000_000u64;
        let code_at = |t: u64| generator(&secret, 6, "-", "-").unwrap().generate(t).to_string();
        let step = now / STEP_SECS;
        assert_eq!(matching_step(&secret, &code_at(now), now).unwrap(), Some(step));
        assert_eq!(matching_step(&secret, &code_at(now - 30), now).unwrap(), Some(step - 1));
        assert_eq!(matching_step(&secret, &code_at(now + 30), now).unwrap(), Some(step + 1));
        assert_eq!(matching_step(&secret, &code_at(now - 60), now).unwrap(), None);
        assert_eq!(matching_step(&secret, &code_at(now + 60), now).unwrap(), None);
        assert_eq!(code_at(now).len(), 6);
    }

    #[test]
    fn the_uri_names_the_product_and_the_account_and_carries_the_secret() {
        let secret = new_secret();
        assert_eq!(secret.len(), SECRET_BYTES);
        let uri = otpauth_uri(&secret, "Roster", "ada@example.com").unwrap();
        assert!(uri.starts_with("otpauth://totp/Roster:ada%40example.com?"), "{uri}");
        assert!(uri.contains(&format!("secret={}", secret_base32(&secret))), "{uri}");
        assert_eq!(secret_from_base32(&secret_base32(&secret)), Some(secret.clone()));
        assert!(uri.contains("issuer=Roster"), "{uri}");
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{}", &svg[..40]);
    }
}
