//! Tenants as the API shows them.

use crate::caller::Authed;
use crate::openapi::ErrorsOfRead;
use crate::problem::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use deputy_core::{Actor, Tenant};
use deputy_service::resolve;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TenantView {
    pub id: String,
    pub key: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
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
    pub contact: Option<String>,
}

fn view(s: &deputy_core::State, t: &Tenant, internal: bool) -> TenantView {
    TenantView {
        id: t.id.to_string(),
        key: t.key.clone(),
        name: t.name.clone(),
        parent: t.parent.map(|p| p.to_string()),
        description: t.description.clone(),
        internal_description: internal.then(|| t.internal_description.clone()),
        partner: t.partner,
        suspended: t.suspended,
        entitlements: s.catalog.perm_names(t.entitlements),
        contact: t.contact.map(|c| c.to_string()),
    }
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
    let Actor::Principal { id: acting, .. } = actor else { return Err(not_found()) };
    let home = s.principal(acting).map(|p| p.home);
    // R8: a holder of `tenants.manage` over a suspended tenant still sees it, to lift it.
    let may_view = home == Some(tenant)
        || super::holds(&app, &s, actor, "tenants.view", tenant)
        || s.decide(actor, now, |tx| Ok(tx.may_over("tenants.manage", tenant)))
            .is_ok_and(|d| d.output);
    if !may_view {
        return Err(not_found());
    }
    let internal =
        s.decide(actor, now, |tx| Ok(tx.may_see_internal(tenant))).is_ok_and(|d| d.output);
    Ok(Json(view(&s, t, internal)))
}
