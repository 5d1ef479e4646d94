//! `/api/users`: account management over `UserService`, with the same policy,
//! validation and errors as the admin and account pages.

use super::openapi::{
    BulkOutcomeEnvelope, CallerRefused, EmptyEnvelope, ErrorEnvelope, ImportReportEnvelope, JsonBodyRejected,
    SessionListEnvelope, SessionsEndedEnvelope, UserEnvelope, UserPageEnvelope,
};
use super::{ApiJson, ApiQuery};
use app::error::AppError;
use app::model::{BulkOutcome, ImportReport, SessionList, SessionsEnded, UserData, UserPage, UserQuery};
use app::ssr::caller::Caller;
use app::ssr::http::Envelope;
use app::ssr::state::AppState;
use app::validation::{BulkUserInput, CreateUserInput, DeleteUserInput, UpdateUserInput};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::StatusCode;
use serde_json::Value;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}", get(get_user).put(update_user).delete(delete_user))
        .route("/users/{id}/sessions", get(list_sessions).delete(end_sessions))
        .route(
            "/users/{id}/sessions/{session_id}",
            axum::routing::delete(end_one_session),
        )
        .route("/users/bulk", post(bulk_edit))
        .route("/users/pending", get(approval_queue))
        .route("/users/{id}/approve", post(approve_user))
        .route("/users/{id}/reject", post(reject_user))
        .route(
            "/users/import",
            post(import_users).layer(axum::extract::DefaultBodyLimit::max(IMPORT_MAX_BYTES)),
        )
}

/// An import file may be far larger than any other body: 100,000 accounts with
/// long hashes fit.
pub const IMPORT_MAX_BYTES: usize = 32 * 1024 * 1024;

/// Ids are opaque: anything that is not one of ours is simply not found.
fn parse_id(raw: &str) -> Result<Uuid, AppError> {
    Uuid::try_parse(raw).map_err(|_| AppError::NotFound)
}

/// List users (admin): keyset pagination, search and filters.
#[utoipa::path(get, path = "/api/users", tag = "users", params(UserQuery),
    responses(
        (status = 200, description = "One page of users, newest first", body = UserPageEnvelope),
        CallerRefused,
        (status = 422, description = "validation_failed: bad limit, role or cursor", body = ErrorEnvelope),
        (status = 400, description = "bad_request: malformed query string", body = ErrorEnvelope),
    ))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> Result<Json<Envelope<UserPage>>, AppError> {
    let page = state.users.list(&caller, &query).await?;
    Ok(Json(Envelope::ok(page)))
}

/// Create a user (admin).
#[utoipa::path(post, path = "/api/users", tag = "users",
    request_body(content = CreateUserInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = UserEnvelope),
        CallerRefused,
        (status = 409, description = "email_taken", body = ErrorEnvelope),
        (status = 422, description = "validation_failed", body = ErrorEnvelope),
        JsonBodyRejected,
    ))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<CreateUserInput>,
) -> Result<Response, AppError> {
    let user = state.users.create(&caller, &input).await?;
    Ok((StatusCode::CREATED, Json(Envelope::ok(UserData { user }))).into_response())
}

/// Get a user: admins any, users only themselves.
#[utoipa::path(get, path = "/api/users/{id}", tag = "users",
    params(("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user", body = UserEnvelope),
        CallerRefused,
        (status = 404, description = "not_found (also for malformed ids)", body = ErrorEnvelope),
    ))]
pub async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Envelope<UserData>>, AppError> {
    let user = state.users.get(&caller, parse_id(&id)?).await?;
    Ok(Json(Envelope::ok(UserData { user })))
}

/// Update a user. Only the fields present change.
#[utoipa::path(put, path = "/api/users/{id}", tag = "users",
    params(("id" = String, Path, description = "The user's id")),
    request_body(content = UpdateUserInput, content_type = "application/json"),
    responses(
        (status = 200, description = "The updated user", body = UserEnvelope),
        CallerRefused,
        (status = 404, description = "not_found", body = ErrorEnvelope),
        (status = 409, description = "email_taken or last_admin", body = ErrorEnvelope),
        (status = 422, description = "validation_failed, including unknown fields", body = ErrorEnvelope),
        JsonBodyRejected,
    ))]
pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Envelope<UserData>>, AppError> {
    let id = parse_id(&id)?;
    let input = UpdateUserInput::from_json(body)?;
    let user = state.users.update(&caller, id, &input).await?;
    Ok(Json(Envelope::ok(UserData { user })))
}

/// Delete a user and all their sessions. Deleting yourself needs `{"password": "…"}`.
#[utoipa::path(delete, path = "/api/users/{id}", tag = "users",
    params(("id" = String, Path, description = "The user's id")),
    request_body(content = Option<DeleteUserInput>, content_type = "application/json"),
    responses(
        (status = 200, description = "Deleted", body = EmptyEnvelope),
        CallerRefused,
        (status = 404, description = "not_found", body = ErrorEnvelope),
        (status = 409, description = "last_admin", body = ErrorEnvelope),
        (status = 422, description = "validation_failed: password missing or wrong", body = ErrorEnvelope),
        (status = 400, description = "bad_request: malformed JSON", body = ErrorEnvelope),
    ))]
pub async fn delete_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Envelope<Value>>, AppError> {
    let id = parse_id(&id)?;
    let input = if body.iter().all(u8::is_ascii_whitespace) {
        DeleteUserInput::default()
    } else {
        let value: Value =
            serde_json::from_slice(&body).map_err(|e| AppError::bad_request(format!("Malformed JSON: {e}")))?;
        DeleteUserInput::from_json(&value)?
    };
    state.users.delete(&caller, id, &input).await?;
    Ok(Json(Envelope::ok(Value::Null)))
}

/// End every session of a user (admin), on every server at once: for a lost or
/// stolen device. The user signs in again; nothing else changes.
#[utoipa::path(delete, path = "/api/users/{id}/sessions", tag = "users",
    params(("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "How many sessions were ended", body = SessionsEndedEnvelope),
        CallerRefused,
        (status = 404, description = "not_found", body = ErrorEnvelope),
    ))]
pub async fn end_sessions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Envelope<SessionsEnded>>, AppError> {
    let id = parse_id(&id)?;
    let ended = state.users.end_sessions(&caller, id).await?;
    Ok(Json(Envelope::ok(SessionsEnded { ended })))
}

/// Where a user is signed in (admin), most recently used first.
#[utoipa::path(get, path = "/api/users/{id}/sessions", tag = "users",
    params(("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The account's unexpired sessions", body = SessionListEnvelope),
        CallerRefused,
        (status = 404, description = "not_found", body = ErrorEnvelope),
    ))]
pub async fn list_sessions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Envelope<SessionList>>, AppError> {
    let items = state.sessions.list_for_user(&caller, parse_id(&id)?).await?;
    Ok(Json(Envelope::ok(SessionList { items })))
}

/// End one session of a user (admin), named by the id `GET …/sessions` lists: for
/// one lost device, leaving the others signed in.
#[utoipa::path(delete, path = "/api/users/{id}/sessions/{session_id}", tag = "users",
    params(
        ("id" = String, Path, description = "The user's id"),
        ("session_id" = String, Path, description = "The session's id"),
    ),
    responses(
        (status = 200, description = "Ended", body = EmptyEnvelope),
        CallerRefused,
        (status = 404, description = "not_found: no such user, or no such session of theirs", body = ErrorEnvelope),
    ))]
pub async fn end_one_session(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, session_id)): Path<(String, String)>,
) -> Result<Json<Envelope<Value>>, AppError> {
    let (id, session_id) = (parse_id(&id)?, parse_id(&session_id)?);
    state.sessions.revoke_for_user(&caller, id, session_id).await?;
    Ok(Json(Envelope::ok(Value::Null)))
}

