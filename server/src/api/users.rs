//! `/api/users`: account management over `UserService`, with the same policy,
//! validation and errors as the admin and account pages.

use super::{ApiJson, Caller};
use app::error::AppError;
use app::model::{User, UserPage, UserQuery};
use app::ssr::http::Envelope;
use app::ssr::state::AppState;
use app::validation::{CreateUserInput, FieldErrors, UpdateUserInput};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use http::StatusCode;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}", get(get_user).put(update_user).delete(delete_user))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserData {
    pub user: User,
}

/// Ids are opaque: anything that is not one of ours is simply not found.
fn parse_id(raw: &str) -> Result<Uuid, AppError> {
    Uuid::try_parse(raw).map_err(|_| AppError::NotFound)
}

/// List users (admin): keyset pagination, search and filters.
#[utoipa::path(get, path = "/api/users", tag = "users", params(UserQuery),
    responses(
        (status = 200, description = "One page of users, newest first", body = crate::api::openapi::UserPageEnvelope),
        (status = 401, description = "unauthenticated", body = crate::api::openapi::ErrorEnvelope),
        (status = 403, description = "forbidden: not an admin", body = crate::api::openapi::ErrorEnvelope),
        (status = 422, description = "validation_failed: bad limit, role or cursor", body = crate::api::openapi::ErrorEnvelope),
        (status = 400, description = "bad_request: malformed query string", body = crate::api::openapi::ErrorEnvelope),
    ))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<UserQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Envelope<UserPage>>, AppError> {
    let Query(query) = query.map_err(|e| AppError::bad_request(format!("Invalid query string: {}", e.body_text())))?;
    let page = state.users.list(caller.actor, &query).await?;
    Ok(Json(Envelope::ok(page)))
}

/// Create a user (admin).
#[utoipa::path(post, path = "/api/users", tag = "users",
    request_body(content = crate::api::openapi::CreateUserRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = crate::api::openapi::UserEnvelope),
        (status = 401, description = "unauthenticated", body = crate::api::openapi::ErrorEnvelope),
        (status = 403, description = "forbidden", body = crate::api::openapi::ErrorEnvelope),
        (status = 409, description = "email_taken", body = crate::api::openapi::ErrorEnvelope),
        (status = 422, description = "validation_failed", body = crate::api::openapi::ErrorEnvelope),
        (status = 400, description = "bad_request: malformed JSON", body = crate::api::openapi::ErrorEnvelope),
        (status = 413, description = "payload_too_large", body = crate::api::openapi::ErrorEnvelope),
        (status = 415, description = "unsupported_media_type", body = crate::api::openapi::ErrorEnvelope),
    ))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<CreateUserInput>,
) -> Result<Response, AppError> {
    let user = state.users.create(caller.actor, &input, &caller.client).await?;
    Ok((StatusCode::CREATED, Json(Envelope::ok(UserData { user }))).into_response())
}

/// Get a user: admins any, users only themselves.
#[utoipa::path(get, path = "/api/users/{id}", tag = "users",
    params(("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user", body = crate::api::openapi::UserEnvelope),
        (status = 401, description = "unauthenticated", body = crate::api::openapi::ErrorEnvelope),
        (status = 403, description = "forbidden", body = crate::api::openapi::ErrorEnvelope),
        (status = 404, description = "not_found (also for malformed ids)", body = crate::api::openapi::ErrorEnvelope),
    ))]
pub async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Envelope<UserData>>, AppError> {
    let user = state.users.get(caller.actor, parse_id(&id)?).await?;
    Ok(Json(Envelope::ok(UserData { user })))
}

