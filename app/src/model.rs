//! Types that cross the wire: what clients see of users and sessions, and the
//! inputs of the user-management operations.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "user" => Some(Self::User),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// A user as shown to clients. Deliberately has no password hash field, so one can
/// never be serialized by mistake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    /// Whether the account's current address was proven by a link sent to it.
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Registered where sign-up needs approval, and not approved yet: the account
    /// can sign in only to be told it waits.
    #[serde(default)]
    pub approval_pending: bool,
    /// When a role granted for a while ends (the account then returns to the role it
    /// had before); null for a lasting role.
    #[serde(default)]
    pub role_expires_at: Option<DateTime<Utc>>,
}

/// `data` of every answer that is one user: `{"user": {…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserData {
    pub user: User,
}

/// A way to pass sign-in's second step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SecondFactorMethod {
    /// A code from an authenticator app.
    Totp,
    /// One of the account's single-use recovery codes.
    RecoveryCode,
    /// A passkey (WebAuthn) of the account.
    Passkey,
}

/// What a sign-in's first step (password or emailed code) leads to: signed in, or a
/// second step to take at `/api/login/second-factor` (the pending cookie is set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum LoginOutcome {
    SignedIn {
        user: User,
    },
    SecondFactorRequired {
        /// Always true: what clients switch on.
        second_factor_required: bool,
        methods: Vec<SecondFactorMethod>,
    },
}

/// An account's second factors, as its owner sees them (never a secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SecondFactorStatus {
    /// An authenticator app guards sign-in.
    pub totp: bool,
    /// Recovery codes not used yet.
    pub recovery_codes_left: u32,
    /// Passkeys registered.
    pub passkeys: u32,
    /// How sign-in's second step can be passed (empty: there is none).
    pub methods: Vec<SecondFactorMethod>,
}

/// An authenticator app being set up: the secret to type in, or the URI a QR code
/// carries. Nothing guards sign-in until the first code is confirmed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TotpEnrolment {
    /// Base 32, as apps take it typed.
    pub secret: String,
    pub otpauth_uri: String,
}

/// A passkey of the account, as its owner sees it (never the key itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasskeyInfo {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// `data` of `GET /api/me/passkeys`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasskeyList {
    pub passkeys: Vec<PasskeyInfo>,
}

/// The first half of a WebAuthn ceremony: what the browser passes to
/// `navigator.credentials.create` or `.get` (as `PublicKeyCredential.parse…OptionsFromJSON`
/// reads it), and the id to send back with the authenticator's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasskeyChallenge {
    pub challenge_id: Uuid,
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub options: serde_json::Value,
}

/// A passkey just registered; with the account's first recovery codes if it is the
/// account's first second factor (shown once).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasskeyAdded {
    pub passkey: PasskeyInfo,
    pub recovery_codes: Option<Vec<String>>,
}

/// New recovery codes, shown once: only their hashes are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// Until when this session counts as recently proven (`ROSTER_REAUTH_WINDOW`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Reauthenticated {
    pub reauthenticated_until: DateTime<Utc>,
}

/// One page of a user listing. `next_cursor` is null on the last page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserPage {
    pub items: Vec<User>,
    pub next_cursor: Option<String>,
}

/// Filters and position of a user listing, as received (validated by the service).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[serde(default)]
pub struct UserQuery {
    /// Case-insensitive substring of the email or name.
    pub q: Option<String>,
    /// `user` or `admin`.
    pub role: Option<String>,
    pub disabled: Option<bool>,
    /// 1–100, default 20.
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// How many sessions an administrator's "end sessions" ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionsEnded {
    pub ended: u64,
}

/// A signed-in session of the current user, for "where am I signed in".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// The session making this request.
    pub current: bool,
    /// An administrator's "view as" session (30 minutes, looking only).
    #[serde(default)]
    pub viewed_by_admin: bool,
}

/// An administrator viewing the site as a user ("view as"), as the banner and
/// `GET /api/impersonation` show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImpersonationInfo {
    /// The account being viewed as.
    pub user: User,
    pub admin_id: Uuid,
    pub admin_email: String,
    /// When it ends by itself.
    pub ends_at: DateTime<Utc>,
}

/// An account's sessions, as an administrator sees them (`GET /api/users/{id}/sessions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionList {
    /// Unexpired sessions, most recently used first.
    pub items: Vec<SessionInfo>,
}

/// Everything the administrator's page for one account shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserDetail {
    pub user: User,
    pub sessions: Vec<SessionInfo>,
    /// The newest events the account did or had done to it.
    pub activity: Vec<AuditEvent>,
    /// Whether more events exist than `activity` holds.
    pub more_activity: bool,
}

/// One change applied to many selected accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BulkUserAction {
    /// Disable and sign out everywhere.
    Disable,
    Enable,
    /// End every session.
    SignOut,
    Delete,
}

