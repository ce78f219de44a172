//! The check: "may P do X on this target?" (R50–R56), decided by the steps of SPEC §8 in
//! their order, with `explain` naming every granting path or the first failed step.
//!
//! One evaluator serves both. With `EXPLAIN = false` it stops at the first granting path
//! and never allocates; with `EXPLAIN = true` it records every path with its provenance
//! (R69) and a sentence for the first failed step.
//!
//! Answers for a caller rather than the console ([`State::check_as`], [`State::explain_as`])
//! name only what that caller may see (R52); the `seen` module words and redacts them.
//!
//! This file holds the answer's types, the entry points and the evaluator's start (steps 1
//! and 2); the later steps are child modules in their order: `impersonation` (step 2's
//! conditions), `steps` (3–5 and 8), `paths` and `partner` (6–7), `delegate` (9), with
//! `rank` (R29a) and `lapsed` (why a path no longer counts) beside them.

mod context;
mod delegate;
mod impersonation;
mod lapsed;
mod partner;
mod paths;
mod rank;
mod seen;
mod steps;

use context::Reach;
pub use context::{Context, Impersonation};

pub use seen::{Entity, MayName, Seen, SeenPath, UNSEEN_PRINCIPAL, UNSEEN_TENANT};

use crate::ids::*;
use crate::model::*;
use crate::state::State;
use serde::Serialize;

/// What a check is about: a tenant or a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "id")]
pub enum Target {
    Tenant(TenantId),
    Resource(ResourceId),
}

/// The steps of a check, in the order they run (SPEC §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Exists,
    Impersonation,
    Suspension,
    Status,
    Entitlement,
    Paths,
    Kinds,
    Requirements,
    Delegate,
}

/// The answer of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "decision", content = "failed_step")]
pub enum Decision {
    Allowed,
    Denied(Step),
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        self == Decision::Allowed
    }
}

/// A check that cannot be answered because something it names does not exist (R55).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    #[error("unknown principal `{0}`")]
    UnknownPrincipal(String),
    #[error("unknown permission `{0}`")]
    UnknownPermission(String),
    #[error("unknown tenant `{0}`")]
    UnknownTenant(String),
    #[error("unknown resource `{0}`")]
    UnknownResource(String),
}

/// One way a permission is granted, with its provenance (R52, R69).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantingPath {
    /// The principal whose assignment grants it (the owner at the top of a delegate chain).
    pub holder: PrincipalId,
    /// Delegates between the checked principal and `holder`, checked principal first.
    pub through_delegates: Vec<PrincipalId>,
    /// `direct`, `partner` or `customer-manager`.
    pub origin: &'static str,
    pub role: Option<RoleId>,
    pub permission: Option<PermId>,
    pub scope: Option<Scope>,
    pub grant: Option<GrantId>,
    pub assignment: Option<AssignmentId>,
    pub assigned_by: Option<Author>,
    pub assigned_at: Option<Millis>,
    pub expires_at: Option<Millis>,
    pub grant_approved_by: Option<Author>,
    pub grant_expires_at: Option<Millis>,
}

/// Why a check is allowed or denied: with [`GrantingPath`]s for the console, with
/// [`SeenPath`]s for a caller that may not see everything (R52).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation<P = GrantingPath> {
    pub decision: Decision,
    /// For a denial: the first failed step in words.
    pub reason: Option<String>,
    /// For an allow: every granting path for the permission itself.
    pub paths: Vec<P>,
}

/// A principal's rank in a tenant (R29a): compared by number, then by origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Rank {
    pub value: i32,
    /// The highest role comes from a proper ancestor's subtree assignment or a grant.
    pub from_above: bool,
}

impl Rank {
    pub const NONE: Rank = Rank { value: 0, from_above: false };
}

/// A target with its tenant and kind looked up once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resolved {
    pub tenant: TenantId,
    pub resource: Option<ResourceId>,
    pub kind: Option<KindId>,
}

/// Which paths count: all, or only those from strictly above the target tenant ("X over
/// T", SPEC §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathFilter {
    Any,
    FromAbove,
}

impl State {
    /// `check(P, X, target, ctx)` (R51); a caller's answer is [`State::check_as`].
    pub fn check(
        &self,
        principal: PrincipalId,
        permission: PermId,
        target: Target,
        ctx: Context,
        now: Millis,
    ) -> Result<Decision, CheckError> {
        let mut eval = Eval::<false>::new(self, now);
        eval.top(principal, permission, target, ctx, PathFilter::Any)
    }

