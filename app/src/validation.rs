//! Input rules shared by the browser and the server. The browser runs them to show
//! field errors without a round trip; the service layer runs them again because a
//! client can always skip the browser.

use crate::model::{BulkUserAction, Role};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

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

/// Words about this service that a new password may not contain (ASVS 6.2.11):
/// the first an attacker tries against any of its accounts.
pub const SERVICE_WORDS: &[&str] = &["roster"];

pub const PASSWORD_GUESSABLE: &str =
    "Choose a password that does not contain your name, your email address or the name of this site.";

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
        // the browser's check stops at length and the server answers for the rest,
        // including a deployment's higher minimum.
        #[cfg(feature = "ssr")]
        if chars < crate::ssr::password_policy::min_chars() {
            let min = crate::ssr::password_policy::min_chars();
            return Err(format!("Password must be at least {min} characters."));
        }
        #[cfg(feature = "ssr")]
        if crate::ssr::password_policy::is_common(raw) {
            return Err(crate::ssr::password_policy::TOO_COMMON.into());
        }
        Ok(Self(raw.to_string()))
    }

    /// Refuses a new password that contains a word an attacker would try first for
    /// this account: the service's name, or a part of the account's own name or
    /// email address (four characters or more, any case). Runs in the browser and on
    /// the server alike.
    pub fn refuse_context_words(self, name: &str, email: &str) -> Result<Self, String> {
        let password = self.0.to_lowercase();
        let local_part = email.split('@').next().unwrap_or("");
        let own_words = name
            .split(|c: char| !c.is_alphanumeric())
            .chain(local_part.split(|c: char| !c.is_alphanumeric()))
            .chain(std::iter::once(local_part));
        let guessable = SERVICE_WORDS
            .iter()
            .copied()
            .map(str::to_owned)
            .chain(own_words.filter(|w| w.chars().count() >= 4).map(str::to_lowercase))
            .any(|word| password.contains(&word));
        if guessable {
            Err(PASSWORD_GUESSABLE.into())
        } else {
            Ok(self)
        }
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

/// What new-password fields say under their label. The assertion keeps it in step
/// with the policy above.
pub const NEW_PASSWORD_HINT: &str = "8 to 128 characters.";
const _: () = assert!(PASSWORD_MIN_CHARS == 8 && PASSWORD_MAX_CHARS == 128);

pub const ROLE_INVALID: &str = "Role must be user or admin.";

/// Asked for when someone deletes their own account.
pub const DELETE_NEEDS_PASSWORD: &str = "Enter your password to delete your account.";

/// Raw registration input, as typed. A missing field reads as empty, so it gets
/// the same field message as a blank one.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct RegisterInput {
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub name: String,
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub email: String,
    /// 8–128 characters.
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub password: String,
}

/// `POST /api/register`: the account, and the secret of an invitation link when
/// the visitor came with one (`ROSTER_REGISTRATION=invite` requires it).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RegistrationRequest {
    #[serde(flatten)]
    pub account: RegisterInput,
    /// The `token` of the invitation link.
    #[serde(default)]
    pub invitation: Option<String>,
}

/// `POST /api/invitations`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct InvitationInput {
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub email: String,
    /// `user` (default) or `admin`.
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Role>))]
    pub role: String,
    /// How long the link works: 1–30 days, default 7.
    pub expires_in_days: Option<u32>,
}

/// The longest an invitation may stay open.
pub const INVITATION_MAX_DAYS: u32 = 30;
pub const INVITATION_DEFAULT_DAYS: u32 = 7;

/// `POST /api/users/bulk`: one change to many accounts.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct BulkUserInput {
    /// `disable`, `enable`, `sign_out` or `delete`.
    #[cfg_attr(feature = "ssr", schema(required = true, value_type = BulkUserAction))]
    pub action: String,
    /// The accounts, 1–100 of them (repeats count once).
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub ids: Vec<Uuid>,
}

/// The most accounts one bulk action may name: a page of the admin table is 20,
/// and a request that ends hundreds of sessions should be a script's loop.
pub const BULK_MAX_IDS: usize = 100;

