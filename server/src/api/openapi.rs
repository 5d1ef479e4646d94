//! The OpenAPI 3.1 document, generated from the handlers' annotations and the wire
//! types, whose schemas are derived where they are defined (`app::model`,
//! `app::validation`). The envelope types here exist only to describe responses.

use app::model::{
    AuditEvent, AuditPage, LoginOutcome, PasskeyAdded, PasskeyChallenge, PasskeyInfo, PasskeyList, Reauthenticated,
    RecoveryCodes, Role, SecondFactorMethod, SecondFactorStatus, SessionInfo, SessionsEnded, TotpEnrolment, User,
    UserData, UserPage,
};
use app::model::{BulkOutcome, BulkRefusal, BulkUserAction, ImpersonationInfo, SessionList};
use app::model::{
    ImportReport, Invitation, InvitationCreated, InvitationPage, InvitationPreview, InvitationState, RefusedRow,
    RegistrationInfo, RegistrationMode,
};
use app::stats::{AccountCounts, AdminStats, CountBucket, MailCounts, SignInBucket, StatsRange};
use app::validation::BulkUserInput;
use app::validation::{
    CodeSignInInput, CreateUserInput, DeleteUserInput, EmailInput, FactorCodeInput, InvitationInput, LoginInput,
    PasskeyNameInput, PasskeyResponseInput, ProofInput, RegisterInput, RegistrationRequest, ResetPasswordInput,
    UpdateUserInput, VerifyEmailInput,
};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::{IntoResponses, OpenApi, ToSchema};

