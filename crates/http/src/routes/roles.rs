//! Role assignments over HTTP: a role given to a principal in a tenant or on a resource,
//! and taken back.

use super::{ApiJson, op, written};
use crate::caller::{Authed, Source};
use crate::openapi::ErrorsOfWrite;
use crate::problem::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use deputy_service::ops::{self, Asker};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a new assignment holds (R32).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAssignmentRequest {
    /// A role name; or give `permission`.
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub permission: Option<String>,
    /// A tenant (id or key): a direct role there (R2).
    #[serde(default)]
    pub tenant: Option<String>,
    /// With `tenant`: also in its descendants.
    #[serde(default)]
    pub subtree: bool,
    /// A resource (id or key): a direct role on it and its descendants.
    #[serde(default)]
    pub resource: Option<String>,
    /// Not part of this operation: partner roles (for a client or a security group) are
    /// given with `POST /v1/principals/{id}/partner-roles` (R41); given here, the answer
    /// is a 422 saying so.
    #[serde(default)]
    #[schema(ignore)]
    pub client: Option<String>,
    #[serde(default)]
    #[schema(ignore)]
    pub group: Option<String>,
    /// Milliseconds since the Unix epoch.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssignmentCreated {
    pub id: String,
}

fn invalid(field: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "The request is not valid", detail)
        .field(field)
}

/// Gives a direct role or permission in a tenant or on a resource (R27, R32). Partner
/// roles are given with `POST /v1/principals/{id}/partner-roles` (R41).
#[utoipa::path(post, path = "/v1/principals/{id}/assignments", tag = "principals", request_body = NewAssignmentRequest,
    params(("id" = String, Path, description = "principal id or logon name")),
    responses(
    (status = 201, description = "given: the new assignment", body = AssignmentCreated),
    ErrorsOfWrite))]
pub async fn assign(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewAssignmentRequest>,
) -> Result<Response, ApiError> {
    use deputy_service::ops::roles::{Given, Place};
    for (field, given) in [("client", &body.client), ("group", &body.group)] {
        if given.is_some() {
            return Err(invalid(
                field,
                "partner roles are given with `POST /v1/principals/{id}/partner-roles` (R41)",
            )
            .rule("R41"));
        }
    }
    let given = match (body.role, body.permission) {
        (Some(r), None) => Given::Role(r),
        (None, Some(x)) => Given::Permission(x),
        _ => return Err(invalid("role", "give exactly one of `role` and `permission`")),
    };
    let place = match (body.tenant, body.resource) {
        (Some(tenant), None) => Place::Tenant { tenant, subtree: body.subtree },
        (None, Some(r)) => Place::Resource(r),
        _ => return Err(invalid("tenant", "give exactly one of `tenant` and `resource`")),
    };
    let expires_at = body.expires_at;
    let committed = op(&app, move |ctx| {
        let by = Asker::new(caller.actor(), source.as_deref());
        ops::roles::assign(ctx, by, &id, given, place, expires_at)
    })
    .await?;
    let created = AssignmentCreated { id: committed.output.to_string() };
    Ok(written(&committed, (StatusCode::CREATED, Json(created))))
}

/// Removes an assignment (R27, R26, R6, R5).
#[utoipa::path(delete, path = "/v1/principals/{id}/assignments/{assignment}", tag = "principals",
    params(
        ("id" = String, Path, description = "principal id or logon name"),
        ("assignment" = String, Path, description = "assignment id (`a12`)")),
    responses(
    (status = 204, description = "removed"),
    ErrorsOfWrite))]
pub async fn unassign(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path((id, assignment)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let committed = op(&app, move |ctx| {
        ops::roles::unassign(ctx, Asker::new(caller.actor(), source.as_deref()), &id, &assignment)
    })
    .await?;
    Ok(written(&committed, StatusCode::NO_CONTENT))
}
