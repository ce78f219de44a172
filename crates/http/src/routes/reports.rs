//! Reading access: lookups (R53, R73), what-if previews (R67), access reviews (R72), the
//! catalog (R25), and listings of grants, delegates, API keys and the mail outbox.

use super::checks::{Sight, admitted_principal, admitted_switch};
use super::refs::{PrincipalRef, TargetRef, TenantRef};
use super::{ApiJson, ApiQuery, blocking, holds, page_limit};
use crate::caller::Authed;
use crate::openapi::{ErrorsOfCaller, ErrorsOfRead, ErrorsOfWrite};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use deputy_core::{PrincipalId, State as Snapshot, Status, Target, TenantId};
use deputy_service::auth::Caller;
use deputy_service::resolve::{self, NotFound};
use deputy_store::secrets::{SecretKind, SecretStore};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};

/// What-if answers within this much time, and say so when cut short (R67).
const WHAT_IF_BUDGET: Duration = Duration::from_secs(2);

/// A name in a preview that names nothing (it answers like the engine's own "not found").
fn missing(field: &'static str) -> impl Fn(NotFound) -> ApiError {
    move |e| ApiError::not_found(e.0).field(field).rule("R55")
}

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
    pub context: Option<super::checks::SessionContext>,
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
    (status = 409, description = "the consistency token is ahead of this server, or from before a restore (R50, R66)", body = Problem, content_type = "application/problem+json")))]
pub async fn lookup_resources(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiJson(body): ApiJson<LookupResources>,
) -> Result<Json<TargetPage>, ApiError> {
    let s = super::snapshot_for(&app, body.consistency_token.as_deref())?;
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
        super::checks::session_of(body.context, body.switched_into.as_deref(), |c| {
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
    pub context: Option<super::checks::SessionContext>,
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
    (status = 409, description = "the consistency token is ahead of this server, or from before a restore (R50, R66)", body = Problem, content_type = "application/problem+json")))]
pub async fn lookup_subjects(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiJson(body): ApiJson<LookupSubjects>,
) -> Result<Json<SubjectPage>, ApiError> {
    let s = super::snapshot_for(&app, body.consistency_token.as_deref())?;
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
        super::checks::session_of(body.context, body.switched_into.as_deref(), |c| {
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
    let s = app.deputy().snapshot();
    let limit = page_limit(body.limit)?;
    let actor = caller.actor();
    let principal = |p: &str| resolve::principal(&s, p).map_err(missing("principal"));
    let d = app.deputy().clone();
    let (diff, revision) = match &body.change {
        WhatIfChange::Deactivate { principal: p } => {
            let p = principal(p)?;
            blocking(move || {
                Ok(d.what_if(actor, WHAT_IF_BUDGET, |tx| {
                    tx.set_status(p, Status::Deactivated, None)
                })?)
            })
            .await?
        }
        WhatIfChange::Cancel { principal: p } => {
            let p = principal(p)?;
            blocking(move || Ok(d.what_if(actor, WHAT_IF_BUDGET, |tx| tx.cancel(p))?)).await?
        }
        WhatIfChange::Unassign { principal: p, assignment } => {
            let p = principal(p)?;
            let a: deputy_core::AssignmentId = assignment.parse().map_err(|_| {
                ApiError::not_found(format!("no assignment `{assignment}`")).field("assignment")
            })?;
            blocking(move || Ok(d.what_if(actor, WHAT_IF_BUDGET, |tx| tx.unassign(p, a))?)).await?
        }
        WhatIfChange::RevokeGrant { grant } => {
            let g: deputy_core::GrantId = grant
                .parse()
                .map_err(|_| ApiError::not_found(format!("no grant `{grant}`")).field("grant"))?;
            blocking(move || Ok(d.what_if(actor, WHAT_IF_BUDGET, |tx| tx.revoke_grant(g))?)).await?
        }
        WhatIfChange::ChangeGrant { grant, ceiling, kinds, subtree, expires_at, auto_extend } => {
            let g: deputy_core::GrantId = grant
                .parse()
                .map_err(|_| ApiError::not_found(format!("no grant `{grant}`")).field("grant"))?;
            let terms = deputy_core::commands::partners::GrantTerms {
                ceiling: super::manage::roles(&s, ceiling, "ceiling")?,
                kinds: super::manage::kinds(&s, kinds)?,
                subtree: *subtree,
                expires_at: *expires_at,
                auto_extend: *auto_extend,
            };
            blocking(move || {
                Ok(d.what_if(actor, WHAT_IF_BUDGET, |tx| tx.change_grant(g, terms.clone()))?)
            })
            .await?
        }
        WhatIfChange::PlaceInGroup { group, tenant } => {
            let g = resolve::group(&s, group).map_err(missing("group"))?;
            let t = resolve::tenant(&s, tenant).map_err(missing("tenant"))?;
            blocking(move || Ok(d.what_if(actor, WHAT_IF_BUDGET, |tx| tx.place_in_group(g, t))?))
                .await?
        }
    };
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

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CatalogView {
    /// The catalog as TOML (R25).
    pub toml: String,
}

/// The catalog's entity tag: a digest of its TOML, so it changes exactly when the
/// catalog does, alike on every replica.
pub fn catalog_etag(source: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(source.as_bytes());
    format!("\"{}\"", hex::encode(&digest[..16]))
}

fn with_etag(mut response: Response, etag: &str) -> Response {
    if let Ok(value) = axum::http::HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// The permission catalog and roles (R25), with its `ETag` for a guarded change.
#[utoipa::path(get, path = "/v1/catalog", tag = "catalog", responses(
    (status = 200, description = "the catalog", body = CatalogView,
        headers(("ETag" = String, description = "the catalog's entity tag: send it as `If-Match` to change it"))),
    ErrorsOfCaller))]
pub async fn catalog(State(app): State<AppState>, Authed(_caller): Authed) -> Response {
    let toml = app.deputy().snapshot().catalog.source.clone();
    let etag = catalog_etag(&toml);
    with_etag(Json(CatalogView { toml }).into_response(), &etag)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogChange {
    pub toml: String,
}

/// Whether an `If-Match` value holds `etag` (strong comparison; `*` holds any).
fn if_match_holds(if_match: &str, etag: &str) -> bool {
    if_match.split(',').map(str::trim).any(|tag| tag == "*" || tag == etag)
}

/// Replaces the catalog (R25: `catalog.manage` in the root; cycles refused; existing ids
/// kept). Guarded: `If-Match` must carry the `ETag` of the catalog being replaced (or
/// `*`), else nothing changes (412; 428 without `If-Match`).
#[utoipa::path(put, path = "/v1/catalog", tag = "catalog", request_body = CatalogChange,
    params(("If-Match" = String, Header, description = "the `ETag` of the catalog this change replaces, from `GET /v1/catalog` (or `*`)")),
    responses(
    (status = 204, description = "changed", headers(("ETag" = String, description = "the new catalog's entity tag"))),
    ErrorsOfWrite,
    (status = 412, description = "`If-Match` does not hold the current catalog's `ETag`: it changed since it was read; nothing changed", body = Problem, content_type = "application/problem+json"),
    (status = 428, description = "no `If-Match`: a catalog change must name the catalog it replaces", body = Problem, content_type = "application/problem+json")))]
