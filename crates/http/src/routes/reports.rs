//! Reports on access: what-if previews (R67) and access reviews (R72), as JSON or CSV.

use super::refs::{PrincipalRef, ResourceRef, TenantRef};
use super::{ApiJson, ApiQuery, holds, op, page_limit};
use crate::caller::Authed;
use crate::openapi::{ErrorsOfRead, ErrorsOfWrite};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use deputy_core::State as Snapshot;
use deputy_service::ops::access::PendingChange;
use deputy_service::ops::partners::TermsSpec;
use deputy_service::ops::{self, Asker};
use deputy_service::resolve;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};

/// What-if answers within this much time, and say so when cut short (R67).
const WHAT_IF_BUDGET: Duration = Duration::from_secs(2);

/// A pending change to preview (R67).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum WhatIfChange {
    Deactivate {
        principal: String,
    },
    Cancel {
        principal: String,
    },
    Unassign {
        principal: String,
        assignment: String,
    },
    RevokeGrant {
        grant: String,
    },
    /// New terms for a grant (R40): narrowing shows who loses, widening who gains.
    ChangeGrant {
        grant: String,
        ceiling: Vec<String>,
        #[serde(default)]
        kinds: Option<Vec<String>>,
        #[serde(default)]
        subtree: bool,
        #[serde(default)]
        expires_at: Option<i64>,
        #[serde(default)]
        auto_extend: bool,
    },
    PlaceInGroup {
        group: String,
        tenant: String,
    },
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhatIfRequest {
    pub change: WhatIfChange,
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccessChangeView {
    pub principal: PrincipalRef,
    /// Present when the access is held only switched into this client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub switched_into: Option<TenantRef>,
    pub permission: String,
    pub tenant: TenantRef,
    /// Present when the access changes on this resource of `tenant` only (a secondary
    /// logon limited to kinds, a role on one account); absent, on the whole tenant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceRef>,
    /// `gains` or `loses`.
    pub change: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WhatIfAnswer {
    /// The revision it was computed on; nothing was committed.
    pub revision: u64,
    pub rows: Vec<AccessChangeView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// Set when the time budget cut the comparison short (R73): the rows are not all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

/// Who would lose or gain which access if the change were made — computed by the engine
/// on the pending change, as the caller, without committing it (R67).
#[utoipa::path(post, path = "/v1/what-if", tag = "reports", request_body = WhatIfRequest, responses(
    (status = 200, description = "who would gain or lose which access; nothing was committed", body = WhatIfAnswer),
    ErrorsOfWrite,
    (status = 400, description = "`limit` out of range, or a `cursor` not of this preview", body = Problem, content_type = "application/problem+json")))]
