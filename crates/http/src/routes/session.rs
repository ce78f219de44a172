//! Switching tenants (R43) and impersonation (R48, R49, R68). Each rotates the session
//! (R23): the old token stops working and a new one is set.

use super::auth::with_session;
use super::{ApiJson, blocking};
use crate::caller::{Authed, Source};
use crate::openapi::ErrorsOfWrite;
use crate::problem::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::response::Response;
use deputy_core::commands::access::MAX_IMPERSONATION_MS;
use deputy_service::auth::SessionData;
use deputy_service::resolve;
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
fn unseen_as(e: deputy_service::ServiceError, missing: impl FnOnce() -> ApiError) -> ApiError {
    match e {
        deputy_service::ServiceError::Command(c) if c.kind == deputy_core::ErrorKind::NotFound => {
            missing()
        }
        other => other.into(),
    }
}

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
    let s = app.deputy().snapshot();
    let name = body.tenant.clone();
    let missing = move || ApiError::not_found(format!("no tenant `{name}`")).field("tenant");
    let tenant = resolve::tenant(&s, &body.tenant).map_err(|_| missing())?;
    let worker = app.clone();
    let (session, token) = blocking(move || {
        let committed = worker
            .deputy()
            .execute(caller.actor(), source.as_deref(), |tx| tx.switch_tenant(tenant))
            .map_err(|e| unseen_as(e, missing))?;
        let data =
            SessionData { switched: committed.output.switched.map(|t| t.0), ..caller.data.clone() };
        Ok((worker.auth().rotate(&caller, data)?, committed.token()))
    })
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
    let s = app.deputy().snapshot();
    let name = body.target.clone();
    let missing = move || ApiError::not_found(format!("no principal `{name}`")).field("target");
    let target = resolve::principal(&s, &body.target).map_err(|_| missing())?;
    let minutes = body.minutes.unwrap_or(MAX_IMPERSONATION_MS / 60_000);
    let worker = app.clone();
    let (session, token) = blocking(move || {
        let committed = worker
            .deputy()
            .execute(caller.actor(), source.as_deref(), |tx| {
                tx.start_impersonation(
                    target,
                    &body.reason,
                    minutes.saturating_mul(60_000),
                    MAX_IMPERSONATION_MS,
                )
            })
            .map_err(|e| unseen_as(e, missing))?;
        let data = SessionData {
            impersonating: Some(target.0),
            impersonation_expires_ms: Some(committed.output.expires_at),
            ..caller.data.clone()
        };
        if body.notify_target {
            let s = worker.deputy().snapshot();
            let who = s
                .principal(caller.principal)
                .map_or_else(|| caller.principal.to_string(), |p| p.display_name());
            worker.auth().notify(
                target,
                "Your account is being accessed by support",
                &format!(
                    "{who} is acting as you for up to {minutes} minutes.\nReason: {}\n",
                    body.reason
                ),
            )?;
        }
        Ok((worker.auth().rotate(&caller, data)?, committed.token()))
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
    let worker = app.clone();
    let (session, token) = blocking(move || {
        let committed = worker
            .deputy()
            .execute(caller.actor(), source.as_deref(), |tx| tx.stop_impersonation())?;
        let data = SessionData {
            impersonating: None,
            impersonation_expires_ms: None,
            ..caller.data.clone()
        };
        Ok((worker.auth().rotate(&caller, data)?, committed.token()))
    })
    .await?;
    Ok(with_token(with_session(&app, session), token))
}
