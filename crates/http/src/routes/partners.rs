//! Partner access over HTTP (R40–R47): grants proposed, approved, changed and revoked,
//! one grant and a tenant's grants as the API shows them, and roles given to a partner's
//! users for a client.

use super::created::{Created, created};
use super::paging::{Page, PageParams, page};
use super::refs::TenantRef;
use super::{ApiJson, ApiQuery, op, written};
use crate::caller::{Authed, Source};
use crate::openapi::{ErrorsOfRead, ErrorsOfWrite};
use crate::problem::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use deputy_core::{CommandError, State as Snapshot, TenantId};
use deputy_service::auth::AuthError;
use deputy_service::ops::partners::{For, TermsSpec};
use deputy_service::ops::{self, Asker};
use deputy_service::resolve;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

impl GrantRequest {
    fn terms(&self) -> TermsSpec {
        TermsSpec {
            ceiling: self.ceiling.clone(),
            kinds: self.kinds.clone(),
            subtree: self.subtree,
            expires_at: self.expires_at,
            auto_extend: self.auto_extend,
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    /// The partner tenant (id or key).
    pub partner: String,
    /// Role names: the most P's users may be given in C (R41).
    pub ceiling: Vec<String>,
    /// Only resources of these kinds.
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
    /// Also C's descendants (R47).
    #[serde(default)]
    pub subtree: bool,
    #[serde(default)]
    pub expires_at: Option<i64>,
    #[serde(default)]
    pub auto_extend: bool,
}

/// Proposes a grant from client `{id}` to a partner (R40; active at once when the client
/// proposes it).
#[utoipa::path(post, path = "/v1/tenants/{id}/grants", tag = "partners", request_body = GrantRequest,
    params(("id" = String, Path, description = "the client tenant")),
    responses((status = 201, description = "proposed (or active, when the client proposed it): the grant's id", body = Created), ErrorsOfWrite))]
pub async fn propose_grant(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<GrantRequest>,
) -> Result<Response, ApiError> {
    let committed = op(&app, move |ctx| {
        let by = Asker::new(caller.actor(), source.as_deref());
        ops::partners::propose(ctx, by, &id, &body.partner, &body.terms())
    })
    .await?;
    Ok(created(&app, &committed))
}

/// Approves a proposed grant (R40: `partners.manage` in the client).
#[utoipa::path(post, path = "/v1/grants/{id}/approve", tag = "partners",
    params(("id" = String, Path, description = "grant id (`g4`)")),
    responses((status = 204, description = "approved: the grant is active"), ErrorsOfWrite))]
pub async fn approve_grant(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let committed = op(&app, move |ctx| {
        ops::partners::approve(ctx, Asker::new(caller.actor(), source.as_deref()), &id)
    })
    .await?;
    Ok(written(&committed, StatusCode::NO_CONTENT))
}

/// Revokes a grant (R40): every user of the partner loses it in the same revision.
#[utoipa::path(post, path = "/v1/grants/{id}/revoke", tag = "partners",
    params(("id" = String, Path, description = "grant id (`g4`)")),
    responses((status = 204, description = "revoked"), ErrorsOfWrite))]
pub async fn revoke_grant(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let committed = op(&app, move |ctx| {
        ops::partners::revoke(ctx, Asker::new(caller.actor(), source.as_deref()), &id)
    })
    .await?;
    Ok(written(&committed, StatusCode::NO_CONTENT))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerRoleRequest {
    pub role: String,
    /// A client tenant; or give `group`.
    #[serde(default)]
    pub client: Option<String>,
    /// One of the partner tenant's security groups (`sg3`).
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PartnerRoleGiven {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignment: Option<String>,
    /// Accounts in the client deactivated as "replaced by partner access" (R44).
    pub replaced: Vec<String>,
    /// Accounts kept because replacing them would leave the client without an admin.
    pub kept: Vec<String>,
}

/// Gives a partner user a role for a client or a group of clients (R41, R44).
#[utoipa::path(post, path = "/v1/principals/{id}/partner-roles", tag = "partners", request_body = PartnerRoleRequest,
    params(("id" = String, Path, description = "the partner's user")),
    responses((status = 201, description = "given: the assignment, and the client accounts it replaced or kept (R44)", body = PartnerRoleGiven), ErrorsOfWrite))]
pub async fn give_partner_role(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PartnerRoleRequest>,
) -> Result<Response, ApiError> {
    let committed = op(&app, move |ctx| {
        let target = match (&body.client, &body.group) {
            (Some(c), None) => For::Client(c.clone()),
            (None, Some(g)) => For::Group(g.clone()),
            _ => {
                let refused =
                    CommandError::invalid("client", "give exactly one of `client` and `group`");
                return Err(AuthError::from(refused));
            }
        };
        let by = Asker::new(caller.actor(), source.as_deref());
        ops::partners::give_role(ctx, by, &id, &body.role, target, body.expires_at)
    })
    .await?;
    let o = &committed.output;
    let view = PartnerRoleGiven {
        assignment: o.assignment.map(|a| a.to_string()),
        replaced: o.replaced.iter().map(ToString::to_string).collect(),
        kept: o.kept_for_r5.iter().map(ToString::to_string).collect(),
    };
    Ok(written(&committed, (StatusCode::CREATED, Json(view))))
}

