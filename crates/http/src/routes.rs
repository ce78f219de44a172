//! The router: every route, the shared middleware, and the helpers handlers share.

pub mod access;
pub mod activity;
pub mod catalog;
pub mod checks;
pub mod created;
pub mod groups;
pub mod health;
pub mod outbox;
pub mod paging;
pub mod partners;
pub mod refs;
pub mod reports;
pub mod resources;
pub mod roles;
pub mod sessions;
pub mod tenants;
pub mod users;

use crate::problem::ApiError;
use crate::state::{AppState, Backend};
use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use deputy_core::{Actor, Principal, State as Snapshot, Target, TenantId};
use deputy_service::auth::{Auth, AuthError};
use deputy_service::{Committed, Token};
use std::sync::Arc;
use std::time::Instant;

/// The request body, as JSON; a malformed body is a problem document naming the error.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !crate::csrf::is_json(req.headers()) {
            return Err(ApiError::bad_request(
                "Expected request with `Content-Type: application/json`",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|r| {
            let (slug, title) = match r.status() {
                StatusCode::PAYLOAD_TOO_LARGE => ("too-large", "The body is too large"),
                _ => ("bad-request", "The request body could not be read"),
            };
            ApiError::new(r.status(), slug, title, r.body_text())
        })?;
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection @ JsonRejection::JsonDataError(_)) => {
                // JSON Schema counts `3.0` as an integer; serde does not. Such a body is
                // read again with its integral numbers written as integers, so that what
                // the OpenAPI document admits, the server accepts.
                let again = serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|mut v| integral_numbers(&mut v).then_some(v))
                    .and_then(|v| serde_json::to_vec(&v).ok())
                    .and_then(|b| axum::Json::<T>::from_bytes(&b).ok());
                match again {
                    Some(axum::Json(value)) => Ok(ApiJson(value)),
                    None => Err(ApiError::bad_request(plain_words(&rejection.body_text()))),
                }
            }
            Err(rejection) => Err(ApiError::bad_request(plain_words(&rejection.body_text()))),
        }
    }
}

/// Rewrites every float with no fractional part that fits an `i64` as an integer; whether
/// any was rewritten.
fn integral_numbers(value: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            // The bounds are exact: 2^63 as f64; the upper one is excluded.
            if f.fract() == 0.0
                && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f)
            {
                *value = Value::from(f as i64);
                true
            } else {
                false
            }
        }
        Value::Array(items) => items.iter_mut().fold(false, |any, v| integral_numbers(v) | any),
        Value::Object(map) => map.values_mut().fold(false, |any, v| integral_numbers(v) | any),
        _ => false,
    }
}

/// A parser's or the framework's words without the code's own names (R57: no answer
/// names an internal type): `expected struct NewAssignmentRequest` becomes `expected an
/// object`, `expected usize` becomes `expected a non-negative integer`.
pub fn plain_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    const NAMED: [(&str, &str); 4] = [
        ("tuple struct ", "a list"),
        ("unit struct ", "null"),
        ("struct ", "an object"),
        ("enum ", "one of the documented values"),
    ];
    'scan: while !rest.is_empty() {
        for (prefix, plain) in NAMED {
            if let Some(after) = rest.strip_prefix(prefix) {
                let end = after
                    .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .unwrap_or(after.len());
                if end > 0 {
                    out.push_str(plain);
                    rest = &after[end..];
                    continue 'scan;
                }
            }
        }
        let word_end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map_or(rest.len(), |i| i.max(rest[..].chars().next().map_or(1, char::len_utf8)));
        let (word, tail) = rest.split_at(word_end);
        out.push_str(match word.trim_matches('`') {
            "usize" | "u64" | "u32" | "u16" | "u8" => "a non-negative integer",
            "isize" | "i64" | "i32" | "i16" | "i8" => "an integer",
            "f64" | "f32" => "a number",
            "String" => "text",
            _ => word,
        });
        rest = tail;
    }
    out
}

/// The query string; a malformed one is a problem document naming the error.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::bad_request(plain_words(&rejection.body_text()))),
        }
    }
}

/// The largest request body any route reads.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The header that carries a consistency token on answers to writes and on reads (R50).
pub static CONSISTENCY_TOKEN: HeaderName = HeaderName::from_static("consistency-token");

/// A write's answer: its body and, in a header, the token of the revision that holds it.
pub fn written<T: IntoResponse, U>(committed: &Committed<U>, body: T) -> Response {
    let mut response = body.into_response();
    if let Ok(value) = HeaderValue::from_str(&committed.token().to_string()) {
        response.headers_mut().insert(CONSISTENCY_TOKEN.clone(), value);
    }
    response
}