#[derive(Debug, Clone, PartialEq)]
pub struct ValidBulkUserInput {
    pub action: BulkUserAction,
    pub ids: Vec<Uuid>,
}

impl BulkUserInput {
    pub fn validate(&self) -> Result<ValidBulkUserInput, FieldErrors> {
        let mut checks = Checks::default();
        let action = checks.field(
            "action",
            BulkUserAction::parse(self.action.trim())
                .ok_or_else(|| "Choose disable, enable, sign_out or delete.".to_owned()),
        );
        let mut ids = Vec::with_capacity(self.ids.len());
        for id in &self.ids {
            if !ids.contains(id) {
                ids.push(*id);
            }
        }
        let ids = checks.field(
            "ids",
            match ids.len() {
                0 => Err("Select at least one account.".to_owned()),
                n if n > BULK_MAX_IDS => Err(format!("Select at most {BULK_MAX_IDS} accounts at a time.")),
                _ => Ok(ids),
            },
        );
        checks.done(|| {
            Some(ValidBulkUserInput {
                action: action?,
                ids: ids?,
            })
        })
    }
}

#[derive(Debug, Clone)]
pub struct ValidInvitation {
    pub email: Email,
    pub role: Role,
    pub days: u32,
}

impl InvitationInput {
    pub fn validate(&self) -> Result<ValidInvitation, FieldErrors> {
        let mut checks = Checks::default();
        let email = checks.field("email", Email::parse(&self.email));
        let role = checks.field(
            "role",
            match self.role.trim() {
                "" => Ok(Role::User),
                raw => parse_role(raw),
            },
        );
        let days = checks.field(
            "expires_in_days",
            match self.expires_in_days {
                None => Ok(INVITATION_DEFAULT_DAYS),
                Some(d) if (1..=INVITATION_MAX_DAYS).contains(&d) => Ok(d),
                Some(_) => Err(format!("Choose between 1 and {INVITATION_MAX_DAYS} days.")),
            },
        );
        checks.done(|| {
            Some(ValidInvitation {
                email: email?,
                role: role?,
                days: days?,
            })
        })
    }
}

#[derive(Debug, Clone)]
pub struct ValidRegistration {
    pub name: UserName,
    pub email: Email,
    pub password: Password,
}

/// Collects each field's message, so a form shows every problem at once.
#[derive(Default)]
struct Checks(FieldErrors);

impl Checks {
    fn field<T>(&mut self, name: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|e| self.0.insert(name.into(), e)).ok()
    }

    fn done<T>(self, valid: impl FnOnce() -> Option<T>) -> Result<T, FieldErrors> {
        match valid() {
            Some(value) if self.0.is_empty() => Ok(value),
            _ => Err(self.0),
        }
    }
}

impl RegisterInput {
    pub fn validate(&self) -> Result<ValidRegistration, FieldErrors> {
        let mut checks = Checks::default();
        let name = checks.field("name", UserName::parse(&self.name));
        let email = checks.field("email", Email::parse(&self.email));
        let password = checks.field(
            "password",
            Password::parse_new(&self.password).and_then(|p| p.refuse_context_words(&self.name, &self.email)),
        );
        checks.done(|| {
            Some(ValidRegistration {
                name: name?,
                email: email?,
                password: password?,
            })
        })
    }
}

/// Raw sign-in input, as typed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct LoginInput {
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub email: String,
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub password: String,
    /// "Keep me signed in": the session outlives the browser, for the long
    /// lifetime (`ROSTER_SESSION_TTL`). Without it (the default) the cookie ends
    /// with the browser and the session after `ROSTER_SESSION_SHORT_TTL`.
    pub remember: bool,
}

#[derive(Debug, Clone)]
pub struct ValidLogin {
    pub email: Email,
    pub password: Password,
    pub remember: bool,
}