    /// `explain` (R52): the decision, every granting path, or the first failed step, naming
    /// everything (the console's view; a caller's is [`State::explain_as`]).
    pub fn explain(
        &self,
        principal: PrincipalId,
        permission: PermId,
        target: Target,
        ctx: Context,
        now: Millis,
    ) -> Result<Explanation, CheckError> {
        let mut eval = Eval::<true>::new(self, now);
        let decision = eval.top(principal, permission, target, ctx, PathFilter::Any)?;
        Ok(Explanation {
            decision,
            reason: if decision.is_allowed() { None } else { eval.reason },
            paths: if decision.is_allowed() { eval.paths } else { Vec::new() },
        })
    }

    /// "X over T" (SPEC §1): the principal passes the check on tenant `tenant` through a
    /// subtree assignment at a proper ancestor, or a subtree grant from one.
    pub fn check_over(
        &self,
        principal: PrincipalId,
        permission: PermId,
        tenant: TenantId,
        ctx: Context,
        now: Millis,
    ) -> Result<bool, CheckError> {
        let mut eval = Eval::<false>::new(self, now);
        Ok(eval
            .top(principal, permission, Target::Tenant(tenant), ctx, PathFilter::FromAbove)?
            .is_allowed())
    }

    /// Whether an impersonation in progress still holds (R48: re-verified on every use):
    /// unexpired, the target active, and the impersonator still allowed to impersonate it.
    pub fn impersonation_holds(
        &self,
        target: PrincipalId,
        impersonation: Impersonation,
        switched: Option<TenantId>,
        now: Millis,
    ) -> bool {
        let Some(p) = self.principal(target) else { return false };
        self.principal(impersonation.actor).is_some()
            && Eval::<false>::new(self, now)
                .verify_impersonation(p, impersonation, Reach::of(switched, false))
                .is_ok()
    }

    /// Whether `principal` may switch into `client` (R43): some permission holds for it
    /// there in the switched context.
    pub fn may_switch_into(&self, principal: PrincipalId, client: TenantId, now: Millis) -> bool {
        let switched = Context::switched(client);
        (0..self.catalog.permissions.len() as u32).any(|x| {
            self.check(principal, PermId(x), Target::Tenant(client), switched, now)
                .is_ok_and(|d| d.is_allowed())
        })
    }

    /// rank(Q, T) in a session context (R29a). Status does not lower a rank: a deactivated
    /// admin still outranks a customer-service agent.
    pub fn rank(
        &self,
        principal: PrincipalId,
        tenant: TenantId,
        switched: Option<TenantId>,
        now: Millis,
    ) -> Rank {
        let mut eval = Eval::<false>::new(self, now);
        eval.rank(principal, tenant, switched, 0)
    }

    pub(crate) fn resolve(&self, target: Target) -> Result<Resolved, CheckError> {
        match target {
            Target::Tenant(t) => {
                self.tenant(t).ok_or_else(|| CheckError::UnknownTenant(t.to_string()))?;
                Ok(Resolved { tenant: t, resource: None, kind: None })
            }
            Target::Resource(r) => {
                let res =
                    self.resource(r).ok_or_else(|| CheckError::UnknownResource(r.to_string()))?;
                Ok(Resolved { tenant: res.tenant, resource: Some(r), kind: res.kind })
            }
        }
    }

    /// A grant's effective ceiling and kinds if it gives anything now: active, unexpired,
    /// and so is every grant it is bound to (R40, R46).
    pub fn effective_grant<'a>(
        &'a self,
        grant: &'a Grant,
        now: Millis,
    ) -> Option<(&'a [RoleId], Option<&'a [KindId]>)> {
        let mut current = grant;
        for _ in 0..64 {
            if current.status != GrantStatus::Active || current.expires_at.is_some_and(|t| now >= t)
            {
                return None;
            }
            match current.bound_to.and_then(|b| self.grant(b)) {
                Some(next) => current = next,
                None => return Some((&current.ceiling, current.kinds.as_deref())),
            }
        }
        None
    }

    /// Whether role `role` is within a ceiling (R41): each permission belongs to some
    /// ceiling role, and its rank is not above the highest ceiling role's.
    pub fn within_ceiling(&self, role: RoleId, ceiling: &[RoleId]) -> bool {
        let catalog = &self.catalog;
        let r = catalog.role(role);
        let mut perms = crate::PermSet::EMPTY;
        let mut max_rank = i32::MIN;
        for c in ceiling {
            let c = catalog.role(*c);
            perms = perms.union(c.permissions);
            max_rank = max_rank.max(c.rank);
        }
        !ceiling.is_empty() && r.permissions.is_subset_of(&perms) && r.rank <= max_rank
    }
}

const MAX_DEPTH: u32 = 32;

