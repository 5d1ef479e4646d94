//! `/api/register`, `/api/login`, `/api/logout`, `/api/me`: adapters over
//! `AuthService`, the same service the server functions call.

use super::{ApiJson, Client, SessionCookie};
use app::error::AppError;
use app::model::User;
use app::ssr::http::Envelope;
use app::ssr::state::AppState;
use app::validation::{LoginInput, RegisterInput};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::StatusCode;
use http::header::SET_COOKIE;
use serde::Serialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/register", post(register))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/me", get(me))
}

#[derive(Serialize)]
struct UserData {
    user: User,
}

async fn register(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(input): ApiJson<RegisterInput>,
) -> Result<Response, AppError> {
    let (user, token) = state.auth.register(&input, &client).await?;
    let cookie = state.cookies.set(&token);
    Ok((
        StatusCode::CREATED,
        [(SET_COOKIE, cookie)],
        Json(Envelope::ok(UserData { user })),
    )
        .into_response())
}

async fn login(
    State(state): State<AppState>,
    Client(client): Client,
    SessionCookie(previous): SessionCookie,
    ApiJson(input): ApiJson<LoginInput>,
) -> Result<Response, AppError> {
    let (user, token) = state.auth.login(&input, &client, previous.as_ref()).await?;
    let cookie = state.cookies.set(&token);
    Ok(([(SET_COOKIE, cookie)], Json(Envelope::ok(UserData { user }))).into_response())
}

/// Always 200: signing out of a session that is already gone is not an error.
async fn logout(State(state): State<AppState>, SessionCookie(token): SessionCookie) -> Result<Response, AppError> {
    state.auth.logout(token.as_ref()).await?;
    Ok((
        [(SET_COOKIE, state.cookies.clear())],
        Json(Envelope::ok(serde_json::Value::Null)),
    )
        .into_response())
}

async fn me(
    State(state): State<AppState>,
    SessionCookie(token): SessionCookie,
) -> Result<Json<Envelope<UserData>>, AppError> {
    let user = state.auth.require_user(token.as_ref()).await?;
    Ok(Json(Envelope::ok(UserData { user })))
}
