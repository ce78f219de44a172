//! Security groups as the API shows them (R38, R41, R57): one group with the tenants it
//! holds, for those who may see its owner's groups; created, tenants placed in them, deleted.

use super::created::{Created, created};
use super::refs::{PrincipalRef, TenantRef};
use super::{ApiJson, op, written};
use crate::caller::{Authed, Source};
use crate::openapi::{ErrorsOfRead, ErrorsOfWrite};
use crate::problem::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use deputy_core::{Actor, CommandError, Group, GroupOwner, State as Snapshot};
use deputy_service::auth::AuthError;
use deputy_service::ops::{self, Asker};
use deputy_service::resolve;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Who owns a group: a user (to scope its secondary logons) or a partner tenant (to give
/// its users clients in bulk); exactly one of the two is present.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupOwnerView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<PrincipalRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<TenantRef>,
}

/// A security group and the tenants it holds (R38).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupView {
    /// `sg3`: groups are named by id in paths.
    pub id: String,
    /// Unique among its owner's groups.
    pub name: String,
    pub owner: GroupOwnerView,
    /// The owner's `Default` group: it holds every tenant not placed elsewhere, and cannot
    /// be deleted.
    pub default: bool,
    /// The tenants (clients) it holds, in id order.
    pub tenants: Vec<TenantRef>,
}

impl GroupView {
    pub fn of(s: &Snapshot, g: &Group) -> GroupView {
        let owner = match g.owner {
            GroupOwner::User(u) => {
                GroupOwnerView { principal: Some(PrincipalRef::of(s, u)), tenant: None }
            }
            GroupOwner::Tenant(t) => {
                GroupOwnerView { principal: None, tenant: Some(TenantRef::of(s, t)) }
            }
        };
        GroupView {
            id: g.id.to_string(),
            name: g.name.clone(),
            owner,
            default: g.is_default,
            tenants: s.tenants_in_group(g).into_iter().map(|t| TenantRef::of(s, t)).collect(),
        }
    }
}

/// Whether `actor` may see the groups of `owner`: a user's, whoever may see the user (as
/// for its secondary logons); a partner tenant's, holders of `partners.manage`,
/// `groups.manage` or `tenants.view` there (as for its grants).
pub(crate) fn sees_groups_of(
    app: &AppState,
    s: &Snapshot,
    actor: Actor,
    owner: GroupOwner,
) -> bool {
    match owner {
        GroupOwner::User(u) => s.principal(u).is_some_and(|p| super::sees(app, s, actor, p)),
        GroupOwner::Tenant(t) => [
            deputy_core::perms::PARTNERS_MANAGE,
            deputy_core::perms::GROUPS_MANAGE,
            deputy_core::perms::TENANTS_VIEW,
        ]
        .iter()
        .any(|x| super::holds(app, s, actor, x, t)),
    }
}

/// One security group with the tenants it holds (R57), for those who may see its owner's
/// groups; for anyone else it does not exist (R58).
#[utoipa::path(get, path = "/v1/groups/{id}", tag = "groups",
    params(("id" = String, Path, description = "group id (`sg3`)")),
    responses((status = 200, description = "the group and the tenants it holds", body = GroupView), ErrorsOfRead))]
pub async fn get_group(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<GroupView>, ApiError> {
    let s = app.deputy().snapshot();
    let not_found = || ApiError::not_found(format!("no group `{id}`")).field("id");
    let g = resolve::group(&s, &id)
        .ok()
        .and_then(|g| s.group(g))
        .filter(|g| sees_groups_of(&app, &s, caller.actor(), g.owner))
        .ok_or_else(not_found)?;
    Ok(Json(GroupView::of(&s, g)))
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