/// Changes a grant's terms (R40: the client's side; narrowing takes effect at once).
#[utoipa::path(put, path = "/v1/grants/{id}", tag = "partners", request_body = GrantRequest,
    params(("id" = String, Path, description = "grant id (`g4`)")),
    responses((status = 204, description = "changed"), ErrorsOfWrite))]
pub async fn change_grant(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<GrantRequest>,
) -> Result<Response, ApiError> {
    let committed = op(&app, move |ctx| {
        ops::partners::change(
            ctx,
            Asker::new(caller.actor(), source.as_deref()),
            &id,
            &body.terms(),
        )
    })
    .await?;
    Ok(written(&committed, StatusCode::NO_CONTENT))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GrantView {
    pub id: String,
    pub client: TenantRef,
    pub partner: TenantRef,
    /// `proposed`, `active`, `expired` (active, past its end) or `revoked`.
    pub status: String,
    pub ceiling: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<String>>,
    pub subtree: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    pub auto_extend: bool,
}

impl GrantView {
    pub fn of(s: &Snapshot, g: &deputy_core::Grant, now: deputy_core::Millis) -> GrantView {
        GrantView {
            id: g.id.to_string(),
            client: TenantRef::of(s, g.client),
            partner: TenantRef::of(s, g.partner),
            // An active grant past its end has ended by itself (R40, R52).
            status: match g.status {
                deputy_core::GrantStatus::Proposed => "proposed",
                deputy_core::GrantStatus::Active if g.expires_at.is_some_and(|t| now >= t) => {
                    "expired"
                }
                deputy_core::GrantStatus::Active => "active",
                deputy_core::GrantStatus::Revoked => "revoked",
            }
            .to_owned(),
            ceiling: g.ceiling.iter().map(|r| s.catalog.role_name(*r).to_owned()).collect(),
            kinds: g
                .kinds
                .as_ref()
                .map(|ks| ks.iter().map(|k| s.catalog.kind_name(*k).to_owned()).collect()),
            subtree: g.subtree,
            expires_at: g.expires_at,
            auto_extend: g.auto_extend,
        }
    }
}

/// One grant (R57: every entity a list names can be read on its own), for holders of
/// `partners.manage` or `tenants.view` in its client or its partner; for anyone else it
/// does not exist (R58).
#[utoipa::path(get, path = "/v1/grants/{id}", tag = "partners",
    params(("id" = String, Path, description = "grant id (`g3`)")),
    responses((status = 200, description = "the grant", body = GrantView), ErrorsOfRead))]
pub async fn grant(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<GrantView>, ApiError> {
    let s = app.deputy().snapshot();
    let not_found = || ApiError::not_found(format!("no grant `{id}`")).field("id");
    let g =
        id.parse::<deputy_core::GrantId>().ok().and_then(|g| s.grant(g)).ok_or_else(not_found)?;
    let actor = caller.actor();
    let sees = |t: TenantId| {
        super::holds(&app, &s, actor, deputy_core::perms::PARTNERS_MANAGE, t)
            || super::holds(&app, &s, actor, deputy_core::perms::TENANTS_VIEW, t)
    };
    if !sees(g.client) && !sees(g.partner) {
        return Err(not_found());
    }
    Ok(Json(GrantView::of(&s, g, app.deputy().now())))
}

/// The grants a tenant gave (R42 "Grant Access") and received ("Access Received"), for
/// holders of `partners.manage` or `tenants.view` there.
#[utoipa::path(get, path = "/v1/tenants/{id}/grants", tag = "partners",
    params(("id" = String, Path, description = "tenant id or key"), PageParams),
    responses((status = 200, description = "a page of the grants the tenant gave and received", body = Page<GrantView>), ErrorsOfRead))]
pub async fn tenant_grants(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<Page<GrantView>>, ApiError> {
    let s = app.deputy().snapshot();
    let not_found = || ApiError::not_found(format!("no tenant `{id}`"));
    let tenant = resolve::tenant(&s, &id).map_err(|_| not_found())?;
    let actor = caller.actor();
    if !super::holds(&app, &s, actor, deputy_core::perms::PARTNERS_MANAGE, tenant)
        && !super::holds(&app, &s, actor, deputy_core::perms::TENANTS_VIEW, tenant)
    {
        return Err(not_found());
    }
    let mut ids: Vec<u32> =
        s.grants_from(tenant).chain(s.grants_to(tenant)).map(|g| g.id.0).collect();
    ids.sort_unstable();
    ids.dedup();
    let now = app.deputy().now();
    let page = page(ids.into_iter(), &params, |id| {
        s.grant(deputy_core::GrantId(id)).map(|g| GrantView::of(&s, g, now))
    })?;
    Ok(Json(page))
}
