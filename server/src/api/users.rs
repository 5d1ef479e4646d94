//! `/api/users`: account management over `UserService`, with the same policy,
//! validation and errors as the admin and account pages.

use super::openapi::{
    CallerRefused, EmptyEnvelope, ErrorEnvelope, JsonBodyRejected, SessionsEndedEnvelope, UserEnvelope,
    UserPageEnvelope,
};
use super::{ApiJson, ApiQuery};
use app::error::AppError;
use app::model::{SessionsEnded, UserData, UserPage, UserQuery};
use app::ssr::caller::Caller;
use app::ssr::http::Envelope;
use app::ssr::state::AppState;
use app::validation::{CreateUserInput, DeleteUserInput, UpdateUserInput};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use http::StatusCode;
use serde_json::Value;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}", get(get_user).put(update_user).delete(delete_user))
        .route("/users/{id}/sessions", axum::routing::delete(end_sessions))
}

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
