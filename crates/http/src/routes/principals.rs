//! Principals: the caller itself, one principal, new users, invitations, API keys.

use super::{ApiJson, blocking, written};
use crate::caller::{Authed, CallerMustChange, Source};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use deputy_core::commands::users::NewUser;
use deputy_core::{
    Actor, Principal, PrincipalId, PrincipalKind, State as Snapshot, Status, Target, TenantId,
};
use deputy_service::auth::Caller;
use deputy_service::resolve;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A principal as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PrincipalView {
    pub id: String,
    /// `user`, `delegate` or `service_account`.
    pub kind: String,
    /// A delegate's owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub home: String,
    pub logon: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub email_verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// `pending`, `invited`, `active`, `deactivated` or `cancelled` (R11).
    pub status: String,
    pub description: String,
    /// Only for callers who may manage the principal (R18).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_description: Option<String>,
    /// Holds `admin` in its home tenant: shown with a crown (R7).
    pub admin: bool,
    /// The home tenant's contact person (R4).
    pub contact: bool,
}

impl PrincipalView {
    fn of(s: &Snapshot, p: &Principal, show_internal: bool) -> PrincipalView {
        let admin = s.catalog.role_id("admin").is_some_and(|admin| {
            p.assignments.iter().any(|a| {
                a.bundle == deputy_core::Bundle::Role(admin)
                    && matches!(a.scope, deputy_core::Scope::Tenant { tenant, .. } if tenant == p.home)
            })
        });
        PrincipalView {
            id: p.id.to_string(),
            kind: match p.kind {
                PrincipalKind::User => "user",
                PrincipalKind::Delegate { .. } => "delegate",
                PrincipalKind::ServiceAccount => "service_account",
            }
            .to_owned(),
            owner: p.owner().map(|o| o.to_string()),
            home: p.home.to_string(),
            logon: p.logon.to_string(),
            first_name: p.first_name.to_string(),
            last_name: p.last_name.to_string(),
            email: p.email.to_string(),
            email_verified: p.email_verified,
            phone: p.phone.as_deref().map(str::to_owned),
            status: p.status.as_str().to_owned(),
            description: p.description.to_string(),
            internal_description: show_internal.then(|| p.internal_description.to_string()),
            admin,
            contact: s.tenant(p.home).is_some_and(|t| t.contact == Some(p.id)),
        }
    }
}

/// Whether `caller` may see `p` at all (R58), decided by the engine's own rule.
fn visible(app: &AppState, s: &Snapshot, caller: &Caller, p: &Principal) -> bool {
    s.decide(caller.actor(), app.deputy().now(), |tx| Ok(tx.visible_principal(p)))
        .is_ok_and(|d| d.output)
}

/// Whether `caller` may manage `p` (`users.modify` in its home tenant).
fn manages(app: &AppState, s: &Snapshot, caller: &Caller, p: &Principal) -> bool {
    let Actor::Principal { id, ctx } = caller.actor() else { return true };
    s.catalog.permission_id("users.modify").is_some_and(|x| {
        s.check(id, x, Target::Tenant(p.home), ctx, app.deputy().now())
            .is_ok_and(|d| d.is_allowed())
    })
}

fn principal_id(s: &Snapshot, text: &str) -> Result<PrincipalId, ApiError> {
    resolve::principal(s, text).map_err(|_| ApiError::not_found(format!("no principal `{text}`")))
}