impl BulkUserAction {
    pub const ALL: [Self; 4] = [Self::Disable, Self::Enable, Self::SignOut, Self::Delete];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Enable => "enable",
            Self::SignOut => "sign_out",
            Self::Delete => "delete",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == raw)
    }

    /// What the confirmation and the report call it: "Disable", "Sign out"…
    pub fn label(self) -> &'static str {
        match self {
            Self::Disable => "Disable",
            Self::Enable => "Enable",
            Self::SignOut => "Sign out",
            Self::Delete => "Delete",
        }
    }
}

/// What a bulk action did: each selected account either done or refused with the
/// reason (the same code and message the one-account endpoint would give). Each
/// account's change is whole on its own; one refusal does not undo the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BulkOutcome {
    pub action: BulkUserAction,
    pub done: Vec<Uuid>,
    pub refused: Vec<BulkRefusal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BulkRefusal {
    pub id: Uuid,
    /// The account's address, when it exists.
    pub email: Option<String>,
    /// The error envelope's code, e.g. `last_admin` or `not_found`.
    pub code: String,
    pub message: String,
}

/// One line of the audit log, as admins see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// One of `AuditAction`'s names, e.g. `sign_in_failed`.
    pub action: String,
    pub actor_id: Option<Uuid>,
    pub actor_email: Option<String>,
    pub target_id: Option<Uuid>,
    pub target_email: Option<String>,
    pub ip: Option<String>,
    pub detail: Option<String>,
}

/// Filters and position of the audit log, as received (validated by the service).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[serde(default)]
pub struct AuditQuery {
    /// One action, e.g. `sign_in_failed`.
    pub action: Option<String>,
    /// Substring of the actor's or target's email.
    pub q: Option<String>,
    /// Only events one account did or had done to it (its id, as actor or target).
    pub user: Option<Uuid>,
    /// 1–100, default 50.
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub items: Vec<AuditEvent>,
    pub next_cursor: Option<String>,
}

/// Who may create an account (`ROSTER_REGISTRATION`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum RegistrationMode {
    /// Anyone.
    #[default]
    Open,
    /// Only someone with an invitation, for its address.
    Invite,
    /// Anyone, but the account waits for an administrator's approval (invited
    /// people do not wait).
    Approval,
    /// Nobody: administrators create accounts.
    Closed,
}

impl RegistrationMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Invite => "invite",
            Self::Approval => "approval",
            Self::Closed => "closed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Open, Self::Invite, Self::Approval, Self::Closed]
            .into_iter()
            .find(|m| m.as_str() == raw)
    }
}

/// What the registration page needs to know: the mode, and the invitation the
/// visitor came with (if its link still works).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistrationContext {
    pub mode: RegistrationMode,
    pub invitation: Option<InvitationPreview>,
    /// The visitor came with a link that no longer works.
    pub invitation_invalid: bool,
}

/// `data` of `GET /api/registration`: how sign-up works here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RegistrationInfo {
    pub mode: RegistrationMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum InvitationState {
    /// Can still be used.
    Pending,
    Accepted,
    Revoked,
    Expired,
}

impl InvitationState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }
}

/// An invitation to register, as administrators see it (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Invitation {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub state: InvitationState,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub created_by: Option<Uuid>,
    pub accepted_at: Option<DateTime<Utc>>,
    /// The account made with it.
    pub accepted_by: Option<Uuid>,
    pub sent_by_mail: bool,
}

/// `data` of `POST /api/invitations`. `link` is there when no mail server is
/// configured (`ROSTER_SMTP_URL`): pass it on yourself. It is shown only now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InvitationCreated {
    pub invitation: Invitation,
    pub link: Option<String>,
}

/// `data` of `GET /api/invitations`: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InvitationPage {
    pub items: Vec<Invitation>,
    pub next_cursor: Option<String>,
}

/// What the registration page shows for an invitation link: the address it is for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InvitationPreview {
    pub email: String,
    pub role: Role,
    pub expires_at: DateTime<Utc>,
}

/// What an admin form just did, for the page to show after a plain form post
/// (and, the same way, after a hydrated one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AdminNotice {
    /// An invitation whose link was not mailed: shown once, to pass on.
    InvitationLink { email: String, link: String },
    /// An import or a dry run (at most the first `NOTICE_REFUSED_ROWS` refused rows).
    Import(ImportReport),
    /// An import that was refused: nothing was written.
    ImportRefused {
        rows: u64,
        refused_count: u64,
        refused: Vec<RefusedRow>,
    },
    /// A bulk action on selected accounts (at most `NOTICE_REFUSED_ROWS` refusals).
    Bulk {
        action: BulkUserAction,
        done: u64,
        refused: Vec<BulkRefusal>,
        refused_count: u64,
    },
}

/// How many refused rows an admin notice carries (it travels in a cookie); the API
/// and `roster import --dry-run` list them all.
pub const NOTICE_REFUSED_ROWS: usize = 10;

/// A row of an import file that was refused, and why (1-based line of the file;
/// the header row is line 1 of a CSV file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RefusedRow {
    pub line: u64,
    pub email: Option<String>,
    pub reason: String,
}