pub async fn what_if(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiJson(body): ApiJson<WhatIfRequest>,
) -> Result<Json<WhatIfAnswer>, ApiError> {
    let limit = page_limit(body.limit)?;
    let change = match body.change {
        WhatIfChange::Deactivate { principal } => PendingChange::Deactivate { principal },
        WhatIfChange::Cancel { principal } => PendingChange::Cancel { principal },
        WhatIfChange::Unassign { principal, assignment } => {
            PendingChange::Unassign { principal, assignment }
        }
        WhatIfChange::RevokeGrant { grant } => PendingChange::RevokeGrant { grant },
        WhatIfChange::ChangeGrant { grant, ceiling, kinds, subtree, expires_at, auto_extend } => {
            let terms = TermsSpec { ceiling, kinds, subtree, expires_at, auto_extend };
            PendingChange::ChangeGrant { grant, terms }
        }
        WhatIfChange::PlaceInGroup { group, tenant } => {
            PendingChange::PlaceInGroup { group, tenant }
        }
    };
    let (diff, revision) = op(&app, move |ctx| {
        ops::access::what_if(ctx, Asker::new(caller.actor(), None), &change, WHAT_IF_BUDGET)
    })
    .await
    // A name in a preview that names nothing answers like the engine's own "not found".
    .map_err(|e| if e.status() == StatusCode::NOT_FOUND { e.rule("R55") } else { e })?;
    let s = app.deputy().snapshot();
    let (page, next) = diff
        .page(revision, body.cursor.as_deref(), limit)
        .map_err(|e| ApiError::bad_request(e).field("cursor"))?;
    let rows = page
        .iter()
        .map(|r| AccessChangeView {
            principal: PrincipalRef::of(&s, r.principal),
            switched_into: r.switched.map(|t| TenantRef::of(&s, t)),
            permission: s.catalog.perm_name(r.permission).to_owned(),
            tenant: TenantRef::of(&s, r.tenant),
            resource: r.resource.map(|x| ResourceRef::of(&s, x)),
            change: if r.gained { "gains" } else { "loses" }.to_owned(),
        })
        .collect();
    Ok(Json(WhatIfAnswer { revision, rows, next_cursor: next, stopped: diff.stopped.clone() }))
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReviewParams {
    /// `json` (default, paged) or `csv` (the whole review, as a file).
    #[param(pattern = "^(json|csv)$")]
    pub format: Option<String>,
    /// JSON only: the `next_cursor` of the previous page (`revision:offset`).
    #[param(pattern = "^[0-9]{1,19}:[0-9]{1,19}$")]
    pub cursor: Option<String>,
    /// JSON only: rows per page, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewRowView {
    pub principal: PrincipalRef,
    /// Present when the access is held only switched into this client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub switched_into: Option<TenantRef>,
    pub tenant: TenantRef,
    pub permission: String,
    /// Why, with provenance (R69): `role via scope, assigned by … at …`.
    #[schema(value_type = Vec<Object>)]
    pub paths: serde_json::Value,
}

/// An access review and the revision it was computed on.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewView {
    pub revision: u64,
    pub rows: Vec<ReviewRowView>,
    /// Present when more rows follow (R73); bound to `revision`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

fn review_response(
    s: &Snapshot,
    rows: Vec<deputy_core::review::ReviewRow>,
    revision: u64,
    params: &ReviewParams,
) -> Result<Response, ApiError> {
    let csv = csv(params)?;
    // The paging parameters are read whatever the format, so a malformed one is refused
    // alike (R57); a CSV review is the whole review and pages nothing.
    let limit = page_limit(params.limit)?;
    let cursor = params
        .cursor
        .as_deref()
        .map(|c| {
            let bad = || {
                ApiError::bad_request(format!("`{c}` is not a cursor of this review"))
                    .field("cursor")
            };
            let (rev, offset) = c.split_once(':').ok_or_else(bad)?;
            Ok::<_, ApiError>((
                rev.parse::<u64>().map_err(|_| bad())?,
                offset.parse::<usize>().map_err(|_| bad())?,
            ))
        })
        .transpose()?;
    // A JSON page: rows after the cursor's offset, computed on the same revision.
    let (start, end, next_cursor) = if csv {
        (0, rows.len(), None)
    } else {
        let start = match cursor {
            None => 0,
            Some((rev, _)) if rev != revision => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "review-changed",
                    "The review changed since the first page",
                    "access changed since the first page was computed; start again without a cursor",
                )
                .field("cursor"));
            }
            Some((_, offset)) => offset.min(rows.len()),
        };
        let end = (start + limit).min(rows.len());
        (start, end, (end < rows.len()).then(|| format!("{revision}:{end}")))
    };
    let rows = &rows[start..end];
    let views: Vec<ReviewRowView> = rows
        .iter()
        .map(|r| ReviewRowView {
            principal: PrincipalRef::of(s, r.principal),
            switched_into: r.switched.map(|t| TenantRef::of(s, t)),
            tenant: TenantRef::of(s, r.tenant),
            permission: s.catalog.perm_name(r.permission).to_owned(),
            paths: serde_json::to_value(&r.paths).unwrap_or_default(),
        })
        .collect();
    if csv {
        return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], review_csv(&views))
            .into_response());
    }
    Ok(Json(ReviewView { revision, rows: views, next_cursor }).into_response())
}

