//! Access codes (R37a): issued for a tenant, redeemed by a user or a secondary logon's owner.

use super::refs::{PrincipalRef, TenantRef};
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

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessCodeRequest {
    /// Roles the code gives in the tenant; each one the issuer could give itself (R27).
    pub roles: Vec<String>,
    /// Days until it expires (default 30).
    #[serde(default)]
    pub days: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccessCodeIssued {
    pub id: String,
    /// Shown once; only its hash is stored.
    pub code: String,
    /// The tenant whose roles it gives.
    pub tenant: TenantRef,
}

/// Issues an access code for a tenant ("Add Access to Another Business", R37a).
#[utoipa::path(post, path = "/v1/tenants/{id}/access-codes", tag = "access-codes", request_body = AccessCodeRequest,
    params(("id" = String, Path, description = "tenant id or key")),
    responses((status = 201, description = "issued: the code, shown this once", body = AccessCodeIssued), ErrorsOfWrite))]
pub async fn issue_access_code(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AccessCodeRequest>,
) -> Result<Response, ApiError> {
    let committed = op(&app, move |ctx| {
        let by = Asker::new(caller.actor(), source.as_deref());
        ops::access::issue_code(ctx, by, &id, &body.roles, body.days)
    })
    .await?;
    let issued = &committed.output;
    let view = AccessCodeIssued {
        id: issued.id.to_string(),
        code: issued.code.clone(),
        tenant: TenantRef::of(&app.deputy().snapshot(), issued.tenant),
    };
    let mut response = written(&committed, (StatusCode::CREATED, Json(view)));
    response.extensions_mut().insert(crate::idempotency::CarriesSecret);
    Ok(response)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemRequest {
    pub code: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Redeemed {
    /// The tenant the roles hold in.
    pub tenant: TenantRef,
    /// Who got the roles: the caller, or (for a secondary logon) its owner (R37).
    pub holder: PrincipalRef,
    /// The new assignments' ids (`a12`), as listed in the holder's `assignments`.
    pub assignments: Vec<String>,
}

/// Redeems an access code: its roles in its tenant, as a direct assignment (R37a; for a
/// secondary logon, on its owner, R37).
#[utoipa::path(post, path = "/v1/access-codes/redeem", tag = "access-codes", request_body = RedeemRequest, responses(
    (status = 200, description = "redeemed: the roles given, and to whom", body = Redeemed), ErrorsOfWrite))]
pub async fn redeem_access_code(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    ApiJson(body): ApiJson<RedeemRequest>,
) -> Result<Response, ApiError> {
    let committed = op(&app, move |ctx| {
        ops::access::redeem_code(ctx, Asker::new(caller.actor(), source.as_deref()), &body.code)
    })
    .await?;
    let r = &committed.output;
    let s = app.deputy().snapshot();
    let view = Redeemed {
        tenant: TenantRef::of(&s, r.tenant),
        holder: PrincipalRef::of(&s, r.holder),
        assignments: r.assignments.iter().map(ToString::to_string).collect(),
    };
    Ok(written(&committed, Json(view)))
}
