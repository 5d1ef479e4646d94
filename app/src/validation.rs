//! Input rules shared by the browser and the server. The browser runs them to show
//! field errors without a round trip; the service layer runs them again because a
//! client can always skip the browser.

use crate::model::Role;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const EMAIL_MAX_CHARS: usize = 254;
pub const EMAIL_LOCAL_MAX_CHARS: usize = 64;
pub const NAME_MAX_CHARS: usize = 100;
pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 128;

/// Per-field messages keyed by the field's wire name (`email`, `name`, `password`).
/// A BTreeMap so messages come out in a stable order.
pub type FieldErrors = BTreeMap<String, String>;

/// A syntactically valid email address, trimmed. Case is kept as typed; uniqueness
/// is case-insensitive in the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim();
        if email.is_empty() {
            return Err("Enter your email address.".into());
        }
        if email.chars().count() > EMAIL_MAX_CHARS {
            return Err(format!("Email must be at most {EMAIL_MAX_CHARS} characters."));
        }
        let invalid = || "Enter a valid email address, like name@example.com.".to_string();
        let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
        if local.is_empty()
            || local.chars().count() > EMAIL_LOCAL_MAX_CHARS
            || local.contains('@')
            || local.starts_with('.')
            || local.ends_with('.')
            || local.contains("..")
            || !local.chars().all(is_local_part_char)
        {
            return Err(invalid());
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let valid_label = |label: &&str| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(valid_label) {
            return Err(invalid());
        }
        Ok(Self(email.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

fn is_local_part_char(c: char) -> bool {
    c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c)
}

/// A display name: 1–100 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserName(String);

impl UserName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        let chars = name.chars().count();
        if chars == 0 {
            return Err("Enter your name.".into());
        }
        if chars > NAME_MAX_CHARS {
            return Err(format!("Name must be at most {NAME_MAX_CHARS} characters."));
        }
        if name.chars().any(char::is_control) {
            return Err("Name cannot contain control characters.".into());
        }
        Ok(Self(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A password that passed the length policy. Never trimmed (spaces are allowed and
/// significant) and never printed: `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl Password {
    /// The policy for new passwords.
    pub fn parse_new(raw: &str) -> Result<Self, String> {
        let chars = raw.chars().count();
        if chars < PASSWORD_MIN_CHARS {
            return Err(format!("Password must be at least {PASSWORD_MIN_CHARS} characters."));
        }
        if chars > PASSWORD_MAX_CHARS {
            return Err(format!("Password must be at most {PASSWORD_MAX_CHARS} characters."));
        }
        // The list of common passwords is server-only (it would triple the bundle);
        // the browser's check stops at length and the server answers for the rest.
        #[cfg(feature = "ssr")]
        if crate::ssr::password_policy::is_common(raw) {
            return Err(crate::ssr::password_policy::TOO_COMMON.into());
        }
        Ok(Self(raw.to_string()))
    }

    /// A password offered at sign-in: only bounded, so an over-long one is refused
    /// before it reaches the (expensive) hash. Policy is not re-checked: accounts
    /// created under an older policy must still be able to sign in.
    pub fn parse_existing(raw: &str) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("Enter your password.".into());
        }
        if raw.chars().count() > PASSWORD_MAX_CHARS {
            return Err(format!("Password must be at most {PASSWORD_MAX_CHARS} characters."));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A rough strength estimate for the hint under new-password fields. It guides;
/// it does not decide (the policy above does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strength {
    TooShort,
    Weak,
    Fair,
    Strong,
}

impl Strength {
    pub fn label(self) -> &'static str {
        match self {
            Self::TooShort => "too short",
            Self::Weak => "weak",
            Self::Fair => "fair",
            Self::Strong => "strong",
        }
    }
}

pub fn password_strength(password: &str) -> Strength {
    let chars: Vec<char> = password.chars().collect();
    if chars.len() < PASSWORD_MIN_CHARS {
        return Strength::TooShort;
    }
    let classes = [
        chars.iter().any(|c| c.is_lowercase()),
        chars.iter().any(|c| c.is_uppercase()),
        chars.iter().any(|c| c.is_numeric()),
        chars.iter().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|present| **present)
    .count();
    let distinct = chars.iter().collect::<std::collections::BTreeSet<_>>().len();
    if distinct < 5 {
        return Strength::Weak;
    }
    let mut score: i32 = [12, 16, 20].iter().filter(|n| chars.len() >= **n).count() as i32;
    if classes >= 3 {
        score += 1;
    }
    if distinct * 3 < chars.len() || classes == 1 && chars.len() < 16 {
        score -= 1;
    }
    match score {
        i32::MIN..=0 => Strength::Weak,
        1 => Strength::Fair,
        _ => Strength::Strong,
    }
}

/// Raw registration input, as typed. A missing field reads as empty, so it gets
/// the same field message as a blank one.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct RegisterInput {
    pub name: String,
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone)]
pub struct ValidRegistration {
    pub name: UserName,
    pub email: Email,
    pub password: Password,
}

impl RegisterInput {
    pub fn validate(&self) -> Result<ValidRegistration, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = UserName::parse(&self.name)
            .map_err(|e| errors.insert("name".into(), e))
            .ok();
        let email = Email::parse(&self.email)
            .map_err(|e| errors.insert("email".into(), e))
            .ok();
        let password = Password::parse_new(&self.password)
            .map_err(|e| errors.insert("password".into(), e))
            .ok();
        match (name, email, password) {
            (Some(name), Some(email), Some(password)) => Ok(ValidRegistration { name, email, password }),
            _ => Err(errors),
        }
    }
}

