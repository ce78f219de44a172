//! Acting from a page: running a service operation as the viewer, reading the API's
//! handlers' answers (for reads), and refusals in the API's words.

use axum::body::to_bytes;
use axum::http::header;
use axum::response::Response;
use deputy_http::AppState;
use deputy_http::caller::Source;
use deputy_http::problem::ApiError;
use deputy_http::state::Backend;
use deputy_service::auth::{Auth, AuthError};
use deputy_service::ops::Asker;

/// Runs a service operation ([`deputy_service::ops`]) as the viewer, off the async
/// workers, as the API's handler for it does: the same rules, the same refusal.
pub async fn op<T: Send + 'static>(
    app: &AppState,
    viewer: &crate::viewer::Viewer,
    source: &Source,
    work: impl FnOnce(&Auth<Backend>, Asker<'_>) -> Result<T, AuthError> + Send + 'static,
) -> Result<T, ApiError> {
    let (actor, source) = (viewer.actor(), source.0.clone());
    deputy_http::routes::op(app, move |ctx| work(ctx, Asker::new(actor, source.as_deref()))).await
}

/// Runs a session operation ([`deputy_service::ops::sessions`]: switching, impersonating)
/// for the viewer, and answers with the new session's cookie set, as the API does (R23).
pub async fn session_op(
    app: &AppState,
    viewer: &crate::viewer::Viewer,
    source: &Source,
    work: impl FnOnce(
        &Auth<Backend>,
        &deputy_service::auth::Caller,
        Option<&str>,
    ) -> Result<deputy_service::ops::sessions::Rotated, AuthError>
    + Send
    + 'static,
) -> Result<Response, ApiError> {
    let (caller, source) = (viewer.caller.clone(), source.0.clone());
    let (session, _) =
        deputy_http::routes::op(app, move |ctx| work(ctx, &caller, source.as_deref())).await?;
    Ok(deputy_http::routes::sessions::with_session(app, session))
}

/// The JSON body of a handler's answer (a handful of kilobytes at most).
pub async fn body_json(response: Response) -> serde_json::Value {
    match to_bytes(response.into_body(), 1024 * 1024).await {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        Err(_) => serde_json::Value::Null,
    }
}

/// Carries the session cookie a handler set (sign-in, rotation) over to the page's answer.
pub fn carry_cookies(from: &Response, to: &mut Response) {
    for value in from.headers().get_all(header::SET_COOKIE) {
        to.headers_mut().append(header::SET_COOKIE, value.clone());
    }
}

/// A refusal in words for the person who tried: the API's own message, with the rule
/// it rests on, so the portal and the API say the same.
pub fn refusal(error: &ApiError) -> String {
    let problem = error.problem();
    let mut text = problem.detail;
    if let Some(first) = text.get(..1) {
        text = first.to_uppercase() + &text[1..];
    }
    if let Some(field) = problem.field {
        text = format!("{text} (field: {field})");
    }
    text
}
