//! The one error type of Roster. Every variant has exactly one envelope code and one
//! HTTP status; the REST handlers, the server functions and the pages all use it.

use crate::validation::FieldErrors;
use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

/// When to try again after a 503: the session store's client reconnects well within this.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum AppError {
    #[error("Please correct the highlighted fields.")]
    ValidationFailed { fields: FieldErrors },
    #[error("An account with this email already exists.")]
    EmailTaken,
    #[error("The email or password is incorrect.")]
    InvalidCredentials,
    #[error("You need to sign in first.")]
    Unauthenticated,
    #[error("You are not allowed to do that.")]
    Forbidden,
    #[error("This request came from another site and was refused.")]
    CrossSiteRequest,
    #[error("This account is disabled. Contact an administrator.")]
    AccountDisabled,
    #[error("This is the last active administrator; promote another one first.")]
    LastAdmin,
    #[error("This account's address is not confirmed yet. Follow the link we sent to it, or ask for a new one.")]
    EmailUnverified,
    #[error("This link is not valid: it may have expired or been used already. Ask for a new one.")]
    InvalidToken,
    #[error("That code is not right, or it has expired or been used already. Check it and try again.")]
    InvalidCode,
    /// A passkey's answer that does not check out (wrong device, a replayed or expired
    /// challenge, a passkey removed meanwhile).
    #[error("That passkey was not accepted. Try again, or use another way to sign in.")]
    PasskeyRefused,
    /// A sensitive change needs a fresh proof (password or code) from this session.
    #[error("For your security, confirm it is you: enter your password (or a code from your authenticator app) again.")]
    ReauthenticationRequired,
    /// The change cannot be made in the state the account is in (the message says why).
    #[error("{message}")]
    Conflict { message: String },
    /// `ROSTER_REGISTRATION` does not let this visitor create an account.
    #[error("Registration is closed. Ask an administrator for an invitation.")]
    RegistrationClosed,
    /// An invitation link that opens nothing: unknown, used, revoked or expired.
    #[error("This invitation is not valid: it may have been used, withdrawn or have expired. Ask for a new one.")]
    InvitationInvalid,
    /// The account waits for an administrator's approval.
    #[error("Your account is waiting for an administrator's approval. You can sign in once it is approved.")]
    ApprovalPending,
    /// An administrator viewing the site as a user ("view as") may look, not change
    /// the account's password, address, factors or sessions.
    #[error("Not while viewing as another user. Go back to your own account first.")]
    ImpersonationRestricted,
    /// An import file with rows that cannot be imported: nothing was written.
    /// `refused` may list only the first rows (a page's notice); `refused_count` is all.
    #[error("{refused_count} of {rows} rows were refused; nothing was imported.")]
    ImportRefused {
        rows: u64,
        refused_count: u64,
        refused: Vec<crate::model::RefusedRow>,
    },
    #[error("Too many attempts. Try again in {} minute(s).", retry_after_secs.div_ceil(60))]
    RateLimited { retry_after_secs: u64 },
    #[error("{message}")]
    BadRequest { message: String },
    #[error("The request body is too large.")]
    PayloadTooLarge,
    #[error("The request body must be JSON (Content-Type: application/json).")]
    UnsupportedMediaType,
    #[error("Not found.")]
    NotFound,
    #[error("This method is not allowed here.")]
    MethodNotAllowed,
    /// Something the request needs cannot be reached just now (in the browser: the
    /// server; on the server: the session store). Answered with Retry-After.
    #[error("Roster cannot be reached just now. Please try again in a few seconds.")]
    Unavailable,
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
}