impl LoginInput {
    pub fn validate(&self) -> Result<ValidLogin, FieldErrors> {
        let mut checks = Checks::default();
        let email = checks.field("email", Email::parse(&self.email));
        let password = checks.field("password", Password::parse_existing(&self.password));
        checks.done(|| {
            Some(ValidLogin {
                email: email?,
                password: password?,
                remember: self.remember,
            })
        })
    }
}

/// An administrator creating an account: what a registration holds, plus a role
/// (empty means `user`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct CreateUserInput {
    #[serde(flatten)]
    pub account: RegisterInput,
    /// `user` (default) or `admin`.
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Role>))]
    pub role: String,
}

#[derive(Debug, Clone)]
pub struct ValidNewUser {
    pub account: ValidRegistration,
    pub role: Role,
}

fn parse_role(raw: &str) -> Result<Role, String> {
    Role::parse(raw.trim()).ok_or_else(|| ROLE_INVALID.to_string())
}

impl CreateUserInput {
    pub fn validate(&self) -> Result<ValidNewUser, FieldErrors> {
        let role = match self.role.trim() {
            "" => Ok(Role::User),
            raw => parse_role(raw),
        };
        match (self.account.validate(), role) {
            (Ok(account), Ok(role)) => Ok(ValidNewUser { account, role }),
            (account, role) => {
                let mut checks = Checks(account.err().unwrap_or_default());
                checks.field("role", role);
                Err(checks.0)
            }
        }
    }
}

/// How a JSON value becomes one updatable field, and what is said when it cannot.
trait UpdateValue: Sized {
    fn from_json(value: serde_json::Value) -> Result<Option<Self>, String>;
}

impl UpdateValue for String {
    fn from_json(value: serde_json::Value) -> Result<Option<Self>, String> {
        match value {
            serde_json::Value::String(s) => Ok(Some(s)),
            serde_json::Value::Null => Ok(None),
            _ => Err("Must be a string.".into()),
        }
    }
}

impl UpdateValue for bool {
    fn from_json(value: serde_json::Value) -> Result<Option<Self>, String> {
        match value {
            serde_json::Value::Bool(b) => Ok(Some(b)),
            serde_json::Value::Null => Ok(None),
            _ => Err("Must be true or false.".into()),
        }
    }
}

/// The updatable fields of a user, listed once: the list makes the input type
/// (and its OpenAPI schema), the names a client may send, and the per-field parser.
macro_rules! updatable_user_fields {
    ($($(#[$attr:meta])* $field:ident: $ty:ty),* $(,)?) => {
        /// A partial update of a user: only the fields present change. Unknown
        /// fields are refused (422), so a typo like `"rol"` is never silently ignored.
        #[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        #[serde(default, deny_unknown_fields)]
        pub struct UpdateUserInput {
            $($(#[$attr])* pub $field: Option<$ty>,)*
        }

        impl UpdateUserInput {
            /// The only keys a client may send.
            pub const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];

            /// Sets one field from its JSON value; the error says what was expected.
            pub fn set(&mut self, key: &str, value: serde_json::Value) -> Result<(), String> {
                match key {
                    $(stringify!($field) => <$ty as UpdateValue>::from_json(value).map(|v| self.$field = v),)*
                    _ => Err("Unknown field.".into()),
                }
            }
        }
    };
}

updatable_user_fields! {
    name: String,
    email: String,
    password: String,
    /// Required to change one's own password or email.
    current_password: String,
    /// Admins only.
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Role>))]
    role: String,
    /// Admins only. Disabling ends the user's sessions.
    disabled: bool,
    /// Admins only: mark the address proven (or not) without a link.
    email_verified: bool,
    /// Admins only, with `role`: the role lasts until this time (RFC 3339), then the
    /// account returns to the role it had. Alone: moves the end of a current grant.
    role_expires_at: String,
}

