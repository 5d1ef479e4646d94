//! `/api/invitations` (administrators invite an address to register) and
//! `/api/registration` (how sign-up works here), over `Invitations`.

use super::openapi::{
    CallerRefused, ErrorEnvelope, InvitationCreatedEnvelope, InvitationEnvelope, InvitationPageEnvelope,
    InvitationPreviewEnvelope, JsonBodyRejected, RegistrationInfoEnvelope,
};
use super::{ApiJson, ApiQuery};
use app::error::AppError;
use app::model::{Invitation, InvitationCreated, InvitationPage, InvitationPreview, RegistrationInfo};
use app::ssr::caller::Caller;
use app::ssr::http::Envelope;
use app::ssr::state::AppState;
use app::validation::InvitationInput;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use http::StatusCode;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/invitations", get(list_invitations).post(create_invitation))
        .route("/invitations/{id}", delete(revoke_invitation))
        .route("/invitations/preview", get(preview_invitation))
        .route("/registration", get(registration))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct InvitationListQuery {
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
    /// 1–100, default 50.
    pub limit: Option<u32>,
}

/// Invite an address to register (admin). The link is mailed when a mail server is
/// configured; otherwise it is in the answer (`link`), shown this once.
#[utoipa::path(post, path = "/api/invitations", tag = "users",
    request_body(content = InvitationInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Invited; an open invitation for the same address is withdrawn", body = InvitationCreatedEnvelope),
        CallerRefused,
        (status = 409, description = "email_taken: an account has this address", body = ErrorEnvelope),
        (status = 422, description = "validation_failed", body = ErrorEnvelope),
        JsonBodyRejected,
    ))]
pub async fn create_invitation(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<InvitationInput>,
) -> Result<Response, AppError> {
    let created: InvitationCreated = state.invitations.create(&caller, &input).await?;
    Ok((StatusCode::CREATED, Json(Envelope::ok(created))).into_response())
}

/// Invitations, newest first, in every state (admin).
#[utoipa::path(get, path = "/api/invitations", tag = "users", params(InvitationListQuery),
    responses(
        (status = 200, description = "One page of invitations", body = InvitationPageEnvelope),
        CallerRefused,
        (status = 422, description = "validation_failed: bad limit or cursor", body = ErrorEnvelope),
    ))]
pub async fn list_invitations(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<InvitationListQuery>,
) -> Result<Json<Envelope<InvitationPage>>, AppError> {
    let page = state
        .invitations
        .list(&caller, query.cursor.as_deref(), query.limit)
        .await?;
    Ok(Json(Envelope::ok(page)))
}

/// Withdraw an invitation (admin): its link stops working.
#[utoipa::path(delete, path = "/api/invitations/{id}", tag = "users",
    params(("id" = String, Path, description = "The invitation's id")),
    responses(
        (status = 200, description = "The withdrawn invitation", body = InvitationEnvelope),
        CallerRefused,
        (status = 404, description = "not_found", body = ErrorEnvelope),
        (status = 409, description = "conflict: it was used already", body = ErrorEnvelope),
    ))]
pub async fn revoke_invitation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Envelope<Invitation>>, AppError> {
    let id = Uuid::try_parse(&id).map_err(|_| AppError::NotFound)?;
    Ok(Json(Envelope::ok(state.invitations.revoke(&caller, id).await?)))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct PreviewQuery {
    /// The `invitation` of the link.
    pub token: String,
}

/// What an invitation link is for (anyone holding it): the address, the role and
/// when it expires.
#[utoipa::path(get, path = "/api/invitations/preview", tag = "auth", params(PreviewQuery),
    responses(
        (status = 200, description = "The invitation can be used", body = InvitationPreviewEnvelope),
        (status = 400, description = "invitation_invalid: unknown, used, withdrawn or expired", body = ErrorEnvelope),
    ))]
pub async fn preview_invitation(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PreviewQuery>,
) -> Result<Json<Envelope<InvitationPreview>>, AppError> {
    Ok(Json(Envelope::ok(state.invitations.preview(&query.token).await?)))
}

/// How sign-up works here (`ROSTER_REGISTRATION`): `open`, `invite`, `approval` or
/// `closed`. Public.
#[utoipa::path(get, path = "/api/registration", tag = "auth",
    responses((status = 200, description = "The registration mode", body = RegistrationInfoEnvelope)))]
pub async fn registration(State(state): State<AppState>) -> Json<Envelope<RegistrationInfo>> {
    Json(Envelope::ok(RegistrationInfo {
        mode: state.auth.registration_mode(),
    }))
}
