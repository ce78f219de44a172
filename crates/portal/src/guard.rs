//! Cross-site request forgery defences for every state-changing request of the portal.
//!
//! Two independent checks, both required:
//! 1. the browser says the request comes from this origin: `Origin` names it, or without
//!    `Origin`, `Sec-Fetch-Site: same-origin` ([`deputy_http::csrf::same_origin`], R23);
//! 2. the form carries a token an attacker's page cannot know: with a session, a hash of
//!    the session's secret (the cookie, HttpOnly, never readable by script); before
//!    sign-in, the value of a random cookie set with the form (double submit).
//!
//! Why not a stored token: the session secret already is one, and a hash of it rotates
//! with the session (R23) for free.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use deputy_http::AppState;
use subtle::ConstantTimeEq;

/// Form bodies are small; a bigger one is refused before it is read.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The name of the pre-sign-in CSRF cookie, following the session cookie's (R23).
pub fn csrf_cookie_name(app: &AppState) -> &'static str {
    if app.config().secure() { "__Host-deputy-csrf" } else { "deputy-csrf" }
}

pub use deputy_http::csrf::cookie;

/// The token a form must carry, when the request has what it derives from.
pub fn expected_token(app: &AppState, headers: &HeaderMap) -> Option<String> {
    if let Some(session) = cookie(headers, app.config().cookie_name()).filter(|s| !s.is_empty()) {
        return Some(deputy_http::csrf::session_token(session));
    }
    cookie(headers, csrf_cookie_name(app)).filter(|v| v.len() >= 32).map(str::to_owned)
}

/// A fresh random value for the pre-sign-in cookie; none when the OS has no randomness,
/// and then no form can pass (failing closed, never with a guessable token).
pub fn new_anonymous_token() -> Option<String> {
    match deputy_service::tokens::new_token() {
        Ok((token, _)) => Some(token),
        Err(e) => {
            tracing::error!(error = %e, "no CSRF token");
            None
        }
    }
}

fn refused(why: &'static str) -> Response {
    tracing::warn!(why, "cross-site request refused");
    (
        StatusCode::FORBIDDEN,
        crate::layout::bare_page(
            "Request refused",
            maud::html! {
                p { "This form did not come from this site, or it is too old. "
                    "Go back, reload the page and try again." }
            },
        ),
    )
        .into_response()
}

/// Middleware: every request that may change something must pass both checks.
pub async fn same_origin(State(app): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    if !deputy_http::csrf::same_origin(request.headers(), app.config()) {
        return refused("cross-site origin");
    }
    let Some(expected) = expected_token(&app, request.headers()) else {
        return refused("no token source");
    };
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response();
    };
    let presented = form_urlencoded_value(&bytes, "csrf").unwrap_or_default();
    if !bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
        return refused("missing or wrong token");
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// The first value of `key` in an `application/x-www-form-urlencoded` body.
fn form_urlencoded_value(body: &[u8], key: &str) -> Option<String> {
    form_urlencoded::parse(body).find(|(k, _)| k == key).map(|(_, v)| v.into_owned())
}