/// Apply one change to up to 100 accounts (admin): `disable`, `enable`, `sign_out`
/// or `delete`. Each account is changed as its own endpoint would change it; those
/// refused (the last administrator, one's own account, gone already) are listed
/// with the reason, and the rest are done.
#[utoipa::path(post, path = "/api/users/bulk", tag = "users",
    request_body(content = BulkUserInput, content_type = "application/json"),
    responses(
        (status = 200, description = "What was done and what was refused", body = BulkOutcomeEnvelope),
        CallerRefused,
        (status = 422, description = "validation_failed: unknown action, no ids or more than 100", body = ErrorEnvelope),
        JsonBodyRejected,
    ))]
pub async fn bulk_edit(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<BulkUserInput>,
) -> Result<Json<Envelope<BulkOutcome>>, AppError> {
    Ok(Json(Envelope::ok(state.users.bulk(&caller, &input).await?)))
}

/// The accounts waiting for approval (`ROSTER_REGISTRATION=approval`), oldest first.
#[utoipa::path(get, path = "/api/users/pending", tag = "users",
    responses(
        (status = 200, description = "Up to 100 waiting accounts, oldest first", body = UserPageEnvelope),
        CallerRefused,
    ))]
pub async fn approval_queue(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Envelope<UserPage>>, AppError> {
    Ok(Json(Envelope::ok(state.users.approval_queue(&caller).await?)))
}

/// Approve a waiting account: it can use Roster at once (its sessions are re-read).
#[utoipa::path(post, path = "/api/users/{id}/approve", tag = "users",
    params(("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The approved user", body = UserEnvelope),
        CallerRefused,
        (status = 404, description = "not_found", body = ErrorEnvelope),
        (status = 409, description = "conflict: the account is not waiting", body = ErrorEnvelope),
    ))]
pub async fn approve_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Envelope<UserData>>, AppError> {
    let user = state.users.approve(&caller, parse_id(&id)?).await?;
    Ok(Json(Envelope::ok(UserData { user })))
}

/// Reject a waiting account: it is deleted, with its sessions.
#[utoipa::path(post, path = "/api/users/{id}/reject", tag = "users",
    params(("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "Rejected and deleted", body = EmptyEnvelope),
        CallerRefused,
        (status = 404, description = "not_found", body = ErrorEnvelope),
        (status = 409, description = "conflict: the account is not waiting", body = ErrorEnvelope),
    ))]
pub async fn reject_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Envelope<Value>>, AppError> {
    state.users.reject(&caller, parse_id(&id)?).await?;
    Ok(Json(Envelope::ok(Value::Null)))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct ImportParams {
    /// Check every row and report, writing nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Import accounts (admin) from CSV with a header row or JSON lines (the body, as
/// `text/csv`, `application/x-ndjson` or `text/plain`; the format is told by its
/// first character). Fields: `email`, `name`, `role`, `created_at`, `password_hash`,
/// `email_verified`. All rows or none: any refused row refuses the import
/// (`import_refused`, listing each); `?dry_run=true` reports without writing.
#[utoipa::path(post, path = "/api/users/import", tag = "users", params(ImportParams),
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 200, description = "Imported (or, in a dry run, what would be)", body = ImportReportEnvelope),
        CallerRefused,
        (status = 413, description = "payload_too_large: over 32 MiB", body = ErrorEnvelope),
        (status = 422, description = "import_refused (with `refused`: each row and why; nothing written), or validation_failed: the file cannot be read", body = ErrorEnvelope),
        (status = 400, description = "bad_request: not UTF-8", body = ErrorEnvelope),
    ))]
pub async fn import_users(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ImportParams>,
    body: axum::body::Body,
) -> Result<Json<Envelope<ImportReport>>, AppError> {
    // Decided before up to 32 MiB is read: a stranger's upload is refused unread.
    app::policy::authorize(
        caller.actor,
        app::policy::Action::ImportUsers,
        app::policy::Target::Collection,
    )?;
    // Past the limit (or a client that went away mid-upload, which hears nothing).
    let body = axum::body::to_bytes(body, IMPORT_MAX_BYTES)
        .await
        .map_err(|_| AppError::PayloadTooLarge)?;
    let text = std::str::from_utf8(&body).map_err(|_| AppError::bad_request("The file must be UTF-8 text."))?;
    let report = state.users.import(&caller, text, params.dry_run).await?;
    Ok(Json(Envelope::ok(report)))
}