/// Update a user. Only the fields present change.
#[utoipa::path(put, path = "/api/users/{id}", tag = "users",
    params(("id" = String, Path, description = "The user's id")),
    request_body(content = crate::api::openapi::UpdateUserRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The updated user", body = crate::api::openapi::UserEnvelope),
        (status = 401, description = "unauthenticated", body = crate::api::openapi::ErrorEnvelope),
        (status = 403, description = "forbidden: e.g. a user changing their own role", body = crate::api::openapi::ErrorEnvelope),
        (status = 404, description = "not_found", body = crate::api::openapi::ErrorEnvelope),
        (status = 409, description = "email_taken or last_admin", body = crate::api::openapi::ErrorEnvelope),
        (status = 422, description = "validation_failed, including unknown fields", body = crate::api::openapi::ErrorEnvelope),
        (status = 400, description = "bad_request: malformed JSON", body = crate::api::openapi::ErrorEnvelope),
        (status = 413, description = "payload_too_large", body = crate::api::openapi::ErrorEnvelope),
        (status = 415, description = "unsupported_media_type", body = crate::api::openapi::ErrorEnvelope),
    ))]
pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Envelope<UserData>>, AppError> {
    let id = parse_id(&id)?;
    let input = parse_update(body)?;
    let user = state
        .users
        .update(caller.actor, id, &input, caller.token.as_ref(), &caller.client)
        .await?;
    Ok(Json(Envelope::ok(UserData { user })))
}

/// Reads an update field by field, so every unknown or mistyped field gets its own message.
fn parse_update(body: Value) -> Result<UpdateUserInput, AppError> {
    let Value::Object(map) = body else {
        return Err(AppError::bad_request("The request body must be a JSON object."));
    };
    let mut errors = FieldErrors::new();
    let mut input = UpdateUserInput::default();
    for (key, value) in map {
        let text = |value: Value| match value {
            Value::String(s) => Ok(Some(s)),
            Value::Null => Ok(None),
            _ => Err("Must be a string.".to_string()),
        };
        let result = match key.as_str() {
            "name" => text(value).map(|v| input.name = v),
            "email" => text(value).map(|v| input.email = v),
            "password" => text(value).map(|v| input.password = v),
            "current_password" => text(value).map(|v| input.current_password = v),
            "role" => text(value).map(|v| input.role = v),
            "disabled" => match value {
                Value::Bool(b) => Ok(input.disabled = Some(b)),
                Value::Null => Ok(()),
                _ => Err("Must be true or false.".to_string()),
            },
            _ => Err("Unknown field.".to_string()),
        };
        if let Err(message) = result {
            errors.insert(key, message);
        }
    }
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(AppError::validation(errors))
    }
}

/// Delete a user and all their sessions. Deleting yourself needs `{"password": "…"}`.
#[utoipa::path(delete, path = "/api/users/{id}", tag = "users",
    params(("id" = String, Path, description = "The user's id")),
    request_body(content = Option<crate::api::openapi::DeleteUserRequest>, content_type = "application/json"),
    responses(
        (status = 200, description = "Deleted", body = crate::api::openapi::EmptyEnvelope),
        (status = 401, description = "unauthenticated", body = crate::api::openapi::ErrorEnvelope),
        (status = 403, description = "forbidden", body = crate::api::openapi::ErrorEnvelope),
        (status = 404, description = "not_found", body = crate::api::openapi::ErrorEnvelope),
        (status = 409, description = "last_admin", body = crate::api::openapi::ErrorEnvelope),
        (status = 422, description = "validation_failed: password missing or wrong", body = crate::api::openapi::ErrorEnvelope),
        (status = 400, description = "bad_request: malformed JSON", body = crate::api::openapi::ErrorEnvelope),
    ))]
pub async fn delete_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Envelope<Value>>, AppError> {
    let id = parse_id(&id)?;
    let password = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let value: Value =
            serde_json::from_slice(&body).map_err(|e| AppError::bad_request(format!("Malformed JSON: {e}")))?;
        match value.get("password") {
            None | Some(Value::Null) => None,
            Some(Value::String(p)) => Some(p.clone()),
            Some(_) => return Err(AppError::invalid_field("password", "Must be a string.")),
        }
    };
    state
        .users
        .delete(caller.actor, id, password.as_deref(), &caller.client)
        .await?;
    Ok(Json(Envelope::ok(Value::Null)))
}