/// An answer to a write whose change is not one commit of its own (a password set, a mail
/// queued): the token of the revision it was answered at, so every write answers one (R50).
pub fn with_current_token(app: &AppState, response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    let token = Token { epoch: app.deputy().epoch(), revision: app.deputy().snapshot().revision };
    if let Ok(value) = HeaderValue::from_str(&token.to_string()) {
        response.headers_mut().insert(CONSISTENCY_TOKEN.clone(), value);
    }
    response
}

/// Runs blocking work (SQLite, password hashing) off the async workers.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.map_err(ApiError::internal)?
}

/// Runs a service operation ([`deputy_service::ops`]) off the async workers (a commit
/// waits for an fsync, a password for its hash), answering its refusal as a problem.
pub async fn op<T: Send + 'static>(
    app: &AppState,
    work: impl FnOnce(&Auth<Backend>) -> Result<T, AuthError> + Send + 'static,
) -> Result<T, ApiError> {
    let worker = app.clone();
    blocking(move || work(worker.auth()).map_err(ApiError::from)).await
}

/// The newest snapshot, or one at least as fresh as an optional consistency token (R50).
/// A token this process has not reached is waited for off the async workers (R63e).
pub async fn snapshot_for(app: &AppState, token: Option<&str>) -> Result<Arc<Snapshot>, ApiError> {
    let current = app.deputy().snapshot();
    match parse_token(token)? {
        None => Ok(current),
        Some(token)
            if token.epoch == app.deputy().epoch() && token.revision <= current.revision =>
        {
            Ok(current)
        }
        Some(token) => {
            let deputy = app.deputy().clone();
            blocking(move || Ok(deputy.snapshot_for(token)?)).await
        }
    }
}

/// Whether `actor` holds `permission` in `tenant` in its session (never the console here).
pub fn holds(
    app: &AppState,
    s: &Snapshot,
    actor: Actor,
    permission: &str,
    tenant: TenantId,
) -> bool {
    let Actor::Principal { id, ctx } = actor else { return false };
    s.catalog.permission_id(permission).is_some_and(|x| {
        s.check(id, x, Target::Tenant(tenant), ctx, app.deputy().now())
            .is_ok_and(|d| d.is_allowed())
    })
}

/// Whether `actor` may see principal `p` at all (R58), by the engine's own rule.
pub fn sees(app: &AppState, s: &Snapshot, actor: Actor, p: &Principal) -> bool {
    s.decide(actor, app.deputy().now(), |tx| Ok(tx.visible_principal(p))).is_ok_and(|d| d.output)
}

/// The cursor of an id-ordered list (the last id of the previous page): one parser for
/// every such list, so each refuses the same malformed cursors (`-1`, `abc`) alike (R57).
pub fn parse_cursor(cursor: Option<&str>) -> Result<Option<u64>, ApiError> {
    cursor
        .map(|c| {
            c.parse::<u64>().map_err(|_| {
                ApiError::bad_request(format!("`{c}` is not a cursor of this list")).field("cursor")
            })
        })
        .transpose()
}

/// A page size: 1–1000, 100 when not given.
pub fn page_limit(limit: Option<usize>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(100),
        Some(n) if (1..=1000).contains(&n) => Ok(n),
        Some(n) => {
            Err(ApiError::bad_request(format!("limit {n} is not between 1 and 1000"))
                .field("limit"))
        }
    }
}

/// Parses an optional consistency token from a request field.
pub fn parse_token(text: Option<&str>) -> Result<Option<Token>, ApiError> {
    text.map(|t| t.parse::<Token>().map_err(ApiError::from)).transpose()
}

async fn record(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    // Only the standard methods, so a client cannot grow the label set.
    let method = match request.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m.to_owned(),
        _ => "other".to_owned(),
    };
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let labels = crate::metrics::RouteLabels { method, route, status: response.status().as_u16() };
    app.metrics().requests.get_or_create(&labels).inc();
    app.metrics().latency.get_or_create(&labels).observe(started.elapsed().as_secs_f64());
    response
}

/// The header a request is known by in logs: the caller's, when it is a sane one, else
/// a new random one; every answer carries it back (R62).
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Who a request turned out to be, for its access log line: the caller's authentication
/// fills it ([`crate::caller::authenticate`]).
#[derive(Debug, Clone, Default)]
pub struct PrincipalSlot(pub Arc<std::sync::OnceLock<String>>);