impl UpdateUserInput {
    /// Reads a JSON object field by field, so every unknown or mistyped field gets
    /// its own message.
    pub fn from_json(body: serde_json::Value) -> Result<Self, crate::error::AppError> {
        use crate::error::AppError;
        let serde_json::Value::Object(map) = body else {
            return Err(AppError::bad_request("The request body must be a JSON object."));
        };
        let mut input = Self::default();
        let mut errors = FieldErrors::new();
        for (key, value) in map {
            if let Err(message) = input.set(&key, value) {
                errors.insert(key, message);
            }
        }
        if errors.is_empty() {
            Ok(input)
        } else {
            Err(AppError::validation(errors))
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ValidUserUpdate {
    pub name: Option<UserName>,
    pub email: Option<Email>,
    pub password: Option<Password>,
    pub current_password: Option<Password>,
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub email_verified: Option<bool>,
    pub role_expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The longest a role may be granted for (a lasting role is given without an end).
pub const ROLE_GRANT_MAX_DAYS: i64 = 366;

fn parse_role_expiry(raw: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    let at = chrono::DateTime::parse_from_rfc3339(raw.trim())
        .map_err(|_| "Give a date and time like 2026-12-01T18:00:00Z.".to_string())?
        .with_timezone(&chrono::Utc);
    let now = chrono::Utc::now();
    if at <= now {
        return Err("The end of a grant must be in the future.".into());
    }
    if at > now + chrono::Duration::days(ROLE_GRANT_MAX_DAYS) {
        return Err(format!(
            "A role is granted for at most {ROLE_GRANT_MAX_DAYS} days; give a lasting role instead."
        ));
    }
    Ok(at)
}

impl UpdateUserInput {
    pub fn validate(&self) -> Result<ValidUserUpdate, FieldErrors> {
        let mut checks = Checks::default();
        let valid = ValidUserUpdate {
            name: self
                .name
                .as_deref()
                .and_then(|raw| checks.field("name", UserName::parse(raw))),
            email: self
                .email
                .as_deref()
                .and_then(|raw| checks.field("email", Email::parse(raw))),
            password: self
                .password
                .as_deref()
                .and_then(|raw| checks.field("password", Password::parse_new(raw))),
            current_password: self
                .current_password
                .as_deref()
                .and_then(|raw| checks.field("current_password", Password::parse_existing(raw))),
            role: self
                .role
                .as_deref()
                .and_then(|raw| checks.field("role", parse_role(raw))),
            disabled: self.disabled,
            email_verified: self.email_verified,
            role_expires_at: self
                .role_expires_at
                .as_deref()
                .and_then(|raw| checks.field("role_expires_at", parse_role_expiry(raw))),
        };
        checks.done(|| Some(valid))
    }
}

/// An emailed sign-in code: 8 digits, as typed (spaces and dashes are ignored, so
/// "1234 5678" and "1234-5678" work). Redacted in debug output.
#[derive(Clone, PartialEq, Eq)]
pub struct SignInCode(String);

/// How many digits a sign-in code has.
pub const SIGN_IN_CODE_DIGITS: usize = 8;

impl std::fmt::Debug for SignInCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignInCode(<redacted>)")
    }
}

impl SignInCode {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if digits.is_empty() {
            return Err("Enter the code from the mail.".into());
        }
        if digits.len() != SIGN_IN_CODE_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("The code is {SIGN_IN_CODE_DIGITS} digits, as in the mail."));
        }
        Ok(Self(digits))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// How many digits an authenticator app's code has (RFC 6238's usual 6).
pub const TOTP_DIGITS: usize = 6;
/// How many characters a recovery code has (without its dashes): 120 random bits,
/// over the 112 that let a plain SHA-256 keep it (ASVS 6.5.2).
pub const RECOVERY_CODE_CHARS: usize = 24;
/// The letters recovery codes are written in: Crockford's base 32, lower case
/// (no i, l, o or u, which read like other characters).
pub const RECOVERY_CODE_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A code that proves the second factor: six digits from an authenticator app, or
/// one of the account's recovery codes. Spaces and dashes are ignored, and a
/// recovery code is read as Crockford's base 32 reads (any case; i and l as 1, o as 0).
#[derive(Clone, PartialEq, Eq)]
pub enum FactorCode {
    Totp(String),
    Recovery(String),
}

impl std::fmt::Debug for FactorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Totp(_) => f.write_str("FactorCode::Totp(<redacted>)"),
            Self::Recovery(_) => f.write_str("FactorCode::Recovery(<redacted>)"),
        }
    }
}

