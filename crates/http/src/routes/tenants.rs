//! Tenants over HTTP: one tenant, the list, a tenant's children (R1, R9); created, also
//! by a partner's wizards (R46), changed, entitled (R3), suspended (R8) and flagged a partner.

use super::created::{Created, created};
use super::paging::{Page, PageParams, page};
use super::refs::{PrincipalRef, TenantRef};
use super::{ApiJson, ApiQuery, op, written};
use crate::caller::{Authed, Source};
use crate::openapi::{ErrorsOfRead, ErrorsOfWrite};
use crate::problem::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use deputy_core::commands::tenants::NewTenant;
use deputy_core::{Actor, State as Snapshot, Tenant, TenantId};
use deputy_service::auth::Caller;
use deputy_service::ops::tenants::Wizard;
use deputy_service::ops::{self, Asker};
use deputy_service::resolve;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TenantView {
    pub id: String,
    pub key: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<TenantRef>,
    /// Visible to the tenant's users (R9).
    pub description: String,
    /// Only for holders of `tenants.manage` over it or in it through a grant (R9).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_description: Option<String>,
    pub partner: bool,
    pub suspended: bool,
    /// Its effective entitlements (R3).
    pub entitlements: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<PrincipalRef>,
}

fn view(s: &deputy_core::State, t: &Tenant, internal: bool) -> TenantView {
    TenantView {
        id: t.id.to_string(),
        key: t.key.clone(),
        name: t.name.clone(),
        parent: t.parent.map(|p| TenantRef::of(s, p)),
        description: t.description.clone(),
        internal_description: internal.then(|| t.internal_description.clone()),
        partner: t.partner,
        suspended: t.suspended,
        entitlements: s.catalog.perm_names(t.entitlements),
        contact: t.contact.map(|c| PrincipalRef::of(s, c)),
    }
}

/// Whether `actor` may read tenant `tenant` on its own (`GET /v1/tenants/{id}`, its
/// resources, the tenant list): its home, `tenants.view` there, or `tenants.manage` over it
/// (R8: a holder of `tenants.manage` over a suspended tenant still sees it, to lift it).
pub(crate) fn may_view(app: &AppState, s: &Snapshot, actor: Actor, tenant: TenantId) -> bool {
    let Actor::Principal { id: acting, .. } = actor else { return false };
    s.principal(acting).is_some_and(|p| p.home == tenant)
        || super::holds(app, s, actor, deputy_core::perms::TENANTS_VIEW, tenant)
        || s.decide(actor, app.deputy().now(), |tx| {
            Ok(tx.may_over(deputy_core::perms::TENANTS_MANAGE, tenant))
        })
        .is_ok_and(|d| d.output)
}

/// One tenant: the caller's home, or one where it holds `tenants.view` (else 404, R58).
#[utoipa::path(get, path = "/v1/tenants/{id}", tag = "tenants",
    params(("id" = String, Path, description = "tenant id (`t3`) or key")),
    responses((status = 200, description = "the tenant", body = TenantView), ErrorsOfRead))]
pub async fn get_tenant(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<TenantView>, ApiError> {
    let s = app.deputy().snapshot();
    let not_found = || ApiError::not_found(format!("no tenant `{id}`"));
    let tenant = resolve::tenant(&s, &id).map_err(|_| not_found())?;
    let t = s.tenant(tenant).ok_or_else(not_found)?;
    let now = app.deputy().now();
    let actor = caller.actor();
    if !may_view(&app, &s, actor, tenant) {
        return Err(not_found());
    }
    let internal =
        s.decide(actor, now, |tx| Ok(tx.may_see_internal(tenant))).is_ok_and(|d| d.output);
    Ok(Json(view(&s, t, internal)))
}

/// Which tenants to list, and where a page starts.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TenantSearch {
    /// Only tenants whose key or name contains this, compared case-insensitively.
    pub q: Option<String>,
    /// Where to continue: the `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{1,19}$")]
    pub cursor: Option<String>,
    /// Items per page, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// A tenant in a list: its id, key and name.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TenantListed {
    pub id: String,
    pub key: String,
    pub name: String,
}

/// The tenants the caller may read (as `GET /v1/tenants/{id}` decides), in id order,
/// optionally only those whose key or name contains `q` (case-insensitive).
#[utoipa::path(get, path = "/v1/tenants", tag = "tenants", params(TenantSearch),
    responses((status = 200, description = "a page of the tenants the caller may read", body = Page<TenantListed>), ErrorsOfRead))]