/// The header of a review's CSV: each principal and tenant by id and by logon or key, as
/// in the JSON rows (R57, R72).
pub const REVIEW_CSV_HEADER: &str = "principal_id,principal_logon,switched_into_id,switched_into_key,tenant_id,tenant_key,permission,reasons";

/// One CSV field: quoted when it holds a separator, a quote or a line break (RFC 4180).
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// A whole review as CSV, under [`REVIEW_CSV_HEADER`]; the reasons are the JSON rows'
/// `paths`.
fn review_csv(views: &[ReviewRowView]) -> String {
    let mut out = format!("{REVIEW_CSV_HEADER}\n");
    for v in views {
        let (switched_id, switched_key) =
            v.switched_into.as_ref().map_or(("", ""), |t| (t.id.as_str(), t.key.as_str()));
        let fields = [
            v.principal.id.as_str(),
            v.principal.logon.as_str(),
            switched_id,
            switched_key,
            v.tenant.id.as_str(),
            v.tenant.key.as_str(),
            v.permission.as_str(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        // The reasons are always quoted, as before: a JSON array holds commas.
        let reasons = v.paths.to_string().replace('"', "\"\"");
        out.push_str(&format!("{},\"{reasons}\"\n", line.join(",")));
    }
    out
}

/// Every principal's effective access in a tenant, with the reasons (R72), as JSON or CSV;
/// for holders of `users.view` there.
#[utoipa::path(get, path = "/v1/tenants/{id}/review", tag = "reports",
    params(("id" = String, Path, description = "tenant id or key"), ReviewParams),
    responses((status = 200, description = "the review rows, as JSON or CSV", content((ReviewView = "application/json"), (String = "text/csv"))),
    ErrorsOfRead,
    (status = 400, description = "`format` is neither `json` nor `csv`, `limit` is out of range, or `cursor` is not of this review", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "access changed since the first page: start again without a cursor", body = Problem, content_type = "application/problem+json")))]
pub async fn review_tenant(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<ReviewParams>,
) -> Result<Response, ApiError> {
    csv(&params)?;
    let s = app.deputy().snapshot();
    let not_found = || ApiError::not_found(format!("no tenant `{id}`"));
    let tenant = resolve::tenant(&s, &id).map_err(|_| not_found())?;
    if !holds(&app, &s, caller.actor(), deputy_core::perms::USERS_VIEW, tenant) {
        return Err(not_found());
    }
    let (rows, revision) = app.deputy().review_tenant(tenant);
    review_response(&s, rows, revision, &params)
}

fn csv(params: &ReviewParams) -> Result<bool, ApiError> {
    match params.format.as_deref() {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(other) => {
            Err(ApiError::bad_request(format!("format `{other}`: `json` or `csv`")).field("format"))
        }
    }
}

/// Everything a principal may do and why (R72): itself, or one the caller may see.
#[utoipa::path(get, path = "/v1/principals/{id}/review", tag = "reports",
    params(("id" = String, Path, description = "principal id or logon name"), ReviewParams),
    responses((status = 200, description = "the review rows, as JSON or CSV", content((ReviewView = "application/json"), (String = "text/csv"))),
    ErrorsOfRead,
    (status = 400, description = "`format` is neither `json` nor `csv`, `limit` is out of range, or `cursor` is not of this review", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "access changed since the first page: start again without a cursor", body = Problem, content_type = "application/problem+json")))]
pub async fn review_principal(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<ReviewParams>,
) -> Result<Response, ApiError> {
    csv(&params)?;
    let s = app.deputy().snapshot();
    let not_found = || ApiError::not_found(format!("no principal `{id}`"));
    let p = resolve::principal(&s, &id).map_err(|_| not_found())?;
    let principal = s.principal(p).ok_or_else(not_found)?;
    if !super::sees(&app, &s, caller.actor(), principal) {
        return Err(not_found());
    }
    let (rows, revision) = app.deputy().review_principal(p);
    review_response(&s, rows, revision, &params)
}