impl FactorCode {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let compact: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if compact.is_empty() {
            return Err("Enter the code from your authenticator app, or a recovery code.".into());
        }
        if compact.len() == TOTP_DIGITS && compact.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Self::Totp(compact));
        }
        let read: String = compact
            .chars()
            .map(|c| match c {
                'i' | 'l' => '1',
                'o' => '0',
                other => other,
            })
            .collect();
        if read.len() == RECOVERY_CODE_CHARS && read.bytes().all(|b| RECOVERY_CODE_ALPHABET.contains(&b)) {
            return Ok(Self::Recovery(read));
        }
        Err(format!(
            "Enter the {TOTP_DIGITS} digits your authenticator app shows, or a recovery code (six groups of four)."
        ))
    }

    /// Only an authenticator app's code (setting one up is confirmed with the app).
    pub fn parse_totp(raw: &str) -> Result<String, String> {
        match Self::parse(raw) {
            Ok(Self::Totp(digits)) => Ok(digits),
            _ => Err(format!("Enter the {TOTP_DIGITS} digits your authenticator app shows.")),
        }
    }
}

/// A second-factor code, as typed: signing in's second step, and confirming an
/// authenticator app (where only its code will do).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct FactorCodeInput {
    /// Six digits from the authenticator app, or a recovery code.
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub code: String,
}

impl FactorCodeInput {
    pub fn validate(&self) -> Result<FactorCode, FieldErrors> {
        FactorCode::parse(&self.code).map_err(|e| FieldErrors::from([("code".to_string(), e)]))
    }

    pub fn validate_totp(&self) -> Result<String, FieldErrors> {
        FactorCode::parse_totp(&self.code).map_err(|e| FieldErrors::from([("code".to_string(), e)]))
    }
}

/// Proof that the person at the keyboard holds the account: the password, or a
/// second-factor code. Asked before sensitive changes (`ssr::reauth`) and to turn a
/// factor off.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ProofInput {
    /// The account's password.
    pub password: Option<String>,
    /// Or a code from the authenticator app, or a recovery code.
    pub code: Option<String>,
}

/// A proof as checked: which kind was given.
#[derive(Debug, Clone)]
pub enum Proof {
    Password(Password),
    Code(FactorCode),
}

impl ProofInput {
    pub fn validate(&self) -> Result<Proof, FieldErrors> {
        let given = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        if given(&self.password) {
            let raw = self.password.as_deref().unwrap_or_default();
            return Password::parse_existing(raw)
                .map(Proof::Password)
                .map_err(|e| FieldErrors::from([("password".to_string(), e)]));
        }
        if given(&self.code) {
            let raw = self.code.as_deref().unwrap_or_default();
            return FactorCode::parse(raw)
                .map(Proof::Code)
                .map_err(|e| FieldErrors::from([("code".to_string(), e)]));
        }
        Err(FieldErrors::from([(
            "password".to_string(),
            "Enter your password (or a code from your authenticator app).".to_string(),
        )]))
    }
}

/// The longest name a passkey may have.
pub const PASSKEY_NAME_MAX_CHARS: usize = 100;

/// What a passkey is called by its owner: 1–100 characters, trimmed.
pub fn passkey_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("Give the passkey a name, such as the device it is on.".into());
    }
    if name.chars().count() > PASSKEY_NAME_MAX_CHARS {
        return Err(format!("At most {PASSKEY_NAME_MAX_CHARS} characters."));
    }
    Ok(name.to_owned())
}

/// The second half of a WebAuthn ceremony: the authenticator's answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct PasskeyResponseInput {
    /// `challenge_id` from the first half.
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub challenge_id: String,
    /// The `PublicKeyCredential` the browser gave, as its `toJSON()` writes it.
    #[cfg_attr(feature = "ssr", schema(required = true, value_type = Object))]
    pub credential: serde_json::Value,
    /// Registering: what to call the passkey (default "Passkey").
    pub name: Option<String>,
    /// Signing in: "keep me signed in", as for `LoginInput`.
    pub remember: bool,
}