pub async fn change_catalog(
    State(app): State<AppState>,
    Authed(caller): Authed,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<CatalogChange>,
) -> Result<Response, ApiError> {
    let if_match = headers
        .get(header::IF_MATCH)
        .map(|v| v.to_str().map(str::to_owned))
        .transpose()
        .map_err(|_| ApiError::bad_request("`If-Match` is not visible ASCII").field("If-Match"))?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::PRECONDITION_REQUIRED,
                "precondition-required",
                "A precondition is required",
                "send `If-Match` with the `ETag` of `GET /v1/catalog`, so a change never overwrites one made since it was read",
            )
            .field("If-Match")
            .rule("R25")
        })?;
    let worker = app.clone();
    let actor = caller.actor();
    let committed = blocking(move || {
        Ok(worker.deputy().execute(actor, None, |tx| {
            // Decided on the state the change is made on, so two racing editors cannot
            // both pass (a writer that loses a race decides again on the newer state).
            if !if_match_holds(&if_match, &catalog_etag(&tx.state().catalog.source)) {
                return Err(deputy_core::CommandError::conflict(
                    Some("R25"),
                    Some("If-Match"),
                    "the catalog changed since this `ETag` was read; read it again",
                ));
            }
            tx.change_catalog(&body.toml)
        })?)
    })
    .await
    .map_err(|e| {
        if e.status() == StatusCode::CONFLICT && e.problem().field.as_deref() == Some("If-Match") {
            ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                "The precondition failed",
                e.problem().detail,
            )
            .field("If-Match")
            .rule("R25")
        } else {
            e
        }
    })?;
    let etag = catalog_etag(&app.deputy().snapshot().catalog.source);
    Ok(with_etag(super::written(&committed, StatusCode::NO_CONTENT), &etag))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKeyView {
    /// A handle for revoking it (not the key).
    pub id: String,
    pub name: String,
    pub created_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

fn may_manage_keys(app: &AppState, s: &Snapshot, caller: &Caller, account: PrincipalId) -> bool {
    s.principal(account)
        .is_some_and(|p| holds(app, s, caller.actor(), deputy_core::perms::KEYS_MANAGE, p.home))
}

/// A service account's API keys, with their last use (R24).
#[utoipa::path(get, path = "/v1/principals/{id}/api-keys", tag = "principals",
    params(("id" = String, Path, description = "service account id or name"), ApiKeyParams),
    responses((status = 200, description = "a page of the account's keys, newest first", body = ApiKeyPage),
    ErrorsOfRead,
    (status = 400, description = "`limit` out of range", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "`cursor` is no key of this list (now)", body = Problem, content_type = "application/problem+json")))]