/// The calling principal (also while a password change is due).
#[utoipa::path(get, path = "/v1/me", tag = "principals", responses(
    (status = 200, body = PrincipalView),
    (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn me(
    State(app): State<AppState>,
    CallerMustChange(caller): CallerMustChange,
) -> Result<Json<PrincipalView>, ApiError> {
    let s = app.deputy().snapshot();
    let p = s.principal(caller.principal).ok_or_else(ApiError::unauthenticated)?;
    Ok(Json(PrincipalView::of(&s, p, false)))
}

/// One principal, if the caller may see it (else 404, R58).
#[utoipa::path(get, path = "/v1/principals/{id}", tag = "principals",
    params(("id" = String, Path, description = "principal id (`p12`) or logon name")),
    responses(
    (status = 200, body = PrincipalView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_principal(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<PrincipalView>, ApiError> {
    let s = app.deputy().snapshot();
    let p = s
        .principal(principal_id(&s, &id)?)
        .ok_or_else(|| ApiError::not_found("no such principal"))?;
    if !visible(&app, &s, &caller, p) {
        return Err(ApiError::not_found(format!("no principal `{id}`")));
    }
    Ok(Json(PrincipalView::of(&s, p, manages(&app, &s, &caller, p))))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    pub logon: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
    /// Role names given in the tenant (tenant scope), each under R27.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Send the invitation mail now (R10, default on); off leaves the user `pending`.
    #[serde(default = "yes")]
    pub send_invitation: bool,
}

fn yes() -> bool {
    true
}

/// Adds a user to a tenant (R10) and, by default, invites it (R12).
#[utoipa::path(post, path = "/v1/tenants/{id}/users", tag = "principals", request_body = NewUserRequest,
    params(("id" = String, Path, description = "tenant id (`t3`) or key")),
    responses(
    (status = 201, body = PrincipalView, headers(("consistency-token" = String, description = "the write's revision (R50)"))),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_user(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(tenant): Path<String>,
    ApiJson(body): ApiJson<NewUserRequest>,
) -> Result<Response, ApiError> {
    let s = app.deputy().snapshot();
    let home: TenantId = resolve::tenant(&s, &tenant)
        .map_err(|_| ApiError::not_found(format!("no tenant `{tenant}`")))?;
    let roles = body
        .roles
        .iter()
        .map(|r| {
            resolve::role(&s, r).map_err(|e| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                    "The request is not valid",
                    e.0,
                )
                .field("roles")
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let worker = app.clone();
    let actor = caller.actor();
    let (committed, view) = blocking(move || {
        let deputy = worker.deputy();
        let new = NewUser {
            home,
            logon: body.logon,
            first_name: body.first_name,
            last_name: body.last_name,
            email: body.email,
            phone: body.phone,
            roles,
            status: Status::Pending,
        };
        let mut committed =
            deputy.execute(actor, source.as_deref(), |tx| tx.create_user(new.clone()))?;
        if body.send_invitation {
            worker.auth().invite(actor, committed.output, source.as_deref())?;
            committed.revision = deputy.snapshot().revision;
        }
        let s = deputy.snapshot();
        let p = s
            .principal(committed.output)
            .ok_or_else(|| ApiError::internal("created principal vanished"))?;
        let view = PrincipalView::of(&s, p, true);
        Ok((committed, view))
    })
    .await?;
    Ok(written(&committed, (StatusCode::CREATED, Json(view))))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvitationSent {
    /// Where the mail went.
    pub email: String,
}

/// Sends (or resends: the older link dies) an invitation mail (R12, "Resend Logon Access
/// Email"). The link goes by mail only.
#[utoipa::path(post, path = "/v1/principals/{id}/invitation", tag = "principals",
    params(("id" = String, Path, description = "principal id or logon name")),
    responses(
    (status = 202, body = InvitationSent),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn invite(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let s = app.deputy().snapshot();
    let p = s
        .principal(principal_id(&s, &id)?)
        .ok_or_else(|| ApiError::not_found("no such principal"))?;
    if !visible(&app, &s, &caller, p) {
        return Err(ApiError::not_found(format!("no principal `{id}`")));
    }
    let (pid, email) = (p.id, p.email.to_string());
    let worker = app.clone();
    let actor = caller.actor();
    blocking(move || {
        worker.auth().invite(actor, pid, source.as_deref()).map(|_| ()).map_err(ApiError::from)
    })
    .await?;
    let token = app.deputy().token();
    let mut response = (StatusCode::ACCEPTED, Json(InvitationSent { email })).into_response();
    if let Ok(value) = axum::http::HeaderValue::from_str(&token.to_string()) {
        response.headers_mut().insert(super::CONSISTENCY_TOKEN.clone(), value);
    }
    Ok(response)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// A name to recognise the key by.
    pub name: String,
    /// Milliseconds since the Unix epoch; none: no expiry.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKeyCreated {
    /// Shown once; stored only as a hash (R24).
    pub key: String,
}

/// Creates an API key for a service account (R24); needs `keys.manage` in its home tenant.
#[utoipa::path(post, path = "/v1/principals/{id}/api-keys", tag = "principals", request_body = NewApiKey,
    params(("id" = String, Path, description = "service account id or name")),
    responses(
    (status = 201, body = ApiKeyCreated),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn create_api_key(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewApiKey>,
) -> Result<Response, ApiError> {
    let s = app.deputy().snapshot();
    let account = principal_id(&s, &id)?;
    let worker = app.clone();
    let actor = caller.actor();
    let key = blocking(move || {
        worker
            .auth()
            .create_api_key(actor, account, &body.name, body.expires_at)
            .map_err(ApiError::from)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(ApiKeyCreated { key })).into_response())
}
