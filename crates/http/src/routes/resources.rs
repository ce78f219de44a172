//! Resources as the API shows them (R57): one resource, and a tenant's resources, for
//! whoever may read the tenant (as `GET /v1/tenants/{id}` decides).
//! Created in a tenant, under a parent resource or not.

use super::created::{Created, created};
use super::paging::{Page, PageParams, page};
use super::refs::{ResourceRef, TenantRef};
use super::{ApiJson, ApiQuery, op};
use crate::caller::{Authed, Source};
use crate::openapi::{ErrorsOfRead, ErrorsOfWrite};
use crate::problem::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use deputy_core::{Resource, ResourceId, State as Snapshot};
use deputy_service::ops::{self, Asker};
use deputy_service::resolve;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A resource: what access is checked on inside a tenant.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResourceView {
    pub id: String,
    pub key: String,
    pub name: String,
    /// The tenant that owns it.
    pub tenant: TenantRef,
    /// Its resource type (`tax-account`).
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Its kind (`Withholding`), if it has one (R38).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Its parent resource, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<ResourceRef>,
}

impl ResourceView {
    pub fn of(s: &Snapshot, r: &Resource) -> ResourceView {
        ResourceView {
            id: r.id.to_string(),
            key: r.key.to_string(),
            name: r.name.to_string(),
            tenant: TenantRef::of(s, r.tenant),
            resource_type: s
                .catalog
                .types
                .get(r.resource_type.index())
                .map_or_else(|| r.resource_type.to_string(), |t| t.name.clone()),
            kind: r.kind.map(|k| s.catalog.kind_name(k).to_owned()),
            parent: r.parent.map(|p| ResourceRef::of(s, p)),
        }
    }
}

/// One resource, for those who may read its tenant; for anyone else it does not exist
/// (R58).
#[utoipa::path(get, path = "/v1/resources/{id}", tag = "resources",
    params(("id" = String, Path, description = "resource id (`r4`) or key")),
    responses((status = 200, description = "the resource", body = ResourceView), ErrorsOfRead))]
pub async fn get_resource(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<ResourceView>, ApiError> {
    let s = app.deputy().snapshot();
    let not_found = || ApiError::not_found(format!("no resource `{id}`")).field("id");
    let r = resolve::resource(&s, &id)
        .ok()
        .and_then(|r| s.resource(r))
        .filter(|r| super::tenants::may_view(&app, &s, caller.actor(), r.tenant))
        .ok_or_else(not_found)?;
    Ok(Json(ResourceView::of(&s, r)))
}

/// A tenant's resources in id order, for those who may read the tenant (R57).
#[utoipa::path(get, path = "/v1/tenants/{id}/resources", tag = "resources",
    params(("id" = String, Path, description = "tenant id (`t3`) or key"), PageParams),
    responses((status = 200, description = "a page of the tenant's resources", body = Page<ResourceView>), ErrorsOfRead))]
pub async fn tenant_resources(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<Page<ResourceView>>, ApiError> {
    let s = app.deputy().snapshot();
    let not_found = || ApiError::not_found(format!("no tenant `{id}`")).field("id");
    let tenant = resolve::tenant(&s, &id)
        .ok()
        .filter(|t| super::tenants::may_view(&app, &s, caller.actor(), *t))
        .ok_or_else(not_found)?;
    let mut ids: Vec<u32> = s.resources_of(tenant).map(|r| r.0).collect();
    ids.sort_unstable();
    let page = page(ids.into_iter(), &params, |id| {
        s.resource(ResourceId(id)).map(|r| ResourceView::of(&s, r))
    })?;
    Ok(Json(page))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceRequest {
    /// Unique across the deployment, case-insensitive.
    pub key: String,
    pub name: String,
    /// A resource type of the catalog (`tax-account`).
    #[serde(rename = "type")]
    pub resource_type: String,
    #[serde(default)]
    pub kind: Option<String>,
    /// A parent resource (id or key).
    #[serde(default)]
    pub parent: Option<String>,
}

/// Creates a resource in a tenant.
#[utoipa::path(post, path = "/v1/tenants/{id}/resources", tag = "resources", request_body = ResourceRequest,
    params(("id" = String, Path, description = "tenant id or key")),
    responses((status = 201, description = "created: the new resource, `{id, key}`", body = Created), ErrorsOfWrite))]
pub async fn create_resource(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ResourceRequest>,
) -> Result<Response, ApiError> {
    let spec = ops::resources::ResourceSpec {
        key: body.key,
        name: body.name,
        resource_type: body.resource_type,
        kind: body.kind,
        parent: body.parent,
    };
    let committed = op(&app, move |ctx| {
        ops::resources::create(ctx, Asker::new(caller.actor(), source.as_deref()), &id, spec)
    })
    .await?;
    Ok(created(&app, &committed))
}