/// Every error code, with its HTTP status in the description of each response.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum ErrorCode {
    ValidationFailed,
    EmailTaken,
    InvalidCredentials,
    Unauthenticated,
    Forbidden,
    CrossSiteRequest,
    AccountDisabled,
    LastAdmin,
    EmailUnverified,
    InvalidToken,
    InvalidCode,
    PasskeyRefused,
    ReauthenticationRequired,
    Conflict,
    RegistrationClosed,
    InvitationInvalid,
    ApprovalPending,
    ImpersonationRestricted,
    ImportRefused,
    RateLimited,
    BadRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    NotFound,
    MethodNotAllowed,
    Unavailable,
    Internal,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    code: ErrorCode,
    /// Human-readable; safe to show.
    message: String,
    /// Per-field messages, only for `validation_failed`.
    fields: Option<BTreeMap<String, String>>,
    /// Only for `import_refused`: every refused row of the file, and why.
    refused: Option<Vec<RefusedRow>>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorEnvelope {
    /// Always false.
    success: bool,
    /// Always null.
    data: Option<Value>,
    error: ErrorBody,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UserEnvelope {
    success: bool,
    data: UserData,
    /// Always null on success.
    error: Option<ErrorBody>,
}

/// Generates an envelope type per wire type, for the document only.
macro_rules! envelopes {
    ($($name:ident => $data:ty),* $(,)?) => {$(
        #[derive(ToSchema)]
        #[allow(dead_code)]
        pub struct $name {
            success: bool,
            data: $data,
            /// Always null on success.
            error: Option<ErrorBody>,
        }
    )*};
}

envelopes! {
    LoginOutcomeEnvelope => LoginOutcome,
    SecondFactorStatusEnvelope => SecondFactorStatus,
    TotpEnrolmentEnvelope => TotpEnrolment,
    RecoveryCodesEnvelope => RecoveryCodes,
    ReauthenticatedEnvelope => Reauthenticated,
    PasskeyListEnvelope => PasskeyList,
    PasskeyInfoEnvelope => PasskeyInfo,
    PasskeyChallengeEnvelope => PasskeyChallenge,
    PasskeyAddedEnvelope => PasskeyAdded,
    ImportReportEnvelope => ImportReport,
    InvitationEnvelope => Invitation,
    InvitationCreatedEnvelope => InvitationCreated,
    InvitationPageEnvelope => InvitationPage,
    InvitationPreviewEnvelope => InvitationPreview,
    RegistrationInfoEnvelope => RegistrationInfo,
    AdminStatsEnvelope => AdminStats,
    SessionListEnvelope => SessionList,
    BulkOutcomeEnvelope => BulkOutcome,
    ImpersonationEnvelope => ImpersonationInfo,
    ImpersonationStatusEnvelope => Option<ImpersonationInfo>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UserPageEnvelope {
    success: bool,
    data: UserPage,
    error: Option<ErrorBody>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SessionsEndedEnvelope {
    success: bool,
    data: SessionsEnded,
    error: Option<ErrorBody>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AuditPageEnvelope {
    success: bool,
    data: AuditPage,
    error: Option<ErrorBody>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EmptyEnvelope {
    success: bool,
    /// Always null.
    data: Option<Value>,
    error: Option<ErrorBody>,
}

/// What any endpoint that reads a JSON body may answer before its handler runs
/// (`ApiJson`).
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum JsonBodyRejected {
    /// bad_request: malformed JSON
    #[response(status = 400)]
    Malformed(ErrorEnvelope),
    /// payload_too_large
    #[response(status = 413)]
    TooLarge(ErrorEnvelope),
    /// unsupported_media_type: the body must be `application/json`
    #[response(status = 415)]
    NotJson(ErrorEnvelope),
}

/// What an endpoint that acts for a signed-in caller answers when the policy says no.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum CallerRefused {
    /// unauthenticated: no live session
    #[response(status = 401)]
    Unauthenticated(ErrorEnvelope),
    /// forbidden: signed in, but the policy does not allow it (approval_pending for an
    /// account that waits for approval, impersonation_restricted while an
    /// administrator views the site as a user)
    #[response(status = 403)]
    Forbidden(ErrorEnvelope),
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Roster API", description = "Accounts, sessions and administration. Every response, success or \
        failure, is the envelope `{success, data, error}`. Authentication is the session cookie set by \
        register and login."),
    paths(
        super::auth::register,
        super::auth::login,
        super::auth::request_code,
        super::auth::sign_in_with_code,
        super::auth::second_factor,
        super::auth::logout,
        super::auth::me,
        super::users::list_users,
        super::users::create_user,
        super::users::get_user,
        super::users::update_user,
        super::users::delete_user,
        super::users::end_sessions,
        super::users::list_sessions,
        super::users::end_one_session,
        super::users::bulk_edit,
        super::impersonation::start,
        super::impersonation::status,
        super::impersonation::end,
        super::audit::own_activity,
        super::users::approval_queue,
        super::users::approve_user,
        super::users::reject_user,
        super::users::import_users,
        super::invitations::create_invitation,
        super::invitations::list_invitations,
        super::invitations::revoke_invitation,
        super::invitations::preview_invitation,
        super::invitations::registration,
        super::stats::admin_stats,
        super::audit::list_audit,
        super::links::verify_email,
        super::links::resend_verification,
        super::links::forgot_password,
        super::links::reset_password,
        super::links::confirm_email_change,
        super::links::revert_email_change,
        super::second_factors::status,
        super::second_factors::begin_totp,
        super::second_factors::confirm_totp,
        super::second_factors::disable_totp,
        super::second_factors::regenerate_recovery_codes,
        super::second_factors::reauthenticate,
        super::second_factors::reset_for_user,
        super::second_factors::list_passkeys,
        super::second_factors::start_passkey_registration,
        super::second_factors::finish_passkey_registration,
        super::second_factors::rename_passkey,
        super::second_factors::remove_passkey,
        super::second_factors::start_passkey_sign_in,
        super::second_factors::finish_passkey_sign_in,
        super::second_factors::start_passkey_second_step,
        super::second_factors::finish_passkey_second_step,
        super::second_factors::start_passkey_reauthentication,
        super::second_factors::finish_passkey_reauthentication,
    ),
    components(schemas(ErrorCode, ErrorBody, ErrorEnvelope, UserEnvelope, UserPageEnvelope, EmptyEnvelope, SessionsEnded, SessionsEndedEnvelope, User, UserData, UserPage, SessionInfo, Role, AuditEvent, AuditPage, AuditPageEnvelope, RegisterInput, LoginInput, EmailInput, CodeSignInInput, CreateUserInput, UpdateUserInput, DeleteUserInput, VerifyEmailInput, ResetPasswordInput, LoginOutcome, LoginOutcomeEnvelope, SecondFactorMethod, SecondFactorStatus, SecondFactorStatusEnvelope, TotpEnrolment, TotpEnrolmentEnvelope, RecoveryCodes, RecoveryCodesEnvelope, Reauthenticated, ReauthenticatedEnvelope, FactorCodeInput, ProofInput, PasskeyInfo, PasskeyList, PasskeyListEnvelope, PasskeyInfoEnvelope, PasskeyChallenge, PasskeyChallengeEnvelope, PasskeyAdded, PasskeyAddedEnvelope, PasskeyResponseInput, PasskeyNameInput, RegistrationRequest, InvitationInput, Invitation, InvitationState, InvitationCreated, InvitationPage, InvitationPreview, InvitationEnvelope, InvitationCreatedEnvelope, InvitationPageEnvelope, InvitationPreviewEnvelope, RegistrationInfo, RegistrationMode, RegistrationInfoEnvelope, ImportReport, ImportReportEnvelope, RefusedRow, AdminStats, AdminStatsEnvelope, StatsRange, CountBucket, SignInBucket, AccountCounts, MailCounts, SessionList, SessionListEnvelope, BulkUserInput, BulkUserAction, BulkOutcome, BulkRefusal, BulkOutcomeEnvelope, ImpersonationInfo, ImpersonationEnvelope, ImpersonationStatusEnvelope)),
    tags((name = "auth", description = "Sign-up, sign-in and sessions"), (name = "users", description = "Account management"), (name = "audit", description = "Security events"), (name = "email", description = "Flows through a link sent by mail: proving an address, resetting a password, changing one's address"), (name = "second factors", description = "Authenticator apps, recovery codes and re-authentication")),
)]
pub struct ApiDoc;

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub async fn serve() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(document())
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::error::AppError;

    #[test]
    fn documents_every_error_code_the_code_can_produce() {
        let doc = serde_json::to_value(document()).unwrap();
        let documented: Vec<String> = doc["components"]["schemas"]["ErrorCode"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        let all = AppError::one_of_each();
        let codes: Vec<String> = all.iter().map(|e| e.code().to_owned()).collect();
        assert_eq!(documented, codes);
        assert_eq!(doc["openapi"], "3.1.0");
    }
}
