//! The JSON API under `/api`. One router per module, merged here; every answer,
//! including unknown paths and rejected bodies, is the JSON envelope.

mod audit;
mod auth;
mod extract;
mod impersonation;
mod invitations;
mod links;
pub mod openapi;
mod second_factors;
mod stats;
mod users;

use crate::configuration::Settings;
use app::error::AppError;
use app::ssr::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;

pub use extract::{ApiJson, ApiQuery};

pub fn router(settings: &Settings) -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(users::router())
        .merge(invitations::router())
        .merge(impersonation::router())
        .merge(stats::router())
        .merge(audit::router())
        .merge(links::router())
        .merge(second_factors::router())
        .route("/openapi.json", axum::routing::get(openapi::serve))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
}

/// Adds every cookie a sign-in sets (the session's and the device's) to its answer.
fn with_sign_in_cookies(
    mut response: axum::response::Response,
    state: &AppState,
    session: &app::ssr::sessions::NewSession,
) -> axum::response::Response {
    for cookie in state.cookies.sign_in(session) {
        response.headers_mut().append(http::header::SET_COOKIE, cookie);
    }
    response
}

/// The answer to a sign-in's first step: signed in (`{"user"}` and the session's
/// cookies), or a second step to take (`{"second_factor_required": true, "methods"}`
/// and the pending cookie, which is not a session).
fn first_step_answer(state: &AppState, step: app::ssr::second_factor::SignInStep) -> axum::response::Response {
    use app::model::LoginOutcome;
    use app::ssr::second_factor::SignInStep;
    use axum::response::IntoResponse;
    match step {
        SignInStep::SignedIn(user, session) => {
            let response = axum::Json(app::ssr::http::Envelope::ok(LoginOutcome::SignedIn { user })).into_response();
            with_sign_in_cookies(response, state, &session)
        }
        SignInStep::SecondFactor(pending) => {
            let outcome = LoginOutcome::SecondFactorRequired {
                second_factor_required: true,
                methods: pending.methods,
            };
            (
                [(
                    http::header::SET_COOKIE,
                    state.cookies.set_pending_sign_in(&pending.token),
                )],
                axum::Json(app::ssr::http::Envelope::ok(outcome)),
            )
                .into_response()
        }
    }
}

/// The answer to sign-in's second step: the session's cookies and `{"user"}`, the
/// pending cookie cleared. A pending sign-in that is gone clears it too.
fn second_step_answer(
    state: &AppState,
    result: Result<(app::model::User, app::ssr::sessions::NewSession), AppError>,
) -> Result<axum::response::Response, AppError> {
    use axum::response::IntoResponse;
    let clear = [(http::header::SET_COOKIE, state.cookies.clear_pending_sign_in())];
    let (user, session) = match result {
        Ok(done) => done,
        Err(AppError::Unauthenticated) => return Ok((clear, AppError::Unauthenticated).into_response()),
        Err(err) => return Err(err),
    };
    let response = (
        clear,
        axum::Json(app::ssr::http::Envelope::ok(app::model::UserData { user })),
    )
        .into_response();
    Ok(with_sign_in_cookies(response, state, &session))
}

async fn not_found() -> AppError {
    AppError::NotFound
}

async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}
