//! Checks over HTTP (R50–R55): check, batch check and explain, and in `lookups` the
//! lookups (R53, R73). They answer callers holding `checks.read` in the target's tenant
//! (R58); for anyone else the target does not exist.
//!
//! The principal asked about (and an impersonator) must be one the caller may ask about
//! ([`Sight::admits`]): one it may see, or one with standing in a tenant where it holds
//! `checks.read` (its members, partner users given roles there, their secondary logons).
//! Anybody else answers 404 exactly as a missing name does (R55, R58). Lookups apply the
//! same rule. Answers name only what the caller may see (R52, [`Sight::may_name`]).

use super::ApiJson;
use crate::caller::Authed;
use crate::metrics::DecisionLabels;
use crate::openapi::{ErrorsOfCaller, ErrorsOfRead};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use deputy_core::check::Entity;
use deputy_core::{
    Actor, Context, Impersonation, Millis, PermId, PrincipalId, State as Snapshot, Target, TenantId,
};
use deputy_service::auth::Caller;
use deputy_service::resolve;
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use utoipa::ToSchema;

mod lookups;
pub use lookups::*;

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
    /// The session asked about (R51): none given, no session (a back end asking about
    /// `principal`: direct and partner paths count alike); `home`, direct paths only.
    #[serde(default)]
    pub context: Option<SessionContext>,
    /// The session is switched into this tenant (R43): partner paths into it only.
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
    pub context: Option<SessionContext>,
    #[serde(default)]
    pub switched_into: Option<String>,
    #[serde(default)]
    pub impersonator: Option<String>,
}

/// Which session a check is asked in (R51), besides `switched_into` and `impersonator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionContext {
    /// No session: direct and partner paths alike (the default).
    None,
    /// At home: direct paths only (R43).
    Home,
}

/// The session named by `context` and `switched_into` (R51): the switched tenant, if any,
/// and whether no session at all is meant. `switched` resolves a tenant name.
pub(crate) fn session_of(
    context: Option<SessionContext>,
    switched_into: Option<&str>,
    switched: impl FnOnce(&str) -> Result<TenantId, ApiError>,
) -> Result<(Option<TenantId>, bool), ApiError> {
    match (context, switched_into) {
        (Some(SessionContext::Home), Some(_)) => Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "The request is not valid",
            "give `context: home` or `switched_into`, not both: a session is at home or switched",
        )
        .field("context")
        .rule("R51")),
        (Some(SessionContext::None), Some(_)) => Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "The request is not valid",
            "`context: none` means no session, so it cannot be switched into a tenant",
        )
        .field("context")
        .rule("R51")),
        (_, Some(c)) => Ok((Some(switched(c)?), false)),
        (Some(SessionContext::Home), None) => Ok((None, false)),
        (Some(SessionContext::None) | None, None) => Ok((None, true)),
    }
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
    context: Option<SessionContext>,
    switched_into: Option<&'a str>,
    impersonator: Option<&'a str>,
}

impl CheckRequest {
    fn spec(&self) -> Spec<'_> {
        Spec {
            principal: &self.principal,
            permission: &self.permission,
            target: &self.target,
            context: self.context,
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
            context: self.context,
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

/// Whether the caller may see tenant `tenant` (R58): its home, `tenants.view` or
/// `users.view` there (the engine's `can_see`), or `checks.read` there.
pub(crate) fn sees_tenant(app: &AppState, s: &Snapshot, actor: Actor, tenant: TenantId) -> bool {
    super::holds(app, s, actor, deputy_core::perms::CHECKS_READ, tenant)
        || s.decide(actor, app.deputy().now(), |tx| Ok(tx.can_see(tenant))).is_ok_and(|d| d.output)
}

impl super::refs::MayName for Sight<'_> {
    fn principal(&self, p: PrincipalId) -> bool {
        self.sees(p)
    }

    fn tenant(&self, t: TenantId) -> bool {
        self.sees_tenant(t)
    }

    fn group(&self, owner: deputy_core::GroupOwner) -> bool {
        super::groups::sees_groups_of(self.app, self.s, self.actor, owner)
    }
}

/// Yes-or-no answers remembered for one request (a batch asks the same ones often). The
/// first answer is kept inline, so a single check does not allocate for it.
struct Memo<K> {
    first: Cell<Option<(K, bool)>>,
    rest: RefCell<HashMap<K, bool>>,
}

impl<K: Copy + Eq + std::hash::Hash> Memo<K> {
    fn new() -> Self {
        Memo { first: Cell::new(None), rest: RefCell::new(HashMap::new()) }
    }

