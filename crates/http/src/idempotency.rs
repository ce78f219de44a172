//! `Idempotency-Key` on writes (R57): a retried request gets the first answer, once that
//! answer exists, instead of doing the work twice.
//!
//! Keys are scoped to the credential that sent them (a hash of it), kept 24 hours, and
//! bound to the request: the same key with another method, path or body is refused. Only
//! authenticated writes take part; answers that carry a secret (sign-in, session
//! switches, new API keys) are never stored, since secrets are kept only as hashes.

use crate::problem::ApiError;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use deputy_store::secrets::{Idempotent, SecretStore, StoredAnswer};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::LazyLock;

const KEEP_MS: i64 = 24 * 3_600_000;
/// Replayed from a stored answer.
const REPLAYED_HEADERS: [&str; 3] = ["content-type", "consistency-token", "location"];

/// Set on a response that carries a secret (a generated password): never stored.
#[derive(Debug, Clone, Copy)]
pub struct CarriesSecret;

/// Whether answers on `path` (a request's, or a route's template) may carry a secret, so
/// that `Idempotency-Key` does not apply there.
pub(crate) fn carries_secrets(path: &str) -> bool {
    path.starts_with("/v1/auth/") || path.starts_with("/v1/session/") || path.ends_with("/api-keys")
}

fn credential(request: &Request, cookie_name: &str) -> Option<String> {
    let headers = request.headers();
    if let Some(v) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        return Some(v.to_owned());
    }
    crate::csrf::cookie(headers, cookie_name).map(str::to_owned)
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn problem(status: StatusCode, slug: &'static str, title: &'static str, detail: &str) -> Response {
    ApiError::new(status, slug, title, detail).field("Idempotency-Key").rule("R57").into_response()
}

/// Whether the request is a write (POST, PUT, PATCH, DELETE) that the OpenAPI document
/// declares on the matched route.
fn is_documented_write(request: &Request) -> bool {
    // Route template → its documented write methods; looked up by the matched route's
    // `&str`, so a request allocates nothing here.
    static WRITES: LazyLock<HashMap<String, Vec<Method>>> = LazyLock::new(|| {
        let doc = <crate::openapi::ApiDoc as utoipa::OpenApi>::openapi();
        let mut writes: HashMap<String, Vec<Method>> = HashMap::new();
        for (path, item) in doc.paths.paths {
            let methods = [
                (Method::POST, item.post.is_some()),
                (Method::PUT, item.put.is_some()),
                (Method::PATCH, item.patch.is_some()),
                (Method::DELETE, item.delete.is_some()),
            ];
            let present: Vec<Method> =
                methods.into_iter().filter_map(|(m, present)| present.then_some(m)).collect();
            if !present.is_empty() {
                writes.insert(path, present);
            }
        }
        writes
    });
    let Some(route) = request.extensions().get::<axum::extract::MatchedPath>() else {
        return false;
    };
    WRITES.get(route.as_str()).is_some_and(|methods| methods.contains(request.method()))
}

pub async fn idempotency(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let Some(key) = request.headers().get("idempotency-key").cloned() else {
        return next.run(request).await;
    };
    // Only the writes the API has: anything else is answered by the router (405 for a
    // method a route does not have), never by a replay or a reused-key refusal.
    if !is_documented_write(&request) || carries_secrets(request.uri().path()) {
        return next.run(request).await;
    }
    let key = match key.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()) => {
            k.to_owned()
        }
        _ => {
            return problem(
                StatusCode::BAD_REQUEST,
                "bad-request",
                "The request is malformed",
                "an Idempotency-Key is 1 to 255 visible ASCII characters",
            );
        }
    };
    let Some(credential) = credential(&request, app.config().cookie_name()) else {
        return next.run(request).await;
    };
    let scope = hex_sha256(credential.as_bytes());
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, crate::routes::MAX_BODY_BYTES).await else {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "The body is too large",
            "at most 1 MiB",
        )
        .into_response();
    };
    let fingerprint = format!("{} {} {}", parts.method, parts.uri, hex_sha256(&bytes));
    let now = app.deputy().now();
    let store_app = app.clone();
    let (s, k, f) = (scope.clone(), key.clone(), fingerprint);
    let begun = tokio::task::spawn_blocking(move || {
        store_app.deputy().store().begin_idempotent(&s, &k, &f, now, now + KEEP_MS)
    })
    .await;
    match begun {
        Ok(Ok(Idempotent::Proceed)) => {}
        Ok(Ok(Idempotent::InProgress)) => {
            return problem(
                StatusCode::CONFLICT,
                "idempotency-in-progress",
                "The first request with this key is still being answered",
                "retry in a moment to get its answer",
            );
        }
        Ok(Ok(Idempotent::Mismatch)) => {
            return problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "The key was used for another request",
                "an Idempotency-Key belongs to one request (method, path and body); use a new key",
            );
        }
        Ok(Ok(Idempotent::Done(answer))) => return replay(answer),
        Ok(Err(e)) => return ApiError::internal(e).into_response(),
        Err(e) => return ApiError::internal(e).into_response(),
    }
    let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return ApiError::internal("response body could not be read").into_response();
    };
    let store_app = app.clone();
    let status = parts.status;
    let secret = parts.extensions.get::<CarriesSecret>().is_some();
    let headers: Vec<(String, String)> = REPLAYED_HEADERS
        .iter()
        .filter_map(|h| {
            parts
                .headers
                .get(*h)
                .and_then(|v| v.to_str().ok())
                .map(|v| ((*h).to_owned(), v.to_owned()))
        })
        .collect();
    let body = bytes.to_vec();
    // A server error is not an answer worth replaying: the key is released for a retry.
    let _ = tokio::task::spawn_blocking(move || {
        let store = store_app.deputy().store();
        if status.is_server_error() || secret {
            store.abandon_idempotent(&scope, &key)
        } else {
            let headers = serde_json::to_string(&headers).unwrap_or_else(|_| "[]".into());
            store.finish_idempotent(
                &scope,
                &key,
                &StoredAnswer { status: status.as_u16(), headers, body },
            )
        }
    })
    .await;
    Response::from_parts(parts, Body::from(bytes))
}

fn replay(answer: StoredAnswer) -> Response {
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let headers: Vec<(String, String)> = serde_json::from_str(&answer.headers).unwrap_or_default();
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::from_str(&value)) {
            response.headers_mut().insert(name, value);
        }
    }
    response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