fn request_id(request: &Request) -> String {
    let given = request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok());
    match given {
        Some(id)
            if !id.is_empty()
                && id.len() <= 64
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b)) =>
        {
            id.to_owned()
        }
        _ => {
            let mut bytes = [0u8; 8];
            let _ = getrandom::fill(&mut bytes);
            hex::encode(bytes)
        }
    }
}

/// R62: one access log line per request (method, path, status, latency, principal,
/// request id) inside a span that carries the request id, and the id on the answer.
pub async fn access_log(mut request: Request, next: Next) -> Response {
    use tracing::Instrument;
    let started = Instant::now();
    let id = request_id(&request);
    let slot = PrincipalSlot::default();
    request.extensions_mut().insert(slot.clone());
    let method = request.method().clone();
    let path: String = request.uri().path().chars().take(200).collect();
    let span = tracing::info_span!("request", request_id = %id);
    let mut response = next.run(request).instrument(span.clone()).await;
    let principal = slot.0.get().map_or("-", String::as_str);
    span.in_scope(|| {
        tracing::info!(
            target: "deputy::access",
            %method,
            path,
            status = response.status().as_u16(),
            latency_us = started.elapsed().as_micros() as u64,
            principal,
            "request"
        )
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    response
}

/// R23: over https every answer says to stay on https (the fallback's too, see the
/// portal's router).
pub async fn strict_transport_security(
    State(app): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    if let Some(value) = app.config().strict_transport_security() {
        response
            .headers_mut()
            .insert(axum::http::header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(value));
    }
    response
}

/// R57: every error the API answers is a problem document, the framework's own too (a
/// path segment that is not UTF-8, a body over the limit): whatever answered an error in
/// another form is rewritten here, in the one place, keeping its status, its words and
/// headers such as `Allow` and `Retry-After`.
async fn problem_documents(request: Request, next: Next) -> Response {
    use axum::http::{StatusCode, header};
    let response = next.run(request).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let (parts, body) = response.into_parts();
    let words = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let (slug, title) = match status {
        StatusCode::BAD_REQUEST => ("bad-request", "The request is malformed"),
        StatusCode::NOT_FOUND => ("not-found", "Not found"),
        StatusCode::METHOD_NOT_ALLOWED => ("method-not-allowed", "Method not allowed"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload-too-large", "The request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported-media-type", "The request body's type is not accepted")
        }
        StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "Service unavailable"),
        s if s.is_server_error() => {
            tracing::error!(status = s.as_u16(), %words, "server error outside the handlers");
            // Keeps its status, never its words (5xx bodies stay generic).
            let detail = "the server failed; the cause is in its log";
            return ApiError::new(s, "internal", "Internal error", detail).into_response();
        }
        _ => ("error", "The request failed"),
    };
    let detail = if words.is_empty() { title.to_lowercase() } else { plain_words(&words) };
    let mut answer = ApiError::new(status, slug, title, detail).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    answer
}

/// The answer to a path no route matches.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        "this route does not answer this method",
    )
}

/// Every route of the API, answering unknown paths with a problem document.
pub fn router(app: AppState) -> Router {
    routes(app.clone())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(app, strict_transport_security))
        .layer(middleware::from_fn(access_log))
}