pub async fn list_tenants(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiQuery(params): ApiQuery<TenantSearch>,
) -> Result<Json<Page<TenantListed>>, ApiError> {
    let s = app.deputy().snapshot();
    let actor = caller.actor();
    let paging = PageParams { cursor: params.cursor, limit: params.limit };
    let needle = params.q.as_deref().map(str::to_lowercase).filter(|q| !q.is_empty());
    let ids = s.tenants().map(|t| t.id.0);
    let page = page(ids, &paging, |id| {
        let t = s.tenant(TenantId(id))?;
        let matches = needle
            .as_deref()
            .is_none_or(|q| t.key.to_lowercase().contains(q) || t.name.to_lowercase().contains(q));
        (matches && may_view(&app, &s, actor, t.id)).then(|| TenantListed {
            id: t.id.to_string(),
            key: t.key.clone(),
            name: t.name.clone(),
        })
    })?;
    Ok(Json(page))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TenantSummary {
    pub id: String,
    pub key: String,
    pub name: String,
    pub partner: bool,
    pub suspended: bool,
}

/// A tenant's sub-tenants the caller may view (`tenants.view`).
#[utoipa::path(get, path = "/v1/tenants/{id}/children", tag = "tenants",
    params(("id" = String, Path, description = "tenant id or key"), PageParams),
    responses((status = 200, description = "a page of the sub-tenants the caller may view", body = Page<TenantSummary>), ErrorsOfRead))]
pub async fn tenant_children(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<Page<TenantSummary>>, ApiError> {
    let s = app.deputy().snapshot();
    let not_found = || ApiError::not_found(format!("no tenant `{id}`"));
    let tenant = resolve::tenant(&s, &id).map_err(|_| not_found())?;
    let actor = caller.actor();
    let home = match actor {
        Actor::Principal { id, .. } => s.principal(id).map(|p| p.home),
        Actor::System => None,
    };
    if home != Some(tenant)
        && !super::holds(&app, &s, actor, deputy_core::perms::TENANTS_VIEW, tenant)
    {
        return Err(not_found());
    }
    let mut ids: Vec<u32> = s.children(tenant).map(|t| t.0).collect();
    ids.sort_unstable();
    let page = page(ids.into_iter(), &params, |id| {
        let t = s.tenant(TenantId(id))?;
        super::holds(&app, &s, actor, deputy_core::perms::TENANTS_VIEW, t.id).then(|| {
            TenantSummary {
                id: t.id.to_string(),
                key: t.key.clone(),
                name: t.name.clone(),
                partner: t.partner,
                suspended: t.suspended,
            }
        })
    })?;
    Ok(Json(page))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenantRequest {
    /// Unique, case-insensitive handle: letters, digits, `-`, `_`, `.`.
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub internal_description: String,
}

impl NewTenantRequest {
    fn into_new(self) -> NewTenant {
        NewTenant {
            key: self.key,
            name: self.name,
            description: self.description,
            internal_description: self.internal_description,
        }
    }
}

/// Creates a sub-tenant (R1: `tenants.manage` in the parent).
#[utoipa::path(post, path = "/v1/tenants/{id}/children", tag = "tenants", request_body = NewTenantRequest,
    params(("id" = String, Path, description = "the parent tenant (id or key)")),
    responses((status = 201, description = "created: the new tenant, `{id, key}`", body = Created), ErrorsOfWrite))]
pub async fn create_tenant(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewTenantRequest>,
) -> Result<Response, ApiError> {
    let new = body.into_new();
    let committed = op(&app, move |ctx| {
        ops::tenants::create(ctx, Asker::new(caller.actor(), source.as_deref()), &id, new)
    })
    .await?;
    Ok(created(&app, &committed))
}

async fn wizard(
    app: AppState,
    caller: Caller,
    source: Option<String>,
    id: String,
    body: NewTenantRequest,
    which: Wizard,
) -> Result<Response, ApiError> {
    let new = body.into_new();
    let committed = op(&app, move |ctx| {
        let by = Asker::new(caller.actor(), source.as_deref());
        ops::tenants::create_account(ctx, by, &id, which, new)
    })
    .await?;
    Ok(created(&app, &committed))
}

/// "New account for a new customer" (R46): a partner creates a tenant under the root that
/// starts with an active `admin` grant to the partner.
#[utoipa::path(post, path = "/v1/tenants/{id}/customers", tag = "partners", request_body = NewTenantRequest,
    params(("id" = String, Path, description = "the partner tenant")),
    responses((status = 201, description = "created: the new customer tenant, `{id, key}`", body = Created), ErrorsOfWrite))]
pub async fn create_customer(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewTenantRequest>,
) -> Result<Response, ApiError> {
    wizard(app, caller, source, id, body, Wizard::Customer).await
}

/// A sub-account of a client, by its partner through the grant (R46).
#[utoipa::path(post, path = "/v1/tenants/{id}/sub-accounts", tag = "partners", request_body = NewTenantRequest,
    params(("id" = String, Path, description = "the client tenant")),
    responses((status = 201, description = "created: the new sub-account, `{id, key}`", body = Created), ErrorsOfWrite))]