/// Renaming a passkey.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct PasskeyNameInput {
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub name: String,
}

/// Signing in with the code mailed to the address.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct CodeSignInInput {
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub email: String,
    /// The 8 digits from the mail.
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub code: String,
    /// "Keep me signed in", as for `LoginInput`.
    pub remember: bool,
}

#[derive(Debug, Clone)]
pub struct ValidCodeSignIn {
    pub email: Email,
    pub code: SignInCode,
    pub remember: bool,
}

impl CodeSignInInput {
    pub fn validate(&self) -> Result<ValidCodeSignIn, FieldErrors> {
        let mut checks = Checks::default();
        let email = checks.field("email", Email::parse(&self.email));
        let code = checks.field("code", SignInCode::parse(&self.code));
        checks.done(|| {
            Some(ValidCodeSignIn {
                email: email?,
                code: code?,
                remember: self.remember,
            })
        })
    }
}

/// An address to mail something to at a visitor's request: a link that resets a
/// forgotten password, or a sign-in code.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct EmailInput {
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub email: String,
}

impl EmailInput {
    pub fn validate(&self) -> Result<Email, FieldErrors> {
        let mut checks = Checks::default();
        let email = checks.field("email", Email::parse(&self.email));
        checks.done(|| email)
    }
}

/// A new password, with the secret from the reset link.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ResetPasswordInput {
    /// The `token` of the link in the mail.
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub token: String,
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub password: String,
}

impl ResetPasswordInput {
    /// The password's own rules; the token is the service's to judge.
    pub fn validate(&self) -> Result<Password, FieldErrors> {
        let mut checks = Checks::default();
        let password = checks.field("password", Password::parse_new(&self.password));
        checks.done(|| password)
    }
}

/// The secret from an address-verification link.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct VerifyEmailInput {
    /// The `token` of the link in the mail.
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub token: String,
}

/// Deleting an account: the password is required when it is one's own.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct DeleteUserInput {
    /// Required when deleting your own account.
    pub password: Option<String>,
}

impl DeleteUserInput {
    /// Reads a JSON body leniently: other keys are ignored, a non-string password
    /// is a field error.
    pub fn from_json(body: &serde_json::Value) -> Result<Self, crate::error::AppError> {
        match body.get("password") {
            None => Ok(Self::default()),
            Some(value) => String::from_json(value.clone())
                .map(|password| Self { password })
                .map_err(|message| crate::error::AppError::invalid_field("password", message)),
        }
    }

