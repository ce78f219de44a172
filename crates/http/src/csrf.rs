//! Cross-site request forgery (R23): what a state-changing request authenticated by the
//! session cookie must show, for the API here and for the portal's forms alike.
//!
//! A browser attaches the cookie to requests another site makes, with or without a body
//! (SameSite=Lax still lets top-level form posts through on some paths). So such a request
//! must come from this origin — `Origin` names it, or the browser says
//! `Sec-Fetch-Site: same-origin` — and carry what another site cannot make: the session's
//! CSRF token, or a JSON content type (which no cross-site form can send, and which a
//! cross-site script may only send after a CORS preflight Deputy never grants). Requests
//! with a bearer token or API key carry no ambient credential and are not affected.

use crate::problem::ApiError;
use crate::state::{AppState, HttpConfig};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// The header an API call may carry the session's CSRF token in.
pub const TOKEN_HEADER: &str = "x-csrf-token";

/// A cookie's value from the request headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// The CSRF token of a session: a hash of its secret, so it rotates with the session
/// (R23) and needs no storage of its own.
pub fn session_token(session_secret: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(b"deputy-csrf\0");
    digest.update(session_secret.as_bytes());
    hex::encode(digest.finalize())
}

/// Whether the browser says the request comes from this origin: `Origin` equals the
/// public origin or the host the request was sent to, or, without `Origin`,
/// `Sec-Fetch-Site: same-origin`. Neither: refused (a client that sends neither is not a
/// browser and should use a bearer token).
pub fn same_origin(headers: &HeaderMap, config: &HttpConfig) -> bool {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if fetch_site.is_some_and(|site| site != "same-origin") {
        return false;
    }
    match text(header::ORIGIN) {
        Some(origin) => {
            let public = config.public_origin.trim_end_matches('/');
            let host = text(header::HOST).unwrap_or_default();
            let authority = origin.split_once("://").map_or("", |(_, rest)| rest);
            origin.eq_ignore_ascii_case(public)
                || (!host.is_empty() && authority.eq_ignore_ascii_case(host))
        }
        None => fetch_site == Some("same-origin"),
    }
}

/// Whether the request is authenticated by the session cookie rather than a header.
fn by_cookie(headers: &HeaderMap, config: &HttpConfig) -> Option<String> {
    if headers.contains_key(header::AUTHORIZATION) {
        return None;
    }
    cookie(headers, config.cookie_name()).filter(|v| !v.is_empty()).map(str::to_owned)
}

pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            let v = v.trim();
            v.eq_ignore_ascii_case("application/json")
                || (v.len() > 5 && v[v.len() - 5..].eq_ignore_ascii_case("+json"))
        })
}

/// The API's routes that authenticate by what the body carries (a password, a link's
/// token), never by the session cookie, and read only JSON bodies, which no cross-site form
/// can send. A cookie left in a client's jar must not block them: the request is not
/// authenticated by it (R23).
const AUTHENTICATED_BY_THE_BODY: [&str; 4] = [
    "/v1/auth/sign-in",
    "/v1/auth/invitations/accept",
    "/v1/auth/forgot-password",
    "/v1/auth/reset",
];

/// Middleware for the API: a state-changing request that carries the session cookie and
/// no `Authorization` header passes only from this origin, with the session's token or a
/// JSON body (R23). Everything else goes through untouched.
pub async fn api_guard(State(app): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || AUTHENTICATED_BY_THE_BODY.contains(&request.uri().path())
    {
        return next.run(request).await;
    }
    let headers = request.headers();
    let Some(secret) = by_cookie(headers, app.config()) else {
        return next.run(request).await;
    };
    let presented = headers.get(TOKEN_HEADER).and_then(|v| v.to_str().ok());
    let token_ok = presented.is_some_and(|t| {
        subtle::ConstantTimeEq::ct_eq(t.as_bytes(), session_token(&secret).as_bytes()).into()
    });
    if !same_origin(headers, app.config()) || !(token_ok || is_json(headers)) {
        tracing::warn!(path = %request.uri().path(), "cross-site request refused");
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "cross-site-request",
            "Cross-site request refused",
            "a request authenticated by the session cookie must come from this origin and carry the session's CSRF token (header `x-csrf-token`) or a JSON body; or use a bearer token",
        )
        .rule("R23")
        .into_response();
    }
    next.run(request).await
}