    fn get(&self, key: K, answer: impl FnOnce() -> bool) -> bool {
        match self.first.get() {
            Some((k, known)) if k == key => return known,
            Some(_) => {
                if let Some(known) = self.rest.borrow().get(&key) {
                    return *known;
                }
            }
            None => {}
        }
        // No borrow is held while answering: an answer may ask other memos.
        let known = answer();
        if self.first.get().is_none() {
            self.first.set(Some((key, known)));
        } else {
            self.rest.borrow_mut().insert(key, known);
        }
        known
    }
}

/// What the caller of a check endpoint may ask about and may see (R52, R58).
pub(crate) struct Sight<'a> {
    app: &'a AppState,
    s: &'a Snapshot,
    actor: Actor,
    now: Millis,
    checks_read: Option<PermId>,
    reads: Memo<TenantId>,
    admits: Memo<PrincipalId>,
    sees: Memo<PrincipalId>,
    sees_tenant: Memo<TenantId>,
}

impl<'a> Sight<'a> {
    pub(crate) fn new(app: &'a AppState, s: &'a Snapshot, caller: &Caller) -> Self {
        Sight {
            app,
            s,
            actor: caller.actor(),
            now: app.deputy().now(),
            checks_read: s.catalog.permission_id(deputy_core::perms::CHECKS_READ),
            reads: Memo::new(),
            admits: Memo::new(),
            sees: Memo::new(),
            sees_tenant: Memo::new(),
        }
    }

    /// Whether the caller holds `checks.read` in `tenant` (R58; subtree scope reaches
    /// descendants). The console is never a caller here.
    pub(crate) fn reads(&self, tenant: TenantId) -> bool {
        let (Actor::Principal { id, ctx }, Some(x)) = (self.actor, self.checks_read) else {
            return false;
        };
        self.reads.get(tenant, || {
            self.s.check(id, x, Target::Tenant(tenant), ctx, self.now).is_ok_and(|d| d.is_allowed())
        })
    }

    /// Whether the caller may ask about principal `p` (R58): `p` has standing in a tenant
    /// where the caller holds `checks.read`, or the caller may see `p` at all. `within` is
    /// a tenant already known to be one where it holds `checks.read` (the target's): the
    /// check path's usual answer, standing there, costs no allocation and no other lookup.
    pub(crate) fn admits(&self, p: PrincipalId, within: Option<TenantId>) -> bool {
        if within.is_some_and(|t| self.s.has_standing_in(p, t)) {
            return true;
        }
        let Actor::Principal { id, .. } = self.actor else { return false };
        self.admits.get(p, || self.s.meets(p, id, &mut |t| self.reads(t)) || self.sees(p))
    }

    /// Whether the caller may see principal `p` (the engine's `visible_principal`).
    pub(crate) fn sees(&self, p: PrincipalId) -> bool {
        let Actor::Principal { id, .. } = self.actor else { return true };
        if id == p {
            return true;
        }
        // `users.view` in its home is the usual reason, and one check (a denial on the check
        // path asks this); the engine's whole rule needs a transaction.
        self.sees.get(p, || {
            self.s.principal(p).is_some_and(|principal| {
                super::holds(
                    self.app,
                    self.s,
                    self.actor,
                    deputy_core::perms::USERS_VIEW,
                    principal.home,
                ) || super::sees(self.app, self.s, self.actor, principal)
            })
        })
    }

    /// Whether the caller may see tenant `t` ([`sees_tenant`]).
    pub(crate) fn sees_tenant(&self, t: TenantId) -> bool {
        self.reads(t) || self.sees_tenant.get(t, || sees_tenant(self.app, self.s, self.actor, t))
    }

    /// What an answer may name (R52).
    pub(crate) fn may_name(&self, entity: Entity) -> bool {
        match entity {
            Entity::Principal(p) => self.sees(p),
            Entity::Tenant(t) => self.sees_tenant(t),
        }
    }
}

/// The answer for a principal name that is missing, or that the caller may not ask about:
/// the same words for both (R55, R58).
pub(crate) fn unknown_principal(name: &str, field: &'static str) -> ApiError {
    ApiError::unknown_name(field, format!("no principal with logon name `{name}`"))
}

/// The answer for a tenant name that is missing, or that the caller may not see.
pub(crate) fn unknown_tenant(name: &str, field: &'static str) -> ApiError {
    ApiError::unknown_name(field, format!("no tenant with key `{name}`"))
}

/// A principal the caller may ask about (R58), else the answer for a missing name.
pub(crate) fn admitted_principal(
    sight: &Sight<'_>,
    name: &str,
    field: &'static str,
    within: Option<TenantId>,
) -> Result<PrincipalId, ApiError> {
    resolve::principal(sight.s, name)
        .ok()
        .filter(|p| sight.admits(*p, within))
        .ok_or_else(|| unknown_principal(name, field))
}

/// A tenant to be switched into that the caller may see (or the target's tenant or one
/// above it, where a partner's subtree grant may come from), else the answer for a
/// missing name (R58).
pub(crate) fn admitted_switch(
    sight: &Sight<'_>,
    name: &str,
    target_tenant: Option<TenantId>,
) -> Result<TenantId, ApiError> {
    resolve::tenant(sight.s, name)
        .ok()
        .filter(|c| {
            target_tenant.is_some_and(|t| sight.s.is_ancestor_or_self(*c, t))
                || sight.sees_tenant(*c)
        })
        .ok_or_else(|| unknown_tenant(name, "switched_into"))
}