    /// The password confirming the deletion of one's own account.
    pub fn own_password(&self) -> Result<Password, FieldErrors> {
        let mut checks = Checks::default();
        let password = match self.password.as_deref().unwrap_or_default() {
            "" => checks.field::<Password>("password", Err(DELETE_NEEDS_PASSWORD.into())),
            raw => checks.field("password", Password::parse_existing(raw)),
        };
        checks.done(|| password)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_in_code_is_eight_digits_and_typing_aids_are_ignored() {
        assert_eq!(SignInCode::parse("12345678").unwrap().expose(), "12345678");
        assert_eq!(SignInCode::parse(" 1234 5678 ").unwrap().expose(), "12345678");
        assert_eq!(SignInCode::parse("1234-5678").unwrap().expose(), "12345678");
        for bad in ["", "1234567", "123456789", "1234567a", "１２３４５６７８"] {
            assert!(SignInCode::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(
            format!("{:?}", SignInCode::parse("12345678").unwrap()),
            "SignInCode(<redacted>)"
        );
        let input = CodeSignInInput {
            email: "not an email".into(),
            code: "12".into(),
            remember: false,
        };
        let errors = input.validate().unwrap_err();
        assert!(
            errors.contains_key("email") && errors.contains_key("code"),
            "{errors:?}"
        );
    }

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
    fn the_longest_email_is_254_characters() {
        let email = |last_label: usize| {
            format!(
                "{}@{}.{}.{}.com",
                "a".repeat(64),
                "b".repeat(63),
                "c".repeat(63),
                "d".repeat(last_label)
            )
        };
        assert_eq!(email(57).chars().count(), 254);
        assert!(Email::parse(&email(57)).is_ok(), "254 characters fit");
        assert!(Email::parse(&email(58)).is_err(), "255 do not");
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
    fn a_new_password_may_not_hold_the_accounts_own_words_or_the_sites_name() {
        let ok = |p: &str| Password(p.into()).refuse_context_words("Ada Lovelace", "ada.king@example.com");
        assert!(ok("plinth marrow cobalt").is_ok());
        assert!(
            ok("Ada is my name").is_ok(),
            "words under four characters are not judged"
        );
        for guessable in [
            "lovelace1234",
            "my KING of passwords",
            "ada.king@example",
            "my roster pass",
            "ROSTER2026!",
        ] {
            assert_eq!(ok(guessable).unwrap_err(), PASSWORD_GUESSABLE, "{guessable}");
        }
        let input = RegisterInput {
            name: "Grace Hopper".into(),
            email: "grace@example.com".into(),
            password: "hopper rocks forever".into(),
        };
        assert_eq!(input.validate().unwrap_err()["password"], PASSWORD_GUESSABLE);
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
        assert!(Password::parse_existing(&"x".repeat(128)).is_ok(), "128 characters fit");
        assert!(Password::parse_existing(&"x".repeat(129)).is_err());
    }

    #[test]
    fn password_debug_is_redacted() {
        let p = Password::parse_new("hunter22hunter22").unwrap();
        assert_eq!(format!("{p:?}"), "Password(<redacted>)");
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
            account: RegisterInput {
                name: "Ada".into(),
                email: "ada@example.com".into(),
                password: "correct horse".into(),
            },
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

#[cfg(test)]
mod factor_code_tests {
    use super::*;

    #[test]
    fn six_digits_are_an_app_code_sixteen_base32_letters_a_recovery_code() {
        assert_eq!(FactorCode::parse(" 123 456 "), Ok(FactorCode::Totp("123456".into())));
        assert_eq!(
            FactorCode::parse("ABCD-EFGH-JKMN-PQRS-TVWX-YZ01"),
            Ok(FactorCode::Recovery("abcdefghjkmnpqrstvwxyz01".into()))
        );
        // Read as Crockford's base 32 reads: i and l are 1, o is 0.
        assert_eq!(
            FactorCode::parse("iLoO-0000-0000-0000-0000-0000"),
            Ok(FactorCode::Recovery("110000000000000000000000".into()))
        );
        for wrong in [
            "",
            "12345",
            "1234567",
            "abcd-efgh-jkmn-pqr",
            "abcd-efgh-jkmn-pqru",
            "12345a",
        ] {
            assert!(FactorCode::parse(wrong).is_err(), "{wrong:?}");
        }
        assert!(
            FactorCode::parse_totp("abcd-efgh-jkmn-pqrs").is_err(),
            "setting up takes the app's code"
        );
        assert_eq!(FactorCode::parse_totp("000 001"), Ok("000001".into()));
        assert_eq!(
            format!("{:?}", FactorCode::parse("123456").unwrap()),
            "FactorCode::Totp(<redacted>)"
        );
    }

    #[test]
    fn a_proof_is_the_password_or_a_code() {
        let proof = |password: Option<&str>, code: Option<&str>| {
            ProofInput {
                password: password.map(str::to_owned),
                code: code.map(str::to_owned),
            }
            .validate()
        };
        assert!(matches!(proof(Some("hunter2 hunter2"), None), Ok(Proof::Password(_))));
        assert!(matches!(
            proof(Some("  "), Some("123456")),
            Ok(Proof::Code(FactorCode::Totp(_)))
        ));
        assert!(proof(None, None).unwrap_err().contains_key("password"));
        assert!(proof(None, Some("12")).unwrap_err().contains_key("code"));
    }
}
