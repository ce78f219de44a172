//! Secondary logons over HTTP (R34, R35, R38): created for an owner, what they may act
//! for changed, and an owner's listed.

use super::PrincipalView;
use crate::caller::{Authed, Source};
use crate::openapi::{ErrorsOfMail, ErrorsOfRead, ErrorsOfWrite};
use crate::problem::ApiError;
use crate::routes::created::{Created, created};
use crate::routes::paging::{Page, PageParams, page};
use crate::routes::{ApiJson, ApiQuery, op, written};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use deputy_core::PrincipalId;
use deputy_service::ops::{self, Asker};
use deputy_service::resolve;
use serde::Deserialize;
use utoipa::ToSchema;

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

/// A principal's secondary logons (R39: logon, name, e-mail, access type), for those who
/// may see the principal.
#[utoipa::path(get, path = "/v1/principals/{id}/delegates", tag = "delegates",
    params(("id" = String, Path, description = "the owner"), PageParams),
    responses((status = 200, description = "a page of the principal's secondary logons", body = Page<PrincipalView>), ErrorsOfRead))]
pub async fn delegates(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<Page<PrincipalView>>, ApiError> {
    let s = app.deputy().snapshot();
    let not_found = || ApiError::not_found(format!("no principal `{id}`"));
    let owner = resolve::principal(&s, &id).map_err(|_| not_found())?;
    let p = s.principal(owner).ok_or_else(not_found)?;
    if !crate::routes::sees(&app, &s, caller.actor(), p) {
        return Err(not_found());
    }
    let mut ids: Vec<u32> = s.delegates_of(owner).map(|d| d.0).collect();
    ids.sort_unstable();
    let page = page(ids.into_iter(), &params, |id| {
        s.principal(PrincipalId(id)).map(|d| PrincipalView::of(&s, d, false))
    })?;
    Ok(Json(page))
}