/// Every route of the API, without a fallback: for a router that serves more beside it.
pub fn routes(app: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/v1/openapi.json", get(crate::openapi::document))
        .route("/v1/auth/sign-in", post(sessions::sign_in))
        .route("/v1/auth/sign-out", post(sessions::sign_out))
        .route("/v1/auth/password", post(sessions::change_password))
        .route("/v1/auth/invitations/accept", post(sessions::accept_invitation))
        .route("/v1/auth/forgot-password", post(sessions::forgot_password))
        .route("/v1/auth/token", post(sessions::access_token))
        .route("/.well-known/jwks.json", get(sessions::jwks))
        .route("/v1/auth/reset", post(sessions::reset_password))
        .route("/v1/me", get(users::me))
        .route("/v1/check", post(checks::check))
        .route("/v1/check/batch", post(checks::check_batch))
        .route("/v1/explain", post(checks::explain))
        .route("/v1/session/switch", post(sessions::switch))
        .route("/v1/session/impersonate", post(sessions::impersonate))
        .route("/v1/session/stop-impersonating", post(sessions::stop_impersonating))
        .route("/v1/principals/{id}", get(users::get_principal).patch(users::update_profile))
        .route("/v1/tenants/{id}/access-codes", post(access::issue_access_code))
        .route("/v1/access-codes/redeem", post(access::redeem_access_code))
        .route("/v1/lookup/resources", post(checks::lookup_resources))
        .route("/v1/lookup/subjects", post(checks::lookup_subjects))
        .route("/v1/what-if", post(reports::what_if))
        .route("/v1/tenants/{id}/review", get(reports::review_tenant))
        .route("/v1/principals/{id}/review", get(reports::review_principal))
        .route("/v1/catalog", get(catalog::catalog).put(catalog::change_catalog))
        .route("/v1/principals/{id}/api-keys/{key}", axum::routing::delete(users::revoke_api_key))
        .route("/v1/outbox", get(outbox::outbox))
        .route("/v1/principals/{id}/status", post(users::set_status))
        .route("/v1/principals/{id}/cancel", post(users::cancel))
        .route("/v1/principals/{id}/password-reset", post(users::password_reset))
        .route("/v1/principals/{id}/unlock", post(users::unlock))
        .route("/v1/principals/{id}/assignments", post(roles::assign))
        .route(
            "/v1/principals/{id}/assignments/{assignment}",
            axum::routing::delete(roles::unassign),
        )
        .route("/v1/principals/{id}/invitation", post(users::invite))
        .route(
            "/v1/principals/{id}/api-keys",
            post(users::create_api_key).get(users::list_api_keys),
        )
        .route("/v1/tenants/{id}", get(tenants::get_tenant).patch(tenants::update_tenant))
        .route("/v1/grants/{id}", get(partners::grant).put(partners::change_grant))
        .route("/v1/groups/{id}", get(groups::get_group).delete(groups::delete_group))
        .route("/v1/tenants/{id}/service-accounts", post(users::create_service_account))
        .route("/v1/principals/{id}/delegates", get(users::delegates).post(users::create_delegate))
        .route("/v1/tenants/{id}/users", post(users::create_user))
        .route("/v1/tenants/{id}/principals", get(users::tenant_principals))
        .route("/v1/tenants/{id}/children", get(tenants::tenant_children))
        .route("/v1/activity", get(activity::activity))
        .route("/v1/tenants/{id}/children", post(tenants::create_tenant))
        .route("/v1/tenants/{id}/customers", post(tenants::create_customer))
        .route("/v1/tenants/{id}/sub-accounts", post(tenants::create_sub_account))
        .route("/v1/tenants/{id}/parent-account", post(tenants::create_parent_account))
        .route("/v1/tenants/{id}/entitlements", axum::routing::put(tenants::set_entitlements))
        .route("/v1/tenants/{id}/suspended", axum::routing::put(tenants::set_suspended))
        .route("/v1/tenants/{id}/partner", axum::routing::put(tenants::set_partner))
        .route(
            "/v1/tenants/{id}/grants",
            post(partners::propose_grant).get(partners::tenant_grants),
        )
        .route(
            "/v1/tenants/{id}/resources",
            post(resources::create_resource).get(resources::tenant_resources),
        )
        .route("/v1/resources/{id}", get(resources::get_resource))
        .route("/v1/tenants", get(tenants::list_tenants))
        .route("/v1/grants/{id}/approve", post(partners::approve_grant))
        .route("/v1/grants/{id}/revoke", post(partners::revoke_grant))
        .route("/v1/principals/{id}/partner-roles", post(partners::give_partner_role))
        .route(
            "/v1/principals/{id}/delegate-access",
            axum::routing::put(users::set_delegate_access),
        )
        .route("/v1/groups", post(groups::create_group))
        .route("/v1/groups/{id}/tenants/{tenant}", axum::routing::put(groups::place_in_group))
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(middleware::from_fn_with_state(app.clone(), crate::idempotency::idempotency))
        .route_layer(middleware::from_fn_with_state(app.clone(), crate::csrf::api_guard))
        .route_layer(middleware::from_fn_with_state(app.clone(), record))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(middleware::from_fn(problem_documents))
        .layer(middleware::from_fn_with_state(app.clone(), strict_transport_security))
        .with_state(app)
}

#[cfg(test)]
mod tests {
    use super::integral_numbers;
    use serde_json::json;

    #[test]
    fn r57_integral_floats_read_as_the_integers_json_schema_says_they_are() {
        let mut v = json!({"limit": 2.0, "nested": [{"at": -5.0}, 1.5], "big": 1e300, "n": 3});
        assert!(integral_numbers(&mut v));
        assert_eq!(v, json!({"limit": 2, "nested": [{"at": -5}, 1.5], "big": 1e300, "n": 3}));
        let mut plain = json!({"n": 3, "s": "2.0"});
        assert!(!integral_numbers(&mut plain), "nothing to rewrite");
    }
}
