//! The server-only part of the password policy: the most common passwords,
//! consulted by `validation::Password::parse_new` when built for the server. The
//! list stays off the WASM bundle.

use std::collections::HashSet;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The deployment's minimum length for new passwords (`ROSTER_PASSWORD_MIN_LENGTH`),
/// set once at start-up by the `roster` command, never below the built-in floor of
/// 8 that the browser also checks. NIST SP 800-63B rev. 4 asks for 15 where the
/// password is the only factor.
static MIN_CHARS: AtomicUsize = AtomicUsize::new(crate::validation::PASSWORD_MIN_CHARS);

pub fn set_min_chars(chars: usize) {
    MIN_CHARS.store(chars.max(crate::validation::PASSWORD_MIN_CHARS), Ordering::Relaxed);
}

pub fn min_chars() -> usize {
    MIN_CHARS.load(Ordering::Relaxed)
}

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common_passwords.txt")
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

pub fn is_common(password: &str) -> bool {
    COMMON.contains(password.to_lowercase().as_str())
}

pub const TOO_COMMON: &str = "This password is too common. Choose one that is harder to guess.";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::Password;

    #[test]
    fn the_list_is_loaded_and_checked_case_insensitively() {
        assert!(COMMON.len() >= 9_000, "{}", COMMON.len());
        assert!(is_common("password"));
        assert!(is_common("PassWord1") || is_common("password1"));
        assert!(is_common("baseball"));
        assert!(!is_common("correct horse battery staple 42"));
        assert!(
            !COMMON.iter().any(|p| p.is_empty() || p.starts_with('#')),
            "the list's comments and blank lines are not entries"
        );
    }

    #[test]
    fn new_passwords_from_the_list_are_refused_by_validation() {
        assert_eq!(Password::parse_new("sunshine").unwrap_err(), TOO_COMMON);
        assert_eq!(Password::parse_new("BASEBALL").unwrap_err(), TOO_COMMON);
        assert!(Password::parse_new("plinth marrow cobalt").is_ok());
        assert!(Password::parse_existing("sunshine").is_ok(), "sign-in is not re-judged");
    }
}
