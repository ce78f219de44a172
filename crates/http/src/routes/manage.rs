//! Managing the model: tenants and their entitlements, partner grants and partner roles,
//! delegates, security groups, resources, access codes. Each handler resolves the names
//! in the request and lets the engine decide under every rule, as the caller.

use super::refs::{PrincipalRef, ResourceRef, TenantRef};
use super::{ApiJson, op, written};
use crate::caller::{Authed, Source};
use crate::openapi::{ErrorsOfMail, ErrorsOfWrite};
use crate::problem::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use deputy_core::commands::tenants::NewTenant;
use deputy_core::{CommandError, KindId, RoleId, State as Snapshot};
use deputy_service::Committed;
use deputy_service::auth::{AuthError, Caller};
use deputy_service::ops::{self, Asker, tenants::Wizard};
use deputy_service::resolve::{self, NotFound};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

mod partners;
pub use partners::*;
mod access_codes;
pub use access_codes::*;

/// What a write created (R57): its `id`, unchanged and first, so a caller that read only
/// `id` reads it still; beside it the human name of what has one, as every view names it:
/// `key` for a tenant or resource, `logon` for a principal, `name` for a group. A grant has
/// only its id. One schema for every creation, so generated clients keep one type.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Created {
    pub id: String,
    /// A new tenant's or resource's key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// A new principal's logon name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logon: Option<String>,
    /// A new security group's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Created {
    fn id(id: impl std::fmt::Display) -> Created {
        Created { id: id.to_string(), key: None, logon: None, name: None }
    }
}

/// How a created entity is named in its [`Created`] answer.
trait CreatedAs {
    fn view(&self, s: &Snapshot) -> Created;
}

impl CreatedAs for deputy_core::TenantId {
    fn view(&self, s: &Snapshot) -> Created {
        Created { key: Some(TenantRef::of(s, *self).key), ..Created::id(self) }
    }
}

impl CreatedAs for deputy_core::ResourceId {
    fn view(&self, s: &Snapshot) -> Created {
        Created { key: Some(ResourceRef::of(s, *self).key), ..Created::id(self) }
    }
}

impl CreatedAs for deputy_core::PrincipalId {
    fn view(&self, s: &Snapshot) -> Created {
        Created { logon: Some(PrincipalRef::of(s, *self).logon), ..Created::id(self) }
    }
}

impl CreatedAs for deputy_core::GroupId {
    fn view(&self, s: &Snapshot) -> Created {
        let name = s.group(*self).map_or_else(String::new, |g| g.name.clone());
        Created { name: Some(name), ..Created::id(self) }
    }
}

impl CreatedAs for deputy_core::GrantId {
    fn view(&self, _: &Snapshot) -> Created {
        Created::id(self)
    }
}

/// 201 with what was created, named on the state the write made (R57).
fn created<T: CreatedAs>(app: &AppState, committed: &Committed<T>) -> Response {
    let view = committed.output.view(&app.deputy().snapshot());
    written(committed, (StatusCode::CREATED, Json(view)))
}

fn missing(field: &'static str) -> impl Fn(NotFound) -> ApiError {
    move |e| ApiError::not_found(e.0).field(field)
}

pub(crate) fn roles(
    s: &Snapshot,
    names: &[String],
    field: &'static str,
) -> Result<Vec<RoleId>, ApiError> {
    names.iter().map(|r| resolve::role(s, r).map_err(missing(field))).collect()
}

