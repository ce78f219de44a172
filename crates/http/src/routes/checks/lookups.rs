//! Lookups over HTTP (R53, R73): the resources a principal may reach with a permission,
//! and the subjects that may reach a target, under the same sight as checks (R58).

use crate::caller::Authed;
use crate::openapi::ErrorsOfRead;
use crate::problem::{ApiError, Problem};
use crate::routes::checks::{Sight, admitted_principal, admitted_switch};
use crate::routes::refs::{PrincipalRef, TargetRef, TenantRef};
use crate::routes::{ApiJson, page_limit};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use deputy_core::{State as Snapshot, Target, TenantId};
use deputy_service::resolve::{self, NotFound};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A name in a lookup that names nothing (R55).
fn unknown_named(field: &'static str) -> impl Fn(NotFound) -> ApiError {
    move |e| ApiError::unknown_name(field, e.0)
}

fn target_tenant(s: &Snapshot, t: Target) -> Option<TenantId> {
    match t {
        Target::Tenant(t) => Some(t),
        Target::Resource(r) => s.resource(r).map(|r| r.tenant),
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupResources {
    pub principal: String,
    pub permission: String,
    /// Only resources of this type.
    #[serde(default, rename = "type")]
    pub resource_type: Option<String>,
    /// The session asked about (R51), as for a check: none given, no session.
    #[serde(default)]
    pub context: Option<super::SessionContext>,
    #[serde(default)]
    pub switched_into: Option<String>,
    #[serde(default)]
    pub cursor: Option<String>,
    /// Items per page, 1–1000 (default 100).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    #[serde(default)]
    pub consistency_token: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetPage {
    /// Each tenant or resource with its `type`, id and key.
    pub items: Vec<TargetRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Every tenant and resource where the check passes (R53), paged to the end (R73); only
/// those in tenants where the caller holds `checks.read` are shown (R58). The principal
/// must be one the caller may ask about, as for a check (else 404, as for a missing one).
#[utoipa::path(post, path = "/v1/lookup/resources", tag = "checks", request_body = LookupResources, responses(
    (status = 200, description = "a page of the tenants and resources where the check passes", body = TargetPage),
    ErrorsOfRead, (status = 400, description = "`limit` out of range, or a malformed `cursor` or `consistency_token`", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "the consistency token is from before a restore (R50, R66)", body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "the consistency token is ahead of this server, which waited for it up to 2 s (R63e); nothing older was answered: try again after `Retry-After`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u16, description = "seconds to wait")))))]
pub async fn lookup_resources(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiJson(body): ApiJson<LookupResources>,
) -> Result<Json<TargetPage>, ApiError> {
    let s = crate::routes::snapshot_for(&app, body.consistency_token.as_deref()).await?;
    let sight = Sight::new(&app, &s, &caller);
    let p = admitted_principal(&sight, &body.principal, "principal", None)?;
    let x = resolve::permission(&s, &body.permission).map_err(unknown_named("permission"))?;
    let ty = body
        .resource_type
        .as_deref()
        .map(|t| {
            s.catalog
                .type_id(t)
                .ok_or_else(|| ApiError::unknown_name("type", format!("no resource type `{t}`")))
        })
        .transpose()?;
    let (switched, sessionless) =
        super::session_of(body.context, body.switched_into.as_deref(), |c| {
            admitted_switch(&sight, c, None)
        })?;
    let ctx = deputy_core::Context { switched, impersonation: None, sessionless };
    let page = s
        .lookup_resources(
            p,
            x,
            ty,
            ctx,
            app.deputy().now(),
            body.cursor.as_deref(),
            page_limit(body.limit)?,
        )
        .map_err(ApiError::from)?;
    let items = page
        .items
        .iter()
        .filter(|t| target_tenant(&s, **t).is_some_and(|tenant| sight.reads(tenant)))
        .map(|t| TargetRef::of(&s, *t))
        .collect();
    Ok(Json(TargetPage { items, next_cursor: page.next }))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupSubjects {
    pub target: String,
    pub permission: String,
    /// The session asked about (R51), as for a check: none given, no session.
    #[serde(default)]
    pub context: Option<super::SessionContext>,
    /// Only principals that pass switched into this tenant.
    #[serde(default)]
    pub switched_into: Option<String>,
    #[serde(default)]
    pub cursor: Option<String>,
    /// Items per page, 1–1000 (default 100).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    #[serde(default)]
    pub consistency_token: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubjectView {
    pub principal: PrincipalRef,
    /// Present when the principal passes only switched into this client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub switched_into: Option<TenantRef>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubjectPage {
    pub items: Vec<SubjectView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Every principal for whom the check passes on a target (R53), for holders of
/// `checks.read` in the target's tenant. Each has standing there, so each is one the
/// caller may ask about (R58).
#[utoipa::path(post, path = "/v1/lookup/subjects", tag = "checks", request_body = LookupSubjects, responses(
    (status = 200, description = "a page of the principals for whom the check passes", body = SubjectPage),
    ErrorsOfRead, (status = 400, description = "`limit` out of range, or a malformed `cursor` or `consistency_token`", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "the consistency token is from before a restore (R50, R66)", body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "the consistency token is ahead of this server, which waited for it up to 2 s (R63e); nothing older was answered: try again after `Retry-After`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u16, description = "seconds to wait")))))]
pub async fn lookup_subjects(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiJson(body): ApiJson<LookupSubjects>,
) -> Result<Json<SubjectPage>, ApiError> {
    let s = crate::routes::snapshot_for(&app, body.consistency_token.as_deref()).await?;
    let unknown =
        || ApiError::unknown_name("target", format!("no tenant or resource `{}`", body.target));
    let target = resolve::target(&s, &body.target).map_err(|_| unknown())?;
    let tenant = target_tenant(&s, target).ok_or_else(unknown)?;
    if !Sight::new(&app, &s, &caller).reads(tenant) {
        return Err(unknown());
    }

    let x = resolve::permission(&s, &body.permission).map_err(unknown_named("permission"))?;
    let sight = Sight::new(&app, &s, &caller);
    let (switched, sessionless) =
        super::session_of(body.context, body.switched_into.as_deref(), |c| {
            admitted_switch(&sight, c, Some(tenant))
        })?;
    let ctx = deputy_core::Context { switched, impersonation: None, sessionless };
    let page = s
        .lookup_subjects_for(
            target,
            x,
            ctx,
            app.deputy().now(),
            body.cursor.as_deref(),
            page_limit(body.limit)?,
        )
        .map_err(ApiError::from)?;
    let items = page
        .items
        .iter()
        .map(|sub| SubjectView {
            principal: PrincipalRef::of(&s, sub.principal),
            switched_into: sub.switched.map(|c| TenantRef::of(&s, c)),
        })
        .collect();
    Ok(Json(SubjectPage { items, next_cursor: page.next }))
}