struct Eval<'s, const EXPLAIN: bool> {
    s: &'s State,
    now: Millis,
    /// What the reason may name (R52); `None`: everything (the console).
    names: Option<MayName<'s>>,
    paths: Vec<GrantingPath>,
    via: Vec<PrincipalId>,
    reason: Option<String>,
    /// Off while requirements are evaluated: explain lists paths for X itself only.
    recording: bool,
}

impl<'s, const EXPLAIN: bool> Eval<'s, EXPLAIN> {
    fn new(s: &'s State, now: Millis) -> Self {
        Eval {
            s,
            now,
            names: None,
            paths: Vec::new(),
            via: Vec::new(),
            reason: None,
            recording: true,
        }
    }

    /// Records why a step failed (explain only); an inner reason is kept if already set.
    #[inline]
    fn deny(&mut self, step: Step, message: impl FnOnce(&Self) -> String) -> Step {
        if EXPLAIN && self.reason.is_none() {
            self.reason = Some(message(self));
        }
        step
    }

    fn wrap(&mut self, step: Step, message: impl FnOnce(&Self, &str) -> String) -> Step {
        if EXPLAIN {
            let inner = self.reason.take().unwrap_or_default();
            self.reason = Some(message(self, &inner));
        }
        step
    }

    fn may_name(&self, entity: Entity) -> bool {
        self.names.is_none_or(|may| may(entity))
    }

    fn pname(&self, p: PrincipalId) -> String {
        if !self.may_name(Entity::Principal(p)) {
            return UNSEEN_PRINCIPAL.into();
        }
        self.s.principal(p).map_or_else(|| p.to_string(), |p| format!("`{}`", p.logon))
    }

    fn tname(&self, t: TenantId) -> String {
        if !self.may_name(Entity::Tenant(t)) {
            return UNSEEN_TENANT.into();
        }
        self.s.tenant(t).map_or_else(|| t.to_string(), |t| format!("`{}`", t.key))
    }

    fn xname(&self, x: PermId) -> String {
        format!("`{}`", self.s.catalog.perm_name(x))
    }

    fn top(
        &mut self,
        principal: PrincipalId,
        x: PermId,
        target: Target,
        ctx: Context,
        filter: PathFilter,
    ) -> Result<Decision, CheckError> {
        // Step 1: everything named exists (R55).
        let p = self
            .s
            .principal(principal)
            .ok_or_else(|| CheckError::UnknownPrincipal(principal.to_string()))?;
        if x.index() >= self.s.catalog.permissions.len() {
            return Err(CheckError::UnknownPermission(x.to_string()));
        }
        let tgt = self.s.resolve(target)?;
        if let Some(c) = ctx.switched {
            self.s.tenant(c).ok_or_else(|| CheckError::UnknownTenant(c.to_string()))?;
        }
        // Step 2: impersonation.
        let Some(imp) = ctx.impersonation else {
            return Ok(match self.eval(principal, x, &tgt, ctx.reach(), filter, 0) {
                Ok(()) => Decision::Allowed,
                Err(step) => Decision::Denied(step),
            });
        };
        let actor_id = imp.actor;
        self.s
            .principal(actor_id)
            .ok_or_else(|| CheckError::UnknownPrincipal(actor_id.to_string()))?;
        if let Err(step) = self.verify_impersonation(p, imp, ctx.reach()) {
            return Ok(Decision::Denied(step));
        }
        // The later steps run for the target as in its home session …
        if let Err(step) = self.eval(principal, x, &tgt, Reach::Home, filter, 0) {
            return Ok(Decision::Denied(step));
        }
        // … and never exceed the impersonator.
        let mut inner = Eval::<false>::new(self.s, self.now);
        if inner.eval(actor_id, x, &tgt, ctx.reach(), filter, 0).is_err() {
            self.paths.clear();
            return Ok(Decision::Denied(self.deny(Step::Impersonation, |e| {
                format!("impersonator {} lacks {} here, and impersonation never exceeds the impersonator", e.pname(actor_id), e.xname(x))
            })));
        }
        Ok(Decision::Allowed)
    }
}

#[inline]
fn bundle_holds(s: &State, bundle: Bundle, x: PermId) -> bool {
    match bundle {
        Bundle::Role(r) => s.catalog.role(r).permissions.contains(x),
        Bundle::Permission(p) => p == x,
    }
}

pub(crate) fn bundle_rank(s: &State, bundle: Bundle) -> i32 {
    match bundle {
        Bundle::Role(r) => s.catalog.role(r).rank,
        Bundle::Permission(_) => 0,
    }
}

fn split_bundle(bundle: Bundle) -> (Option<RoleId>, Option<PermId>) {
    match bundle {
        Bundle::Role(r) => (Some(r), None),
        Bundle::Permission(p) => (None, Some(p)),
    }
}
