//! Tenants as the API shows them.

use super::ApiQuery;
use super::lists::{Page, PageParams, page};
use super::refs::{PrincipalRef, TenantRef};
use crate::caller::Authed;
use crate::openapi::ErrorsOfRead;
use crate::problem::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use deputy_core::{Actor, State as Snapshot, Tenant, TenantId};
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