pub async fn list_api_keys(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<ApiKeyParams>,
) -> Result<Json<ApiKeyPage>, ApiError> {
    let limit = page_limit(params.limit)?;
    let s = app.deputy().snapshot();
    let not_found = || ApiError::not_found(format!("no principal `{id}`"));
    let account = resolve::principal(&s, &id).map_err(|_| not_found())?;
    if !may_manage_keys(&app, &s, &caller, account) {
        return Err(not_found());
    }
    let worker = app.clone();
    let rows = blocking(move || {
        worker
            .deputy()
            .store()
            .secrets_of(account.0, SecretKind::ApiKey)
            .map_err(ApiError::internal)
    })
    .await?;
    let views: Vec<ApiKeyView> = rows
        .into_iter()
        .map(|r| {
            let data: deputy_service::auth::SessionData =
                serde_json::from_str(&r.data).unwrap_or_default();
            ApiKeyView {
                id: r.hash.chars().take(16).collect(),
                name: data.name.unwrap_or_default(),
                created_at: r.created_ms,
                last_used_at: r.last_used_ms,
                expires_at: r.expires_ms,
            }
        })
        .collect();
    // The cursor is the id of the last key of the previous page (newest first).
    let start = match params.cursor.as_deref() {
        None => 0,
        // A key id that is not (or no longer) in the list: well-formed, so 422, not 400.
        Some(c) => views.iter().position(|k| k.id == c).map(|i| i + 1).ok_or_else(|| {
            ApiError::invalid("cursor", format!("`{c}` is not a cursor of this list"))
        })?,
    };
    let end = (start + limit).min(views.len());
    let next_cursor = (end < views.len()).then(|| views[end - 1].id.clone());
    Ok(Json(ApiKeyPage { items: views[start..end].to_vec(), next_cursor }))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKeyPage {
    pub items: Vec<ApiKeyView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Revokes an API key at once (R24).
#[utoipa::path(delete, path = "/v1/principals/{id}/api-keys/{key}", tag = "principals",
    params(("id" = String, Path, description = "service account id or name"), ("key" = String, Path, description = "the key's id from the list")),
    responses((status = 204, description = "revoked"), ErrorsOfRead))]
pub async fn revoke_api_key(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Path((id, key)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let s = app.deputy().snapshot();
    let not_found = || ApiError::not_found(format!("no API key `{key}` of `{id}`"));
    let account = resolve::principal(&s, &id).map_err(|_| not_found())?;
    if !may_manage_keys(&app, &s, &caller, account) || key.len() != 16 {
        return Err(not_found());
    }
    let worker = app.clone();
    let handle = key.clone();
    let deleted =
        blocking(move || worker.auth().revoke_api_key(account, &handle).map_err(ApiError::from))
            .await?;
    if deleted { Ok(StatusCode::NO_CONTENT) } else { Err(not_found()) }
}

/// A page of a service account's keys: after the key whose id is the cursor.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyParams {
    /// Where to continue: the `next_cursor` of the previous page (a key's id).
    #[param(pattern = "^[0-9a-f]{16}$")]
    pub cursor: Option<String>,
    /// Keys per page, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// Where a page starts and how long it is, in the query.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OutboxParams {
    /// Where to continue: the `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{1,19}$")]
    pub cursor: Option<String>,
    /// Items per page, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MailView {
    pub id: i64,
    pub created_at: i64,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<i64>,
    pub attempts: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MailPage {
    pub items: Vec<MailView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The mail outbox (R61), for holders of `outbox.view` in the root.
#[utoipa::path(get, path = "/v1/outbox", tag = "operations", params(OutboxParams),
    responses((status = 200, description = "a page of mails, oldest first", body = MailPage),
    ErrorsOfRead,
    (status = 400, description = "`limit` out of range, or a `cursor` not of this list", body = Problem, content_type = "application/problem+json")))]
pub async fn outbox(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiQuery(params): ApiQuery<OutboxParams>,
) -> Result<Json<MailPage>, ApiError> {
    let s = app.deputy().snapshot();
    let root = s.root().ok_or_else(|| ApiError::not_found("no outbox"))?;
    if !holds(&app, &s, caller.actor(), deputy_core::perms::OUTBOX_VIEW, root) {
        return Err(ApiError::not_found("no outbox"));
    }
    let limit = page_limit(params.limit)?;
    let after = super::parse_cursor(params.cursor.as_deref())?
        .map_or(0, |a| i64::try_from(a).unwrap_or(i64::MAX));
    let worker = app.clone();
    let mut rows = blocking(move || {
        worker.deputy().store().outbox(after, limit + 1).map_err(ApiError::internal)
    })
    .await?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = if more { rows.last().map(|r| r.id.to_string()) } else { None };
    let items = rows
        .into_iter()
        .map(|r| MailView {
            id: r.id,
            created_at: r.created_ms,
            recipient: r.recipient,
            subject: r.subject,
            body: r.body,
            sent_at: r.sent_ms,
            attempts: r.attempts,
            last_error: r.last_error,
        })
        .collect();
    Ok(Json(MailPage { items, next_cursor }))
}
