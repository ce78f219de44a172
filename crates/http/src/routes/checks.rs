//! Checks over HTTP (R50–R55): check, batch check and explain. They answer callers holding
//! `checks.read` in the target's tenant (R58); for anyone else the target does not exist.

use super::ApiJson;
use crate::caller::Authed;
use crate::metrics::DecisionLabels;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use deputy_core::{Actor, Context, Impersonation, State as Snapshot, Target};
use deputy_service::auth::Caller;
use deputy_service::resolve;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One check: may `principal` do `permission` on `target`?
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// A principal id (`p12`) or logon name.
    pub principal: String,
    /// A permission name (`returns.file`).
    pub permission: String,
    /// `tenant:KEY`, `resource:KEY`, an id (`t3`, `r7`) or a bare key.
    pub target: String,
    /// The session is switched into this tenant (R43).
    #[serde(default)]
    pub switched_into: Option<String>,
    /// The session is `impersonator` impersonating `principal` (R48).
    #[serde(default)]
    pub impersonator: Option<String>,
    /// Answer on data at least as fresh as this token (R50).
    #[serde(default)]
    pub consistency_token: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckAnswer {
    pub allowed: bool,
    /// For a denial: the first step that failed (`paths`, `status`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<String>,
    /// The revision the answer was computed on.
    pub consistency_token: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// Up to 10,000 checks, answered on one snapshot.
    pub checks: Vec<BatchItem>,
    #[serde(default)]
    pub consistency_token: Option<String>,
}

/// A check of a batch (the batch's token applies to all).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchItem {
    pub principal: String,
    pub permission: String,
    pub target: String,
    #[serde(default)]
    pub switched_into: Option<String>,
    #[serde(default)]
    pub impersonator: Option<String>,
}

/// Each answer, or the problem with that one check.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchAnswer {
    pub results: Vec<BatchResult>,
    pub consistency_token: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchResult {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Problem>,
}

/// Why: the decision, every granting path with its provenance, or the first failed step
/// in words (R52, R69).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExplainAnswer {
    pub allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The granting paths (ids in their external form).
    #[schema(value_type = Vec<Object>)]
    pub paths: serde_json::Value,
    pub consistency_token: String,
}

const MAX_BATCH: usize = 10_000;

/// The names of one check, borrowed from a request.
struct Spec<'a> {
    principal: &'a str,
    permission: &'a str,
    target: &'a str,
    switched_into: Option<&'a str>,
    impersonator: Option<&'a str>,
}

impl CheckRequest {
    fn spec(&self) -> Spec<'_> {
        Spec {
            principal: &self.principal,
            permission: &self.permission,
            target: &self.target,
            switched_into: self.switched_into.as_deref(),
            impersonator: self.impersonator.as_deref(),
        }
    }
}

impl BatchItem {
    fn spec(&self) -> Spec<'_> {
        Spec {
            principal: &self.principal,
            permission: &self.permission,
            target: &self.target,
            switched_into: self.switched_into.as_deref(),
            impersonator: self.impersonator.as_deref(),
        }
    }
}

struct Resolved {
    principal: deputy_core::PrincipalId,
    permission: deputy_core::PermId,
    target: Target,
    ctx: Context,
}

fn token_of(app: &AppState, s: &Snapshot) -> String {
    deputy_service::Token { epoch: app.deputy().epoch(), revision: s.revision }.to_string()
}

/// Resolves one check's names, and refuses (as "not found") a caller without
/// `checks.read` in the target's tenant (R58).
/// Whether the caller holds `checks.read` in a tenant, remembered for a batch.
#[derive(Default)]
struct Authorized(std::collections::HashMap<deputy_core::TenantId, bool>);

fn resolve_check(
    app: &AppState,
    s: &Snapshot,
    caller: &Caller,
    spec: Spec<'_>,
    authorized: &mut Authorized,
) -> Result<Resolved, ApiError> {
    let Spec { principal, permission, target, switched_into, impersonator } = spec;
    let now = app.deputy().now();
    let unknown_target = || {
        ApiError::not_found(format!("no tenant or resource `{target}`")).field("target").rule("R55")
    };
    let t = resolve::target(s, target).map_err(|_| unknown_target())?;
    let tenant = match t {
        Target::Tenant(t) => t,
        Target::Resource(r) => s.resource(r).map(|r| r.tenant).ok_or_else(unknown_target)?,
    };
    let checks_read = s.catalog.permission_id("checks.read").ok_or_else(unknown_target)?;
    let allowed = *authorized.0.entry(tenant).or_insert_with(|| match caller.actor() {
        Actor::Principal { id, ctx } => {
            s.check(id, checks_read, Target::Tenant(tenant), ctx, now).is_ok_and(|d| d.is_allowed())
        }
        Actor::System => false,
    });
    if !allowed {
        return Err(unknown_target());
    }
    let p = resolve::principal(s, principal)
        .map_err(|e| ApiError::not_found(e.0).field("principal").rule("R55"))?;
    let x = resolve::permission(s, permission)
        .map_err(|e| ApiError::not_found(e.0).field("permission").rule("R55"))?;
    let switched = switched_into
        .map(|c| resolve::tenant(s, c).map_err(|e| ApiError::not_found(e.0).field("switched_into")))
        .transpose()?;
    let impersonation = impersonator
        .map(|i| {
            resolve::principal(s, i)
                .map(|actor| Impersonation {
                    actor,
                    expires_at: now + deputy_core::commands::access::MAX_IMPERSONATION_MS,
                })
                .map_err(|e| ApiError::not_found(e.0).field("impersonator"))
        })
        .transpose()?;
    Ok(Resolved {
        principal: p,
        permission: x,
        target: t,
        ctx: Context { switched, impersonation },
    })
}