pub(crate) fn kinds(
    s: &Snapshot,
    names: &Option<Vec<String>>,
) -> Result<Option<Vec<KindId>>, ApiError> {
    names
        .as_ref()
        .map(|ks| {
            ks.iter()
                .map(|k| {
                    s.catalog.kind_by_name(k).ok_or_else(|| {
                        ApiError::not_found(format!("no kind named `{k}`")).field("kinds")
                    })
                })
                .collect()
        })
        .transpose()
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
pub struct DelegateRequest {
    pub logon: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// The owner's groups it may act for; none: Full Access (R35).
    #[serde(default)]
    pub groups: Option<Vec<String>>,
    /// Resource kinds; none: all (R38).
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
    /// Narrowing roles; none: everything the owner may.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Signs in with the owner's password (R17).
    #[serde(default)]
    pub linked_password: bool,
}

/// Creates a secondary logon of `{id}` (R34): by its owner, or by a holder of
/// `users.create` who outranks the owner.
#[utoipa::path(post, path = "/v1/principals/{id}/delegates", tag = "delegates", request_body = DelegateRequest,
    params(("id" = String, Path, description = "the owner")),
    responses((status = 201, description = "created: the new secondary logon, `{id, logon}`; its set-password mail is queued unless its password is linked", body = Created), ErrorsOfWrite, ErrorsOfMail))]
pub async fn create_delegate(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DelegateRequest>,
) -> Result<Response, ApiError> {
    let spec = ops::users::DelegateSpec {
        logon: body.logon,
        first_name: body.first_name,
        last_name: body.last_name,
        email: body.email,
        access: ops::users::DelegateAccess {
            groups: body.groups,
            kinds: body.kinds,
            roles: body.roles,
        },
        linked_password: body.linked_password,
    };
    let committed = op(&app, move |ctx| {
        let by = Asker::new(caller.actor(), source.as_deref());
        ops::users::create_delegate(ctx, by, &id, spec)
    })
    .await?;
    Ok(created(&app, &committed))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DelegateAccessRequest {
    #[serde(default)]
    pub groups: Option<Vec<String>>,
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
    #[serde(default)]
    pub roles: Vec<String>,
}

/// Changes what a secondary logon may act for (R35, R38, "Change Access").
#[utoipa::path(put, path = "/v1/principals/{id}/delegate-access", tag = "delegates", request_body = DelegateAccessRequest,
    params(("id" = String, Path, description = "the delegate")),
    responses((status = 204, description = "set"), ErrorsOfWrite))]
pub async fn set_delegate_access(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DelegateAccessRequest>,
) -> Result<Response, ApiError> {
    let access =
        ops::users::DelegateAccess { groups: body.groups, kinds: body.kinds, roles: body.roles };
    let committed = op(&app, move |ctx| {
        let by = Asker::new(caller.actor(), source.as_deref());
        ops::users::set_delegate_access(ctx, by, &id, &access)
    })
    .await?;
    Ok(written(&committed, StatusCode::NO_CONTENT))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupRequest {
    /// A user owning the group (to scope its delegates); or give `owner_tenant`.
    #[serde(default)]
    pub owner_principal: Option<String>,
    /// A partner tenant owning the group (to give its users clients in bulk).
    #[serde(default)]
    pub owner_tenant: Option<String>,
    pub name: String,
}

/// Creates a security group (R38).
#[utoipa::path(post, path = "/v1/groups", tag = "groups", request_body = GroupRequest, responses(
    (status = 201, description = "created: the new group, `{id, name}`", body = Created), ErrorsOfWrite))]
pub async fn create_group(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    ApiJson(body): ApiJson<GroupRequest>,
) -> Result<Response, ApiError> {
    let committed = op(&app, move |ctx| {
        let owner = match (&body.owner_principal, &body.owner_tenant) {
            (Some(p), None) => ops::groups::Owner::User(p.clone()),
            (None, Some(t)) => ops::groups::Owner::Tenant(t.clone()),
            _ => {
                return Err(AuthError::from(CommandError::invalid(
                    "owner_principal",
                    "give exactly one of `owner_principal` and `owner_tenant`",
                )));
            }
        };
        let by = Asker::new(caller.actor(), source.as_deref());
        ops::groups::create(ctx, by, owner, &body.name)
    })
    .await?;
    Ok(created(&app, &committed))
}

