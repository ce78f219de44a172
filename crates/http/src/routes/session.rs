//! Switching tenants (R43) and impersonation (R48, R49, R68). Each rotates the session
//! (R23): the old token stops working and a new one is set.

use super::auth::with_session;
use super::{ApiJson, op};
use crate::caller::{Authed, Source};
use crate::openapi::ErrorsOfWrite;
use crate::problem::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::response::Response;
use deputy_service::ops;
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SwitchRequest {
    /// The client tenant (id or key) to act in, or the caller's home tenant to return.
    pub tenant: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpersonateRequest {
    /// The principal to impersonate (id or logon name).
    pub target: String,
    /// Why: free text or a ticket id (R68).
    pub reason: String,
    /// At most 60 (the default).
    #[serde(default)]
    pub minutes: Option<i64>,
    /// Tell the target by e-mail (R68).
    #[serde(default)]
    pub notify_target: bool,
}

fn with_token(mut response: Response, token: deputy_service::Token) -> Response {
    if let Ok(value) = HeaderValue::from_str(&token.to_string()) {
        response.headers_mut().insert(super::CONSISTENCY_TOKEN.clone(), value);
    }
    response
}

/// What the caller may not see answers exactly as what does not exist (R58): the
/// engine's "not found" becomes the handler's own for a name that resolves to nothing.
/// Switches the session into a client tenant, or home (R43, "Switch Tenant").
#[utoipa::path(post, path = "/v1/session/switch", tag = "session", request_body = SwitchRequest, responses(
    (status = 200, description = "switched: the new session; the old token stopped working (R23)", body = crate::routes::auth::SessionCreated),
    ErrorsOfWrite))]
pub async fn switch(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    ApiJson(body): ApiJson<SwitchRequest>,
) -> Result<Response, ApiError> {
    let (session, token) =
        op(&app, move |ctx| ops::sessions::switch(ctx, &caller, source.as_deref(), &body.tenant))
            .await?;
    Ok(with_token(with_session(&app, session), token))
}

/// Starts impersonating a principal (R48, R68): a reason, at most 60 minutes, optionally
/// a notice to the target. Every action meanwhile is audited with both identities (R49).
#[utoipa::path(post, path = "/v1/session/impersonate", tag = "session", request_body = ImpersonateRequest, responses(
    (status = 200, description = "impersonating: the new session; the old token stopped working (R23)", body = crate::routes::auth::SessionCreated),
    ErrorsOfWrite))]
pub async fn impersonate(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    ApiJson(body): ApiJson<ImpersonateRequest>,
) -> Result<Response, ApiError> {
    let (session, token) = op(&app, move |ctx| {
        let ask = ops::sessions::Impersonate {
            target: &body.target,
            reason: &body.reason,
            minutes: body.minutes,
            notify_target: body.notify_target,
        };
        ops::sessions::impersonate(ctx, &caller, source.as_deref(), ask)
    })
    .await?;
    Ok(with_token(with_session(&app, session), token))
}

/// Stops impersonating; the session returns to the impersonator.
#[utoipa::path(post, path = "/v1/session/stop-impersonating", tag = "session", responses(
    (status = 200, description = "stopped: the impersonator's new session", body = crate::routes::auth::SessionCreated),
    ErrorsOfWrite))]
pub async fn stop_impersonating(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
) -> Result<Response, ApiError> {
    let (session, token) =
        op(&app, move |ctx| ops::sessions::stop_impersonating(ctx, &caller, source.as_deref()))
            .await?;
    Ok(with_token(with_session(&app, session), token))
}