/// Raw sign-in input, as typed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone)]
pub struct ValidLogin {
    pub email: Email,
    pub password: Password,
}

impl LoginInput {
    pub fn validate(&self) -> Result<ValidLogin, FieldErrors> {
        let mut errors = FieldErrors::new();
        let email = Email::parse(&self.email)
            .map_err(|e| errors.insert("email".into(), e))
            .ok();
        let password = Password::parse_existing(&self.password)
            .map_err(|e| errors.insert("password".into(), e))
            .ok();
        match (email, password) {
            (Some(email), Some(password)) => Ok(ValidLogin { email, password }),
            _ => Err(errors),
        }
    }
}

/// An administrator creating an account. An empty role means `user`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct CreateUserInput {
    pub name: String,
    pub email: String,
    pub password: String,
    pub role: String,
}

#[derive(Debug, Clone)]
pub struct ValidNewUser {
    pub name: UserName,
    pub email: Email,
    pub password: Password,
    pub role: Role,
}

fn parse_role(raw: &str) -> Result<Role, String> {
    Role::parse(raw.trim()).ok_or_else(|| "Role must be user or admin.".to_string())
}

impl CreateUserInput {
    pub fn validate(&self) -> Result<ValidNewUser, FieldErrors> {
        let registration = RegisterInput {
            name: self.name.clone(),
            email: self.email.clone(),
            password: self.password.clone(),
        };
        let role = if self.role.trim().is_empty() {
            Ok(Role::User)
        } else {
            parse_role(&self.role)
        };
        match (registration.validate(), role) {
            (Ok(v), Ok(role)) => Ok(ValidNewUser {
                name: v.name,
                email: v.email,
                password: v.password,
                role,
            }),
            (reg, role) => {
                let mut errors = reg.err().unwrap_or_default();
                if let Err(e) = role {
                    errors.insert("role".into(), e);
                }
                Err(errors)
            }
        }
    }
}

/// A partial update of a user: only the fields present change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct UpdateUserInput {
    pub name: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    /// Required to change one's own password.
    pub current_password: Option<String>,
    pub role: Option<String>,
    pub disabled: Option<bool>,
}

impl UpdateUserInput {
    /// The only keys a client may send; anything else is refused (422), so a typo
    /// like `"rol"` is never silently ignored.
    pub const FIELDS: [&'static str; 6] = ["name", "email", "password", "current_password", "role", "disabled"];
}

#[derive(Debug, Clone, Default)]
pub struct ValidUserUpdate {
    pub name: Option<UserName>,
    pub email: Option<Email>,
    pub password: Option<Password>,
    pub current_password: Option<Password>,
    pub role: Option<Role>,
    pub disabled: Option<bool>,
}

impl UpdateUserInput {
    pub fn validate(&self) -> Result<ValidUserUpdate, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut check = |field: &str, result: Result<(), String>| {
            if let Err(e) = result {
                errors.insert(field.into(), e);
            }
        };
        let mut valid = ValidUserUpdate {
            disabled: self.disabled,
            ..Default::default()
        };
        if let Some(raw) = &self.name {
            check("name", UserName::parse(raw).map(|v| valid.name = Some(v)));
        }
        if let Some(raw) = &self.email {
            check("email", Email::parse(raw).map(|v| valid.email = Some(v)));
        }
        if let Some(raw) = &self.password {
            check("password", Password::parse_new(raw).map(|v| valid.password = Some(v)));
        }
        if let Some(raw) = &self.current_password {
            check(
                "current_password",
                Password::parse_existing(raw).map(|v| valid.current_password = Some(v)),
            );
        }
        if let Some(raw) = &self.role {
            check("role", parse_role(raw).map(|v| valid.role = Some(v)));
        }
        if errors.is_empty() { Ok(valid) } else { Err(errors) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_emails_and_trims_them() {
        for ok in [
            "a@b.co",
            "first.last+tag@example.com",
            "  x@sub.example.org  ",
            "ünï@exämple.de",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok} should be valid");
        }
        assert_eq!(Email::parse("  x@example.com ").unwrap().as_str(), "x@example.com");
    }