impl AppError {
    /// The stable, machine-readable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ValidationFailed { .. } => "validation_failed",
            Self::EmailTaken => "email_taken",
            Self::InvalidCredentials => "invalid_credentials",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden => "forbidden",
            Self::CrossSiteRequest => "cross_site_request",
            Self::AccountDisabled => "account_disabled",
            Self::LastAdmin => "last_admin",
            Self::EmailUnverified => "email_unverified",
            Self::InvalidToken => "invalid_token",
            Self::InvalidCode => "invalid_code",
            Self::ReauthenticationRequired => "reauthentication_required",
            Self::PasskeyRefused => "passkey_refused",
            Self::Conflict { .. } => "conflict",
            Self::RegistrationClosed => "registration_closed",
            Self::InvitationInvalid => "invitation_invalid",
            Self::ApprovalPending => "approval_pending",
            Self::ImpersonationRestricted => "impersonation_restricted",
            Self::ImportRefused { .. } => "import_refused",
            Self::RateLimited { .. } => "rate_limited",
            Self::BadRequest { .. } => "bad_request",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::ValidationFailed { .. } => 422,
            Self::EmailTaken => 409,
            Self::InvalidCredentials
            | Self::Unauthenticated
            | Self::InvalidCode
            | Self::ReauthenticationRequired
            | Self::PasskeyRefused => 401,
            Self::Forbidden
            | Self::AccountDisabled
            | Self::CrossSiteRequest
            | Self::EmailUnverified
            | Self::RegistrationClosed
            | Self::ApprovalPending
            | Self::ImpersonationRestricted => 403,
            Self::InvitationInvalid => 400,
            Self::ImportRefused { .. } => 422,
            Self::InvalidToken => 400,
            Self::LastAdmin | Self::Conflict { .. } => 409,
            Self::RateLimited { .. } => 429,
            Self::BadRequest { .. } => 400,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::Unavailable => 503,
            Self::Internal => 500,
        }
    }

    pub fn fields(&self) -> Option<&FieldErrors> {
        match self {
            Self::ValidationFailed { fields } => Some(fields),
            _ => None,
        }
    }

    /// The message for one field, if validation failed on it.
    pub fn field(&self, name: &str) -> Option<String> {
        self.fields().and_then(|f| f.get(name).cloned())
    }

    pub fn validation(fields: FieldErrors) -> Self {
        Self::ValidationFailed { fields }
    }

    /// When the client may try again (the `Retry-After` header), for the errors
    /// that pass.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            Self::Unavailable => Some(UNAVAILABLE_RETRY_AFTER_SECS),
            _ => None,
        }
    }

    /// One value of every variant: for tests and documentation that must cover them all.
    pub fn one_of_each() -> Vec<Self> {
        vec![
            Self::validation(FieldErrors::new()),
            Self::EmailTaken,
            Self::InvalidCredentials,
            Self::Unauthenticated,
            Self::Forbidden,
            Self::CrossSiteRequest,
            Self::AccountDisabled,
            Self::LastAdmin,
            Self::EmailUnverified,
            Self::InvalidToken,
            Self::InvalidCode,
            Self::PasskeyRefused,
            Self::ReauthenticationRequired,
            Self::conflict("x"),
            Self::RegistrationClosed,
            Self::InvitationInvalid,
            Self::ApprovalPending,
            Self::ImpersonationRestricted,
            Self::ImportRefused {
                rows: 1,
                refused_count: 0,
                refused: Vec::new(),
            },
            Self::RateLimited { retry_after_secs: 60 },
            Self::bad_request("x"),
            Self::PayloadTooLarge,
            Self::UnsupportedMediaType,
            Self::NotFound,
            Self::MethodNotAllowed,
            Self::Unavailable,
            Self::Internal,
        ]
    }

    /// One field's message, as a validation failure.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::ValidationFailed {
            fields: FieldErrors::from([(field.to_string(), message.into())]),
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict {
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest {
            message: message.into(),
        }
    }

    /// Logs the cause, with the place it was turned into an error, and hides it:
    /// clients only ever see the generic message.
    #[cfg(feature = "ssr")]
    #[track_caller]
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let at = std::panic::Location::caller();
        tracing::error!(error = %cause, %at, "internal error");
        Self::Internal
    }
}

/// Database failures reach handlers through plain `?`. The log line names the
/// statement's call site (`#[track_caller]`: the `?` that converted it) as well as
/// the driver's message, so it says which operation failed. A failure is internal,
/// except a pool with no connection to give within its timeout: that is overload,
/// and the client should come back shortly (503 with Retry-After).
#[cfg(feature = "ssr")]
impl From<sea_orm::DbErr> for AppError {
    #[track_caller]
    fn from(err: sea_orm::DbErr) -> Self {
        let at = std::panic::Location::caller();
        if matches!(
            err,
            sea_orm::DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout)
        ) {
            tracing::warn!(error = %err, %at, "database busy: no connection within the pool's timeout");
            return Self::Unavailable;
        }
        tracing::error!(error = %err, %at, "internal error: database");
        Self::Internal
    }
}