fn step_name(decision: deputy_core::Decision) -> Option<String> {
    match decision {
        deputy_core::Decision::Allowed => None,
        deputy_core::Decision::Denied(step) => {
            serde_json::to_value(step).ok().and_then(|v| v.as_str().map(str::to_owned))
        }
    }
}

fn count(app: &AppState, allowed: bool) {
    let decision = if allowed { "allowed" } else { "denied" };
    app.metrics().checks.get_or_create(&DecisionLabels { decision }).inc();
}

/// May `principal` do `permission` on `target` (R51)?
#[utoipa::path(post, path = "/v1/check", tag = "checks", request_body = CheckRequest, responses(
    (status = 200, body = CheckAnswer),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn check(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiJson(body): ApiJson<CheckRequest>,
) -> Result<Json<CheckAnswer>, ApiError> {
    let s = super::snapshot_for(&app, body.consistency_token.as_deref())?;
    let r = resolve_check(&app, &s, &caller, body.spec(), &mut Authorized::default())?;
    let decision = s.check(r.principal, r.permission, r.target, r.ctx, app.deputy().now())?;
    count(&app, decision.is_allowed());
    Ok(Json(CheckAnswer {
        allowed: decision.is_allowed(),
        failed_step: step_name(decision),
        consistency_token: token_of(&app, &s),
    }))
}

/// Many checks on one snapshot (R54); each answered or refused on its own.
#[utoipa::path(post, path = "/v1/check/batch", tag = "checks", request_body = BatchRequest, responses(
    (status = 200, body = BatchAnswer),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn check_batch(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiJson(body): ApiJson<BatchRequest>,
) -> Result<Json<BatchAnswer>, ApiError> {
    if body.checks.len() > MAX_BATCH {
        return Err(ApiError::bad_request(format!(
            "a batch holds at most {MAX_BATCH} checks, this one {}",
            body.checks.len()
        ))
        .field("checks"));
    }
    let s = super::snapshot_for(&app, body.consistency_token.as_deref())?;
    let now = app.deputy().now();
    let mut authorized = Authorized::default();
    let results = body
        .checks
        .iter()
        .map(|c| {
            let answer = resolve_check(&app, &s, &caller, c.spec(), &mut authorized)
                .and_then(|r| Ok(s.check(r.principal, r.permission, r.target, r.ctx, now)?));
            match answer {
                Ok(decision) => {
                    count(&app, decision.is_allowed());
                    BatchResult {
                        allowed: Some(decision.is_allowed()),
                        failed_step: step_name(decision),
                        error: None,
                    }
                }
                Err(e) => {
                    BatchResult { allowed: None, failed_step: None, error: Some(e.problem()) }
                }
            }
        })
        .collect();
    Ok(Json(BatchAnswer { results, consistency_token: token_of(&app, &s) }))
}

/// Why a check is allowed or denied (R52, R69).
#[utoipa::path(post, path = "/v1/explain", tag = "checks", request_body = CheckRequest, responses(
    (status = 200, body = ExplainAnswer),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn explain(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiJson(body): ApiJson<CheckRequest>,
) -> Result<Json<ExplainAnswer>, ApiError> {
    let s = super::snapshot_for(&app, body.consistency_token.as_deref())?;
    let r = resolve_check(&app, &s, &caller, body.spec(), &mut Authorized::default())?;
    let ex = s.explain(r.principal, r.permission, r.target, r.ctx, app.deputy().now())?;
    Ok(Json(ExplainAnswer {
        allowed: ex.decision.is_allowed(),
        failed_step: step_name(ex.decision),
        reason: ex.reason,
        paths: serde_json::to_value(&ex.paths).map_err(ApiError::internal)?,
        consistency_token: token_of(&app, &s),
    }))
}