    #[test]
    fn rejects_malformed_emails() {
        for bad in [
            "",
            "   ",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a@b..com",
            ".a@b.com",
            "a.@b.com",
            "a..b@c.com",
            "a@-b.com",
            "a@b-.com",
            "a@b.com.",
            "a@b_c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be invalid");
        }
    }

    #[test]
    fn bounds_email_length() {
        let local = "a".repeat(64);
        let domain = format!("{}.com", "b".repeat(60));
        assert!(Email::parse(&format!("{local}@{domain}")).is_ok());
        assert!(Email::parse(&format!("{}@{domain}", "a".repeat(65))).is_err());
        let long_domain = std::iter::repeat_n("c".repeat(60), 5).collect::<Vec<_>>().join(".");
        assert!(
            Email::parse(&format!("a@{long_domain}")).is_err(),
            "over 254 characters"
        );
    }

    #[test]
    fn name_is_trimmed_and_bounded_in_characters() {
        assert_eq!(UserName::parse("  Ada Lovelace ").unwrap().as_str(), "Ada Lovelace");
        assert!(UserName::parse("   ").is_err());
        assert!(UserName::parse(&"é".repeat(100)).is_ok(), "100 two-byte characters fit");
        assert!(UserName::parse(&"é".repeat(101)).is_err());
        assert!(UserName::parse("bad\u{0007}name").is_err());
    }

    #[test]
    fn new_password_length_policy() {
        assert!(Password::parse_new(&"x".repeat(7)).is_err());
        assert!(Password::parse_new(&"x".repeat(8)).is_ok());
        assert!(Password::parse_new(&"x".repeat(128)).is_ok());
        assert!(Password::parse_new(&"x".repeat(129)).is_err());
        assert!(
            Password::parse_new("        ").is_ok(),
            "spaces count and are not trimmed"
        );
    }

    #[test]
    fn existing_password_is_only_bounded() {
        assert!(Password::parse_existing("short").is_ok());
        assert!(Password::parse_existing("").is_err());
        assert!(Password::parse_existing(&"x".repeat(129)).is_err());
    }

    #[test]
    fn password_debug_is_redacted() {
        let p = Password::parse_new("hunter22hunter22").unwrap();
        assert!(!format!("{p:?}").contains("hunter"));
    }

    #[test]
    fn registration_reports_every_bad_field() {
        let errors = RegisterInput {
            name: " ".into(),
            email: "nope".into(),
            password: "short".into(),
        }
        .validate()
        .unwrap_err();
        assert_eq!(errors.keys().collect::<Vec<_>>(), ["email", "name", "password"]);
        let ok = RegisterInput {
            name: "Ada".into(),
            email: "ada@example.com".into(),
            password: "correct horse".into(),
        };
        assert!(ok.validate().is_ok());
    }

    #[test]
    fn create_user_defaults_the_role_and_rejects_unknown_ones() {
        let mut input = CreateUserInput {
            name: "Ada".into(),
            email: "ada@example.com".into(),
            password: "correct horse".into(),
            role: String::new(),
        };
        assert_eq!(input.validate().unwrap().role, Role::User);
        input.role = "admin".into();
        assert_eq!(input.validate().unwrap().role, Role::Admin);
        input.role = "root".into();
        assert!(input.validate().unwrap_err().contains_key("role"));
    }

    #[test]
    fn update_checks_only_present_fields() {
        assert!(UpdateUserInput::default().validate().is_ok());
        let bad = UpdateUserInput {
            name: Some(" ".into()),
            password: Some("short".into()),
            ..Default::default()
        };
        let errors = bad.validate().unwrap_err();
        assert_eq!(errors.keys().collect::<Vec<_>>(), ["name", "password"]);
        let ok = UpdateUserInput {
            role: Some("admin".into()),
            disabled: Some(true),
            ..Default::default()
        };
        let valid = ok.validate().unwrap();
        assert_eq!((valid.role, valid.disabled), (Some(Role::Admin), Some(true)));
    }

    #[test]
    fn strength_rewards_length_and_variety() {
        assert_eq!(password_strength("short"), Strength::TooShort);
        assert_eq!(password_strength("abcdefgh"), Strength::Weak);
        assert_eq!(
            password_strength("aaaaaaaaaaaaaaaaaaaa"),
            Strength::Weak,
            "long but repetitive"
        );
        assert_eq!(password_strength("Tr0ub4dor&3"), Strength::Fair);
        assert_eq!(password_strength("correct horse battery staple"), Strength::Strong);
    }

    #[test]
    fn login_requires_both_fields() {
        let errors = LoginInput::default().validate().unwrap_err();
        assert!(errors.contains_key("email") && errors.contains_key("password"));
    }
}