pub async fn create_sub_account(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewTenantRequest>,
) -> Result<Response, ApiError> {
    wizard(app, caller, source, id, body, Wizard::SubAccount).await
}

/// A parent account above a client, by its partner through the grant (R46).
#[utoipa::path(post, path = "/v1/tenants/{id}/parent-account", tag = "partners", request_body = NewTenantRequest,
    params(("id" = String, Path, description = "the client tenant")),
    responses((status = 201, description = "created: the new parent account, `{id, key}`", body = Created), ErrorsOfWrite))]
pub async fn create_parent_account(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewTenantRequest>,
) -> Result<Response, ApiError> {
    wizard(app, caller, source, id, body, Wizard::ParentAccount).await
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Entitlements {
    /// The tenant's own entitled (non-core) permissions; effective ones are these ∩ the
    /// parent's (R3).
    pub permissions: Vec<String>,
}

/// Sets a tenant's entitlements (R3: `entitlements.manage` over it).
#[utoipa::path(put, path = "/v1/tenants/{id}/entitlements", tag = "tenants", request_body = Entitlements,
    params(("id" = String, Path, description = "tenant id or key")),
    responses((status = 204, description = "set"), ErrorsOfWrite))]
pub async fn set_entitlements(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Entitlements>,
) -> Result<Response, ApiError> {
    let committed = op(&app, move |ctx| {
        let by = Asker::new(caller.actor(), source.as_deref());
        ops::tenants::set_entitlements(ctx, by, &id, &body.permissions)
    })
    .await?;
    Ok(written(&committed, StatusCode::NO_CONTENT))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Flag {
    pub value: bool,
}

/// Suspends a tenant or lifts its suspension (R8: `tenants.manage` over it).
#[utoipa::path(put, path = "/v1/tenants/{id}/suspended", tag = "tenants", request_body = Flag,
    params(("id" = String, Path, description = "tenant id or key")),
    responses((status = 204, description = "set"), ErrorsOfWrite))]
pub async fn set_suspended(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Flag>,
) -> Result<Response, ApiError> {
    let committed = op(&app, move |ctx| {
        let by = Asker::new(caller.actor(), source.as_deref());
        ops::tenants::set_suspended(ctx, by, &id, body.value)
    })
    .await?;
    Ok(written(&committed, StatusCode::NO_CONTENT))
}

/// Flags a tenant as a partner, or not (`tenants.manage` over it).
#[utoipa::path(put, path = "/v1/tenants/{id}/partner", tag = "tenants", request_body = Flag,
    params(("id" = String, Path, description = "tenant id or key")),
    responses((status = 204, description = "set"), ErrorsOfWrite))]
pub async fn set_partner(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Flag>,
) -> Result<Response, ApiError> {
    let committed = op(&app, move |ctx| {
        let by = Asker::new(caller.actor(), source.as_deref());
        ops::tenants::set_partner(ctx, by, &id, body.value)
    })
    .await?;
    Ok(written(&committed, StatusCode::NO_CONTENT))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantUpdate {
    #[serde(default)]
    pub name: Option<String>,
    /// Visible to the tenant's users (R9).
    #[serde(default)]
    pub description: Option<String>,
    /// Visible only to holders of `tenants.manage` over it (R9).
    #[serde(default)]
    pub internal_description: Option<String>,
    /// Moves the tenant under another parent (R1).
    #[serde(default)]
    pub parent: Option<String>,
    /// The role new principals get (R19).
    #[serde(default)]
    pub default_role: Option<String>,
    /// Users may create secondary logons (R34).
    #[serde(default)]
    pub delegates_allowed: Option<bool>,
    /// Secondary logons may create their own (R34).
    #[serde(default)]
    pub nested_delegates_allowed: Option<bool>,
    /// Makes this active user of the tenant its contact person (R4).
    #[serde(default)]
    pub contact: Option<String>,
}

/// Changes a tenant: names and descriptions (R9), parent (R1), default role (R19),
/// delegation (R34), contact person (R4) — all in one revision, or nothing.
#[utoipa::path(patch, path = "/v1/tenants/{id}", tag = "tenants", request_body = TenantUpdate,
    params(("id" = String, Path, description = "tenant id or key")),
    responses((status = 204, description = "changed"), ErrorsOfWrite))]
pub async fn update_tenant(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TenantUpdate>,
) -> Result<Response, ApiError> {
    let change = ops::tenants::TenantChange {
        name: body.name,
        description: body.description,
        internal_description: body.internal_description,
        parent: body.parent,
        default_role: body.default_role,
        delegates_allowed: body.delegates_allowed,
        nested_delegates_allowed: body.nested_delegates_allowed,
        contact: body.contact,
    };
    let committed = op(&app, move |ctx| {
        ops::tenants::change(ctx, Asker::new(caller.actor(), source.as_deref()), &id, change)
    })
    .await?;
    Ok(written(&committed, StatusCode::NO_CONTENT))
}