/// Resolves one check's names (R55), and answers "not found" for a target outside the
/// tenants where the caller holds `checks.read`, and for a principal or impersonator it may
/// not ask about, exactly as for names that do not exist (R58). Only then may anything
/// else be said (an impersonating caller gets the same: its session never exceeds the
/// impersonator, R48).
fn resolve_check(sight: &Sight<'_>, spec: Spec<'_>) -> Result<Resolved, ApiError> {
    let Spec { principal, permission, target, context, switched_into, impersonator } = spec;
    let s = sight.s;
    let unknown_target =
        || ApiError::unknown_name("target", format!("no tenant or resource `{target}`"));
    let t = resolve::target(s, target).map_err(|_| unknown_target())?;
    let tenant = match t {
        Target::Tenant(t) => t,
        Target::Resource(r) => s.resource(r).map(|r| r.tenant).ok_or_else(unknown_target)?,
    };
    if !sight.reads(tenant) {
        return Err(unknown_target());
    }
    let p = admitted_principal(sight, principal, "principal", Some(tenant))?;
    let x = resolve::permission(s, permission)
        .map_err(|e| ApiError::unknown_name("permission", e.0))?;
    let (switched, sessionless) =
        session_of(context, switched_into, |c| admitted_switch(sight, c, Some(tenant)))?;
    let impersonation = impersonator
        .map(|i| {
            admitted_principal(sight, i, "impersonator", Some(tenant)).map(|actor| Impersonation {
                actor,
                expires_at: sight.now + deputy_core::commands::access::MAX_IMPERSONATION_MS,
            })
        })
        .transpose()?;
    Ok(Resolved {
        principal: p,
        permission: x,
        target: t,
        ctx: Context { switched, impersonation, sessionless },
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
    (status = 200, description = "the decision", body = CheckAnswer),
    ErrorsOfRead,
    (status = 400, description = "a malformed `consistency_token`", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "the consistency token is from before a restore (R50, R66)", body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "the consistency token is ahead of this server, which waited for it up to 2 s (R63e); nothing older was answered: try again after `Retry-After`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u16, description = "seconds to wait")))))]
pub async fn check(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiJson(body): ApiJson<CheckRequest>,
) -> Result<Json<CheckAnswer>, ApiError> {
    let s = super::snapshot_for(&app, body.consistency_token.as_deref()).await?;
    let sight = Sight::new(&app, &s, &caller);
    let r = resolve_check(&sight, body.spec())?;
    let may_name = |e| sight.may_name(e);
    let decision = s.check_as(r.principal, r.permission, r.target, r.ctx, sight.now, &may_name)?;
    count(&app, decision.is_allowed());
    Ok(Json(CheckAnswer {
        allowed: decision.is_allowed(),
        failed_step: step_name(decision),
        consistency_token: token_of(&app, &s),
    }))
}

/// Many checks on one snapshot (R54); each answered or refused on its own.
#[utoipa::path(post, path = "/v1/check/batch", tag = "checks", request_body = BatchRequest, responses(
    (status = 200, description = "a decision or a problem for each check, in order", body = BatchAnswer),
    ErrorsOfCaller,
    (status = 400, description = "more checks than a batch holds, or a malformed `consistency_token`", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "the consistency token is from before a restore (R50, R66)", body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "the consistency token is ahead of this server, which waited for it up to 2 s (R63e); nothing older was answered: try again after `Retry-After`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u16, description = "seconds to wait")))))]
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
    let s = super::snapshot_for(&app, body.consistency_token.as_deref()).await?;
    let sight = Sight::new(&app, &s, &caller);
    let may_name = |e| sight.may_name(e);
    let results = body
        .checks
        .iter()
        .map(|c| {
            let answer = resolve_check(&sight, c.spec()).and_then(|r| {
                Ok(s.check_as(r.principal, r.permission, r.target, r.ctx, sight.now, &may_name)?)
            });
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
    (status = 200, description = "the decision and why", body = ExplainAnswer),
    ErrorsOfRead,
    (status = 400, description = "a malformed `consistency_token`", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "the consistency token is from before a restore (R50, R66)", body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "the consistency token is ahead of this server, which waited for it up to 2 s (R63e); nothing older was answered: try again after `Retry-After`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u16, description = "seconds to wait")))))]
pub async fn explain(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiJson(body): ApiJson<CheckRequest>,
) -> Result<Json<ExplainAnswer>, ApiError> {
    let s = super::snapshot_for(&app, body.consistency_token.as_deref()).await?;
    let sight = Sight::new(&app, &s, &caller);
    let r = resolve_check(&sight, body.spec())?;
    let may_name = |e| sight.may_name(e);
    let ex = s.explain_as(r.principal, r.permission, r.target, r.ctx, sight.now, &may_name)?;
    Ok(Json(ExplainAnswer {
        allowed: ex.decision.is_allowed(),
        failed_step: step_name(ex.decision),
        reason: ex.reason,
        paths: serde_json::to_value(&ex.paths).map_err(ApiError::internal)?,
        consistency_token: token_of(&app, &s),
    }))
}
