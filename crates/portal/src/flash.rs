//! One-shot notices after a POST-redirect-GET: "Invitation sent", carried by a cookie the
//! next page reads and clears.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use deputy_http::AppState;

/// Named like the session cookie (R23): `__Host-` and Secure over https.
fn name(app: &AppState) -> &'static str {
    if app.config().secure() { "__Host-deputy-flash" } else { "deputy-flash" }
}

/// The notice left by the previous request, if any.
#[derive(Debug, Clone, Default)]
pub struct Flash(pub Option<String>);

impl FromRequestParts<AppState> for Flash {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let text = crate::guard::cookie(&parts.headers, name(app))
            .and_then(|v| hex::decode(v).ok())
            .and_then(|b| String::from_utf8(b).ok());
        Ok(Flash(text))
    }
}

fn cookie(app: &AppState, value: &str, max_age: u32) -> Option<HeaderValue> {
    let secure = if app.config().secure() { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        name(app)
    ))
    .ok()
}

/// A redirect (303, so the browser follows with GET) that leaves a notice for the next page.
pub fn redirect_with(app: &AppState, to: &str, notice: &str) -> Response {
    let mut response = see_other(to);
    if let Some(c) = cookie(app, &hex::encode(notice.as_bytes()), 60) {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

/// A plain 303 redirect.
pub fn see_other(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// Clears a notice once shown.
pub fn clear(app: &AppState, response: &mut Response) {
    if let Some(c) = cookie(app, "", 0) {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
}
