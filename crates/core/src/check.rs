//! The check: "may P do X on this target?" (R50–R56), decided by the steps of SPEC §8 in
//! their order, with `explain` naming every granting path or the first failed step.
//!
//! One evaluator serves both. With `EXPLAIN = false` it stops at the first granting path
//! and never allocates; with `EXPLAIN = true` it records every path with its provenance
//! (R69) and a sentence for the first failed step.
//!
//! Answers for a caller rather than the console ([`State::check_as`], [`State::explain_as`])
//! name only what that caller may see (R52); the `seen` module words and redacts them.

mod context;
mod lapsed;
mod partner;
mod rank;
mod seen;

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

    /// Step 2's conditions (R48, R68): unexpired, an active target, and the impersonator
    /// still holding `impersonate` in the target's home tenant at a rank not below the
    /// target's there.
    fn verify_impersonation(
        &mut self,
        p: &Principal,
        imp: Impersonation,
        reach: Reach,
    ) -> Result<(), Step> {
        let (principal, home, actor_id) = (p.id, p.home, imp.actor);
        if self.now >= imp.expires_at {
            return Err(self.deny(Step::Impersonation, |_| "the impersonation has expired".into()));
        }
        if !p.is_active() {
            return Err(self.deny(Step::Impersonation, |e| {
                format!("impersonated principal {} is not active", e.pname(principal))
            }));
        }
        let may_impersonate =
            self.s.catalog.permission_id(crate::perms::IMPERSONATE).is_some_and(|imp_perm| {
                let mut inner = Eval::<false>::new(self.s, self.now);
                inner
                    .eval(
                        actor_id,
                        imp_perm,
                        &Resolved { tenant: home, resource: None, kind: None },
                        reach,
                        PathFilter::Any,
                        0,
                    )
                    .is_ok()
                    && inner.rank_in(actor_id, home, reach, 0)
                        >= inner.rank(principal, home, None, 0)
            });
        if !may_impersonate {
            return Err(self.deny(Step::Impersonation, |e| {
                format!("{} may no longer impersonate {}", e.pname(actor_id), e.pname(principal))
            }));
        }
        Ok(())
    }

    /// Steps 3–9 for principal `pid`, counting the paths `reach` allows.
    fn eval(
        &mut self,
        pid: PrincipalId,
        x: PermId,
        tgt: &Resolved,
        reach: Reach,
        filter: PathFilter,
        depth: u32,
    ) -> Result<(), Step> {
        let s = self.s;
        let catalog = &*s.catalog;
        let Some(p) = s.principal(pid) else {
            return Err(self.deny(Step::Exists, |_| format!("principal {pid} does not exist")));
        };
        let Some(t) = s.tenant(tgt.tenant) else {
            return Err(self.deny(Step::Exists, |_| "target tenant does not exist".into()));
        };
        if depth > MAX_DEPTH {
            return Err(self.deny(Step::Delegate, |_| "owner chain is too deep".into()));
        }
        // Step 3: suspension (R8). `checks.read` held from outside a suspended subtree
        // still answers checks on it; the paths step drops holdings from inside.
        let checks_read = catalog.is_checks_read(x);
        if self.target_blocked(t, filter) && !checks_read {
            return Err(self.deny(Step::Suspension, |e| {
                format!("tenant {} or one of its ancestors is suspended", e.tname(tgt.tenant))
            }));
        }
        if s.tenant(p.home).is_none_or(|h| h.blocked) {
            return Err(self.deny(Step::Suspension, |e| {
                format!(
                    "home tenant {} of {} or one of its ancestors is suspended",
                    e.tname(p.home),
                    e.pname(pid)
                )
            }));
        }
        // Step 4: status, up the owner chain (R11, R36).
        if !p.is_active() {
            return Err(
                self.deny(Step::Status, |e| format!("{} is {}", e.pname(pid), p.status.as_str()))
            );
        }
        let mut owner = p.owner();
        let mut hops = 0;
        while let Some(o) = owner {
            match s.principal(o) {
                Some(op) if op.is_active() => owner = op.owner(),
                Some(op) => {
                    let status = op.status;
                    return Err(self.deny(Step::Status, |e| {
                        format!("owner {} of {} is {}", e.pname(o), e.pname(pid), status.as_str())
                    }));
                }
                None => {
                    return Err(self.deny(Step::Status, |_| format!("owner {o} does not exist")));
                }
            }
            hops += 1;
            if hops > MAX_DEPTH {
                return Err(self.deny(Step::Status, |_| "owner chain is too deep".into()));
            }
        }
        self.eval_rest(p, t, x, tgt, reach, filter, depth)
    }

    /// Step 3 for the target (R8): a suspended tenant or ancestor blocks every permission
    /// in it. Authority *over* a tenant comes from above it, so there only a suspension
    /// above the tenant blocks: its holders can still lift the tenant's own.
    fn target_blocked(&self, t: &Tenant, filter: PathFilter) -> bool {
        match filter {
            PathFilter::FromAbove => {
                t.parent.and_then(|parent| self.s.tenant(parent)).is_some_and(|p| p.blocked)
            }
            PathFilter::Any => t.blocked,
        }
    }

    /// Steps 5–9 (and the target half of step 3) for a principal whose home and status
    /// were already checked: requirements and owners re-enter here, since they share the
    /// principal's home and its owner chain was checked whole.
    #[allow(clippy::too_many_arguments)]
    fn eval_rest(
        &mut self,
        p: &'s Principal,
        t: &'s Tenant,
        x: PermId,
        tgt: &Resolved,
        reach: Reach,
        filter: PathFilter,
        depth: u32,
    ) -> Result<(), Step> {
        let s = self.s;
        let catalog = &*s.catalog;
        let pid = p.id;
        if depth > MAX_DEPTH {
            return Err(self.deny(Step::Delegate, |_| "owner chain is too deep".into()));
        }
        if self.target_blocked(t, filter) && !catalog.is_checks_read(x) {
            return Err(self.deny(Step::Suspension, |e| {
                format!("tenant {} or one of its ancestors is suspended", e.tname(tgt.tenant))
            }));
        }
        // Step 5: entitlement (R3, R31).
        if !catalog.core.contains(x) && !t.entitlements.contains(x) {
            return Err(self.deny(Step::Entitlement, |e| {
                format!("tenant {} is not entitled to {}", e.tname(tgt.tenant), e.xname(x))
            }));
        }
        if catalog.root_only.contains(x) && s.root() != Some(tgt.tenant) {
            return Err(self.deny(Step::Entitlement, |e| {
                format!("{} is effective in the root tenant alone", e.xname(x))
            }));
        }
        // Steps 6–7, or step 9 for a delegate.
        match &p.delegate {
            Some(access) => self.delegate_step(p, t, access, x, tgt, reach, filter, depth)?,
            None => self.paths_step(p, x, tgt, reach, filter)?,
        }
        // Step 8: requirements (R26), on the same target.
        for req in &catalog.permission(x).requires {
            let recording = std::mem::replace(&mut self.recording, false);
            let result = self.eval_rest(p, t, *req, tgt, reach, filter, depth + 1);
            self.recording = recording;
            if result.is_err() {
                return Err(self.wrap(Step::Requirements, |e, inner| {
                    format!(
                        "{} requires {}, which {} lacks: {inner}",
                        e.xname(x),
                        e.xname(*req),
                        e.pname(pid)
                    )
                }));
            }
        }
        Ok(())
    }

    /// Step 9 (R35, R38): a delegate acts within its groups, kinds and narrowing roles, and
    /// never beyond its owner.
    #[allow(clippy::too_many_arguments)]
    fn delegate_step(
        &mut self,
        p: &Principal,
        t: &'s Tenant,
        access: &DelegateAccess,
        x: PermId,
        tgt: &Resolved,
        reach: Reach,
        filter: PathFilter,
        depth: u32,
    ) -> Result<(), Step> {
        let s = self.s;
        let Some(owner) = p.owner() else {
            return Err(self.deny(Step::Delegate, |_| "delegate has no owner".into()));
        };
        let pid = p.id;
        if let GroupAccess::Groups(groups) = &access.groups {
            let group = s.group_of(GroupOwner::User(owner), tgt.tenant);
            if !group.is_some_and(|g| groups.contains(&g)) {
                return Err(self.deny(Step::Delegate, |e| {
                    format!(
                        "secondary logon {} is not given the group of {} that holds tenant {}",
                        e.pname(pid),
                        e.pname(owner),
                        e.tname(tgt.tenant)
                    )
                }));
            }
        }
        if let KindAccess::Kinds(kinds) = &access.kinds {
            let core = s.catalog.core.contains(x);
            let passes = match (tgt.resource, tgt.kind) {
                (Some(_), Some(k)) => kinds.contains(&k),
                (Some(_), None) => false,
                // A tenant target has no kind (R38).
                (None, _) => core,
            };
            if !passes {
                return Err(self.deny(Step::Delegate, |e| match tgt.kind {
                    Some(k) => format!("secondary logon {} is not given the kind `{}`", e.pname(pid), s.catalog.kind_name(k)),
                    None if tgt.resource.is_none() => format!("secondary logon {} is limited to some kinds, so it is denied {} on a tenant target", e.pname(pid), e.xname(x)),
                    None => format!("secondary logon {} is limited to some kinds and the resource has none", e.pname(pid)),
                }));
            }
        }
        if !access.roles.is_empty()
            && !access.roles.iter().any(|r| s.catalog.role(*r).permissions.contains(x))
        {
            return Err(self.deny(Step::Delegate, |e| {
                format!("the roles of secondary logon {} do not hold {}", e.pname(pid), e.xname(x))
            }));
        }
        if EXPLAIN {
            self.via.push(pid);
        }
        // The owner shares the delegate's home, and step 4 checked the whole owner chain.
        let result = match s.principal(owner) {
            Some(op) if op.home == p.home => {
                self.eval_rest(op, t, x, tgt, reach, filter, depth + 1)
            }
            // An imported owner elsewhere gets every step.
            Some(_) => self.eval(owner, x, tgt, reach, filter, depth + 1),
            None => Err(self.deny(Step::Status, |_| format!("owner {owner} does not exist"))),
        };
        if EXPLAIN {
            self.via.pop();
        }
        result.map_err(|_| {
            self.wrap(Step::Delegate, |e, inner| {
                format!(
                    "secondary logon {} is limited by owner {}, who lacks {} in tenant {}: {inner}",
                    e.pname(pid),
                    e.pname(owner),
                    e.xname(x),
                    e.tname(tgt.tenant)
                )
            })
        })
    }

    /// Steps 6 and 7 for a principal that is not a delegate.
    fn paths_step(
        &mut self,
        p: &Principal,
        x: PermId,
        tgt: &Resolved,
        reach: Reach,
        filter: PathFilter,
    ) -> Result<(), Step> {
        let mut holding = false;
        let mut passing = false;
        match reach {
            Reach::Home => self.direct_paths(p, x, tgt, filter, &mut holding, &mut passing),
            Reach::Switched(client) => {
                self.partner_paths(p, x, tgt, client, filter, &mut holding, &mut passing)
            }
            // Without a session, a grant counts as if switched into the target itself:
            // that reaches every grant from the target and every subtree grant above it.
            Reach::Anywhere => {
                self.direct_paths(p, x, tgt, filter, &mut holding, &mut passing);
                if EXPLAIN || !passing {
                    let client = tgt.tenant;
                    self.partner_paths(p, x, tgt, client, filter, &mut holding, &mut passing);
                }
            }
        }
        if passing {
            return Ok(());
        }
        let pid = p.id;
        if holding {
            return Err(self.deny(Step::Kinds, |e| match tgt.kind {
                Some(k) => format!("every path of {} to {} is limited to other kinds than `{}`", e.pname(pid), e.xname(x), e.s.catalog.kind_name(k)),
                None => format!("every path of {} to {} is limited to some kinds, so it does not hold on this target", e.pname(pid), e.xname(x)),
            }));
        }
        Err(self.deny(Step::Paths, |e| {
            // A path that would hold but no longer counts says why, and since when (R52).
            if let Some(why) = e.lapsed(p, x, tgt, reach) {
                return format!("{} has no path to {} here now: {why}", e.pname(pid), e.xname(x));
            }
            match reach {
                Reach::Home => format!(
                    "{} has no role holding {} in tenant {}",
                    e.pname(pid),
                    e.xname(x),
                    e.tname(tgt.tenant)
                ),
                Reach::Anywhere => format!(
                    "{} has no role holding {} in tenant {}, directly or through a grant",
                    e.pname(pid),
                    e.xname(x),
                    e.tname(tgt.tenant)
                ),
                Reach::Switched(c) => format!(
                    "{}, switched into {}, is given no role holding {} there through a grant",
                    e.pname(pid),
                    e.tname(c),
                    e.xname(x)
                ),
            }
        }))
    }

    fn direct_paths(
        &mut self,
        p: &Principal,
        x: PermId,
        tgt: &Resolved,
        filter: PathFilter,
        holding: &mut bool,
        passing: &mut bool,
    ) {
        let s = self.s;
        let checks_read = s.catalog.is_checks_read(x);
        // The target's ancestors answer "is the scope above the target?" without looking
        // up the scope's tenant (a cache miss per assignment at scale).
        let ancestors: &[TenantId] = s.tenant(tgt.tenant).map_or(&[], |t| &t.ancestors);
        for a in p.assignments.iter() {
            if !a.live(self.now) || !bundle_holds(s, a.bundle, x) {
                continue;
            }
            let (covers, scope_tenant) = match a.scope {
                Scope::Tenant { tenant, subtree } => {
                    let covers = match filter {
                        PathFilter::Any => {
                            tenant == tgt.tenant || (subtree && ancestors.contains(&tenant))
                        }
                        PathFilter::FromAbove => {
                            subtree && tenant != tgt.tenant && ancestors.contains(&tenant)
                        }
                    };
                    (covers, Some(tenant))
                }
                Scope::Resource { resource } => {
                    let covers = filter == PathFilter::Any
                        && tgt
                            .resource
                            .is_some_and(|r| s.resource_is_ancestor_or_self(resource, r));
                    (covers, s.resource(resource).map(|r| r.tenant))
                }
                Scope::Client { .. } | Scope::Group { .. } => continue,
            };
            if !covers {
                continue;
            }
            // R8: only `checks.read` held from outside a suspended subtree still counts.
            if checks_read && scope_tenant.and_then(|t| s.tenant(t)).is_none_or(|t| t.blocked) {
                continue;
            }
            *holding = true;
            *passing = true;
            if !EXPLAIN {
                return;
            }
            self.record(p.id, "direct", a, None);
        }
    }

    fn record(
        &mut self,
        holder: PrincipalId,
        origin: &'static str,
        a: &Assignment,
        grant: Option<&Grant>,
    ) {
        if !self.recording {
            return;
        }
        let (role, permission) = split_bundle(a.bundle);
        self.paths.push(GrantingPath {
            holder,
            through_delegates: self.via.clone(),
            origin,
            role,
            permission,
            scope: Some(a.scope),
            grant: grant.map(|g| g.id),
            assignment: Some(a.id),
            assigned_by: Some(a.created_by.clone()),
            assigned_at: Some(a.created_at),
            expires_at: a.expires_at,
            grant_approved_by: grant.and_then(|g| g.approved_by.clone()),
            grant_expires_at: grant.and_then(|g| g.expires_at),
        });
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