/// A write that a unique index may refuse: the refusal is the caller's conflict
/// (say, a taken email), any other failure is internal.
#[cfg(feature = "ssr")]
pub trait UniqueViolation<T> {
    fn conflict_on_unique(self, conflict: AppError) -> Result<T, AppError>;
}

#[cfg(feature = "ssr")]
impl<T> UniqueViolation<T> for Result<T, sea_orm::DbErr> {
    #[track_caller]
    fn conflict_on_unique(self, conflict: AppError) -> Result<T, AppError> {
        match self {
            Ok(value) => Ok(value),
            Err(err) if matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => Err(conflict),
            Err(err) => Err(AppError::from(err)),
        }
    }
}

/// The error object of the JSON envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub fields: Option<FieldErrors>,
    /// `import_refused`: every row that was refused, and why.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub refused: Option<Vec<crate::model::RefusedRow>>,
}

impl From<&AppError> for ErrorBody {
    fn from(err: &AppError) -> Self {
        let refused = match err {
            AppError::ImportRefused { refused, .. } => Some(refused.clone()),
            _ => None,
        };
        Self {
            code: err.code().to_string(),
            message: err.to_string(),
            fields: err.fields().cloned(),
            refused,
        }
    }
}

/// Failures of the server-function transport itself (bad arguments on the server,
/// an unreachable server in the browser) become ordinary variants.
impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) => Self::Unavailable,
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::MissingArg(m) | ServerFnErrorErr::Deserialization(m) => {
                Self::bad_request(format!("Invalid request: {m}"))
            }
            ServerFnErrorErr::UnsupportedRequestMethod(m) => Self::bad_request(m),
            _ => Self::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_a_distinct_code() {
        let all = AppError::one_of_each();
        let codes: std::collections::BTreeSet<_> = all.iter().map(AppError::code).collect();
        assert_eq!(codes.len(), all.len());
        assert_eq!(AppError::EmailTaken.status(), 409);
        assert_eq!(AppError::validation(FieldErrors::new()).status(), 422);
    }

    #[test]
    fn error_body_carries_fields_only_for_validation() {
        let mut fields = FieldErrors::new();
        fields.insert("email".into(), "bad".into());
        let body = serde_json::to_value(ErrorBody::from(&AppError::validation(fields))).unwrap();
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(body["fields"]["email"], "bad");
        let body = serde_json::to_value(ErrorBody::from(&AppError::Internal)).unwrap();
        assert!(body.get("fields").is_none());
    }

    #[test]
    fn transport_failures_become_ordinary_errors() {
        let from = AppError::from_server_fn_error;
        assert_eq!(from(ServerFnErrorErr::Request("offline".into())), AppError::Unavailable);
        for bad in [
            ServerFnErrorErr::Args("id".into()),
            ServerFnErrorErr::MissingArg("id".into()),
            ServerFnErrorErr::Deserialization("id".into()),
        ] {
            let err = from(bad);
            assert_eq!(err.code(), "bad_request", "{err:?}");
            assert!(err.to_string().starts_with("Invalid request: "), "{err}");
        }
        assert_eq!(
            from(ServerFnErrorErr::UnsupportedRequestMethod("PATCH".into())),
            AppError::bad_request("PATCH")
        );
        assert_eq!(from(ServerFnErrorErr::ServerError("boom".into())), AppError::Internal);
    }

    #[test]
    fn round_trips_through_the_server_fn_encoding() {
        let err = AppError::EmailTaken;
        assert_eq!(AppError::de(err.ser()), err);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn a_pool_without_a_free_connection_is_unavailable_not_internal() {
        use sea_orm::DbErr;
        use sea_orm::error::ConnAcquireErr;
        assert_eq!(
            AppError::from(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)),
            AppError::Unavailable
        );
        assert_eq!(
            AppError::from(DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed)),
            AppError::Internal
        );
        assert_eq!(AppError::from(DbErr::Custom("boom".into())), AppError::Internal);
    }
}
