//! Calling the API's handlers from a page: their answers, bodies, cookies and refusals.

use axum::body::to_bytes;
use axum::http::header;
use axum::response::Response;
use deputy_http::problem::ApiError;

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