/// Moves a tenant into a group (R38: out of its old group of the same owner).
#[utoipa::path(put, path = "/v1/groups/{id}/tenants/{tenant}", tag = "groups",
    params(("id" = String, Path, description = "group id (`sg3`)"), ("tenant" = String, Path, description = "tenant id or key")),
    responses((status = 204, description = "placed"), ErrorsOfWrite))]
pub async fn place_in_group(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path((id, tenant)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let committed = op(&app, move |ctx| {
        ops::groups::place(ctx, Asker::new(caller.actor(), source.as_deref()), &id, &tenant)
    })
    .await?;
    Ok(written(&committed, StatusCode::NO_CONTENT))
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

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileRequest {
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Only for those who manage the principal (R18).
    #[serde(default)]
    pub internal_description: Option<String>,
    /// Typed custom attributes (R18); `null` removes one.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

impl ProfileRequest {
    /// The engine's profile update: attributes typed (R18), a value of no attribute type
    /// refused naming `attributes`.
    pub fn into_update(self) -> Result<deputy_core::commands::users::ProfileUpdate, ApiError> {
        use deputy_core::AttributeValue;
        let attributes = self
            .attributes
            .into_iter()
            .map(|(k, v)| {
                let value = match v {
                    serde_json::Value::Null => None,
                    serde_json::Value::Bool(b) => Some(AttributeValue::Bool(b)),
                    serde_json::Value::Number(n) if n.is_i64() => {
                        n.as_i64().map(AttributeValue::Integer)
                    }
                    serde_json::Value::String(t) => Some(AttributeValue::Text(t)),
                    _ => {
                        return Err(ApiError::new(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "invalid",
                            "The request is not valid",
                            format!("attribute `{k}`: a boolean, an integer, text or null"),
                        )
                        .field("attributes"));
                    }
                };
                Ok((k, value))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let update = deputy_core::commands::users::ProfileUpdate {
            first_name: self.first_name,
            last_name: self.last_name,
            email: self.email,
            phone: self.phone,
            description: self.description,
            internal_description: self.internal_description,
            attributes,
        };
        Ok(update)
    }
}

/// Changes a principal's profile: its own, or one it manages (R18, R28).
#[utoipa::path(patch, path = "/v1/principals/{id}", tag = "principals", request_body = ProfileRequest,
    params(("id" = String, Path, description = "principal id or logon name")),
    responses((status = 204, description = "changed"), ErrorsOfWrite))]
pub async fn update_profile(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ProfileRequest>,
) -> Result<Response, ApiError> {
    let update = body.into_update()?;
    let committed = op(&app, move |ctx| {
        ops::users::update_profile(ctx, Asker::new(caller.actor(), source.as_deref()), &id, update)
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

/// Deletes a security group; its tenants go back to Default (R38).
#[utoipa::path(delete, path = "/v1/groups/{id}", tag = "groups",
    params(("id" = String, Path, description = "group id (`sg3`)")),
    responses((status = 204, description = "deleted"), ErrorsOfWrite))]
pub async fn delete_group(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let committed = op(&app, move |ctx| {
        ops::groups::delete(ctx, Asker::new(caller.actor(), source.as_deref()), &id)
    })
    .await?;
    Ok(written(&committed, StatusCode::NO_CONTENT))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccountRequest {
    /// Unique like a logon name.
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// Creates a service account in a tenant (R24: `users.create` there); give it roles and
/// API keys next.
#[utoipa::path(post, path = "/v1/tenants/{id}/service-accounts", tag = "principals", request_body = ServiceAccountRequest,
    params(("id" = String, Path, description = "tenant id or key")),
    responses((status = 201, description = "created: the new service account, `{id, logon}`", body = Created), ErrorsOfWrite))]
pub async fn create_service_account(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ServiceAccountRequest>,
) -> Result<Response, ApiError> {
    let committed = op(&app, move |ctx| {
        let by = Asker::new(caller.actor(), source.as_deref());
        ops::users::create_service_account(ctx, by, &id, &body.name, &body.description)
    })
    .await?;
    Ok(created(&app, &committed))
}