/// What an import did (or, in a dry run, would do). Nothing is written unless
/// every row is accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportReport {
    pub dry_run: bool,
    /// Rows read (not counting a CSV header).
    pub rows: u64,
    /// Accounts created: 0 in a dry run or when any row was refused.
    pub imported: u64,
    /// Every refused row (an import with any is not written).
    pub refused: Vec<RefusedRow>,
    /// How many accepted rows carry each kind of password hash (`none` for an
    /// account that must reset its password to sign in).
    pub hash_formats: std::collections::BTreeMap<String, u64>,
}

/// What the audit log records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    Registered,
    SignIn,
    SignInFailed,
    SignOut,
    ProfileUpdated,
    PasswordChanged,
    RoleChanged,
    UserDisabled,
    UserEnabled,
    UserCreated,
    UserDeleted,
    SessionsRevoked,
    /// A link was sent by mail (the detail says which kind).
    TokenIssued,
    TokenUsed,
    /// A link that opened nothing: unknown, used or expired (the detail says which).
    TokenRefused,
    EmailVerified,
    /// An administrator marked an address unproven.
    EmailUnverified,
    /// A sign-in from a browser the account had not used before (the detail says
    /// whether its owner was mailed a notice).
    NewDevice,
    /// An authenticator app now guards sign-in (its first code confirmed).
    SecondFactorEnabled,
    /// The authenticator app was turned off (by its owner; an administrator's
    /// reset is `SecondFactorsReset`).
    SecondFactorDisabled,
    /// An administrator removed an account's second factors.
    SecondFactorsReset,
    /// New recovery codes replaced the old ones.
    RecoveryCodesRegenerated,
    /// A recovery code was used up (the detail says what for).
    RecoveryCodeUsed,
    /// A session proved again who holds it (password or code).
    Reauthenticated,
    /// An imported password hash was replaced by Roster's own at sign-in.
    PasswordRehashed,
    /// Accounts were imported from a file (`roster import` or the admin page).
    UsersImported,
    /// An administrator invited an address to register.
    InvitationCreated,
    InvitationRevoked,
    /// A registration was refused by `ROSTER_REGISTRATION` (the detail says why).
    RegistrationRefused,
    /// An administrator approved an account that waited (`ROSTER_REGISTRATION=approval`).
    RegistrationApproved,
    /// An administrator rejected an account that waited: it is deleted.
    RegistrationRejected,
    /// An administrator began viewing the site as a user (actor: the administrator,
    /// target: the user).
    ImpersonationStarted,
    /// The administrator went back to their own account (or signed out).
    ImpersonationEnded,
}

impl AuditAction {
    pub const ALL: [AuditAction; 33] = [
        Self::Registered,
        Self::SignIn,
        Self::SignInFailed,
        Self::SignOut,
        Self::ProfileUpdated,
        Self::PasswordChanged,
        Self::RoleChanged,
        Self::UserDisabled,
        Self::UserEnabled,
        Self::UserCreated,
        Self::UserDeleted,
        Self::SessionsRevoked,
        Self::TokenIssued,
        Self::TokenUsed,
        Self::TokenRefused,
        Self::EmailVerified,
        Self::EmailUnverified,
        Self::NewDevice,
        Self::SecondFactorEnabled,
        Self::SecondFactorDisabled,
        Self::SecondFactorsReset,
        Self::RecoveryCodesRegenerated,
        Self::RecoveryCodeUsed,
        Self::Reauthenticated,
        Self::PasswordRehashed,
        Self::UsersImported,
        Self::InvitationCreated,
        Self::InvitationRevoked,
        Self::RegistrationRefused,
        Self::RegistrationApproved,
        Self::RegistrationRejected,
        Self::ImpersonationStarted,
        Self::ImpersonationEnded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::SignIn => "sign_in",
            Self::SignInFailed => "sign_in_failed",
            Self::SignOut => "sign_out",
            Self::ProfileUpdated => "profile_updated",
            Self::PasswordChanged => "password_changed",
            Self::RoleChanged => "role_changed",
            Self::UserDisabled => "user_disabled",
            Self::UserEnabled => "user_enabled",
            Self::UserCreated => "user_created",
            Self::UserDeleted => "user_deleted",
            Self::SessionsRevoked => "sessions_revoked",
            Self::TokenIssued => "token_issued",
            Self::TokenUsed => "token_used",
            Self::TokenRefused => "token_refused",
            Self::EmailVerified => "email_verified",
            Self::EmailUnverified => "email_unverified",
            Self::NewDevice => "new_device",
            Self::SecondFactorEnabled => "second_factor_enabled",
            Self::SecondFactorDisabled => "second_factor_disabled",
            Self::SecondFactorsReset => "second_factors_reset",
            Self::RecoveryCodesRegenerated => "recovery_codes_regenerated",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::Reauthenticated => "reauthenticated",
            Self::PasswordRehashed => "password_rehashed",
            Self::UsersImported => "users_imported",
            Self::InvitationCreated => "invitation_created",
            Self::InvitationRevoked => "invitation_revoked",
            Self::RegistrationRefused => "registration_refused",
            Self::RegistrationApproved => "registration_approved",
            Self::RegistrationRejected => "registration_rejected",
            Self::ImpersonationStarted => "impersonation_started",
            Self::ImpersonationEnded => "impersonation_ended",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == raw)
    }
}
