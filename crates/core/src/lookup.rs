//! Lookups (R53, R73): every target a principal may act on, every principal that may act on
//! a target. Candidates come from the indexes; each is then confirmed by `check` itself, so
//! a lookup agrees with `check` on every element by construction.
//!
//! Also where a principal has *standing*: the tenants it is tied to, whatever the state of
//! the ties. The check endpoints answer a caller about the principals with standing where
//! it holds `checks.read` (R58), so a portal's back end checks its members, the partner users
//! given roles in it and their secondary logons, and learns nothing of anybody else.

use crate::check::{CheckError, Context, Target};
use crate::ids::*;
use crate::model::*;
use crate::state::State;
use serde::Serialize;
use std::collections::BTreeSet;

/// One page of a lookup; `next` is the cursor of the following page, `None` at the end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// A principal that passes a check, with the session in which it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Subject {
    pub principal: PrincipalId,
    /// `None`: at home; `Some(c)`: switched into client `c`.
    pub switched: Option<TenantId>,
}

fn target_cursor(t: &Target) -> String {
    match t {
        Target::Tenant(id) => id.to_string(),
        Target::Resource(id) => id.to_string(),
    }
}

fn paginate<T: Clone>(
    items: &[T],
    cursor: Option<&str>,
    limit: usize,
    key: impl Fn(&T) -> String,
) -> Page<T> {
    let start = match cursor {
        Some(c) => items.iter().position(|i| key(i) == c).map_or(0, |p| p + 1),
        None => 0,
    };
    let limit = limit.max(1);
    let end = (start + limit).min(items.len());
    let page = items[start.min(items.len())..end].to_vec();
    let next = if end < items.len() { page.last().map(&key) } else { None };
    Page { items: page, next }
}

impl State {
    /// The principal at the top of an owner chain (delegates reach nothing their owners
    /// cannot).
    pub(crate) fn top_owner(&self, mut p: PrincipalId) -> PrincipalId {
        for _ in 0..64 {
            match self.principal(p).and_then(|x| x.owner()) {
                Some(o) => p = o,
                None => break,
            }
        }
        p
    }

    /// Whether `principal` has standing in `tenant` (R58): it, or the owner at the top of its
    /// owner chain, is homed there, holds an assignment there (on the tenant, on one of its
    /// resources, or for it as a client) or above it with subtree scope, or its home holds a
    /// grant from the tenant or, with subtree, from above it.
    ///
    /// Ties count in any state (an expired assignment, a revoked grant, a deactivated
    /// principal), so losing access reads "denied", not "not found". On the check path: no
    /// allocation, only the principal's own assignments and the tenant's ancestors' grants.
    pub fn has_standing_in(&self, principal: PrincipalId, tenant: TenantId) -> bool {
        let Some(t) = self.tenant(tenant) else { return false };
        if self.principal(principal).is_some_and(|p| p.home == tenant) {
            return true;
        }
        let Some(top) = self.principal(self.top_owner(principal)) else { return false };
        if top.home == tenant {
            return true;
        }
        let reaches =
            |at: TenantId, subtree: bool| at == tenant || (subtree && t.ancestors.contains(&at));
        let assigned = top.assignments.iter().any(|a| match a.scope {
            Scope::Tenant { tenant: at, subtree } => reaches(at, subtree),
            Scope::Resource { resource } => {
                self.resource(resource).is_some_and(|r| r.tenant == tenant)
            }
            Scope::Client { client } => client == tenant,
            // The group's clients hold grants to the home: counted below.
            Scope::Group { .. } => false,
        });
        assigned
            || t.ancestors.iter().any(|&granter| {
                self.grants_between(granter, top.home).any(|g| reaches(granter, g.subtree))
            })
    }

    /// The tenants where `principal` has standing of its own, each with whether it reaches
    /// the tenant's subtree (see [`State::has_standing_in`]).
    pub fn standing(&self, principal: PrincipalId) -> Vec<(TenantId, bool)> {
        let mut out = Vec::new();
        if let Some(p) = self.principal(principal) {
            out.push((p.home, false));
        }
        if let Some(top) = self.principal(self.top_owner(principal)) {
            out.push((top.home, false));
            for a in top.assignments.iter() {
                match a.scope {
                    Scope::Tenant { tenant, subtree } => out.push((tenant, subtree)),
                    Scope::Resource { resource } => {
                        out.extend(self.resource(resource).map(|r| (r.tenant, false)))
                    }
                    Scope::Client { client } => out.push((client, false)),
                    Scope::Group { .. } => {}
                }
            }
            out.extend(self.grants_to(top.home).map(|g| (g.client, g.subtree)));
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether `principal` has standing in some tenant for which `holds` is true (R58: the
    /// tenants where the caller `caller` holds `checks.read`).
    ///
    /// Such a tenant is one where the caller has standing, or one where the principal has
    /// standing inside a subtree the caller's standing reaches: a caller holds a permission
    /// only where it has standing itself. `holds` is asked only of these candidates.
    pub fn meets(
        &self,
        principal: PrincipalId,
        caller: PrincipalId,
        holds: &mut dyn FnMut(TenantId) -> bool,
    ) -> bool {
        let mine = self.standing(caller);
        if mine.iter().any(|&(t, _)| self.has_standing_in(principal, t) && holds(t)) {
            return true;
        }
        self.standing(principal).into_iter().any(|(t, _)| {
            mine.iter().any(|&(at, subtree)| subtree && at != t && self.is_ancestor_or_self(at, t))
                && holds(t)
        })
    }

    /// Every tenant and resource where `check(principal, permission, ·, ctx)` passes,
    /// optionally only resources of one type (R53). Ordered tenants first, then resources,
    /// each by id.
    pub fn lookup_resources_all(
        &self,
        principal: PrincipalId,
        permission: PermId,
        resource_type: Option<TypeId>,
        ctx: Context,
        now: Millis,
    ) -> Result<Vec<Target>, CheckError> {
        if self.principal(principal).is_none() {
            return Err(CheckError::UnknownPrincipal(principal.to_string()));
        }
        if permission.index() >= self.catalog.permissions.len() {
            return Err(CheckError::UnknownPermission(permission.to_string()));
        }
        let top = self.top_owner(principal);
        let mut tenants: BTreeSet<TenantId> = BTreeSet::new();
        let mut resources: BTreeSet<ResourceId> = BTreeSet::new();
        let switched = if ctx.impersonation.is_some() { None } else { ctx.switched };
        // Without a session (R51), partner paths count too: every client granting to the
        // principal's home is a candidate, with its subtree for a subtree grant.
        let sessionless = ctx.sessionless && switched.is_none() && ctx.impersonation.is_none();
        if sessionless && let Some(p) = self.principal(top) {
            for g in self.grants_to(p.home) {
                if g.subtree {
                    tenants.extend(self.subtree(g.client));
                } else {
                    tenants.insert(g.client);
                }
            }
        }
        if let Some(p) = self.principal(top) {
            match switched {
                None => {
                    for a in p.assignments.iter() {
                        match a.scope {
                            Scope::Tenant { tenant, subtree: true } => {
                                tenants.extend(self.subtree(tenant))
                            }
                            Scope::Tenant { tenant, subtree: false } => {
                                tenants.insert(tenant);
                            }
                            Scope::Resource { resource } => {
                                self.collect_resource_tree(resource, &mut resources)
                            }
                            _ => {}
                        }
                    }
                }
                Some(c) => {
                    let any_subtree = self.tenant(c).is_some_and(|t| {
                        t.ancestors
                            .iter()
                            .any(|a| self.grants_from(*a).any(|g| g.partner == p.home && g.subtree))
                    });
                    if any_subtree {
                        tenants.extend(self.subtree(c));
                    } else {
                        tenants.insert(c);
                    }
                }
            }
        }
        for t in &tenants {
            resources.extend(self.resources_of(*t));
        }
        let mut out = Vec::new();
        if resource_type.is_none() {
            for t in tenants {
                if self.check(principal, permission, Target::Tenant(t), ctx, now)?.is_allowed() {
                    out.push(Target::Tenant(t));
                }
            }
        }
        for r in resources {
            if resource_type
                .is_some_and(|ty| self.resource(r).is_none_or(|res| res.resource_type != ty))
            {
                continue;
            }
            if self.check(principal, permission, Target::Resource(r), ctx, now)?.is_allowed() {
                out.push(Target::Resource(r));
            }
        }
        Ok(out)
    }

    fn collect_resource_tree(&self, root: ResourceId, out: &mut BTreeSet<ResourceId>) {
        let mut stack = vec![root];
        while let Some(r) = stack.pop() {
            if out.insert(r) {
                stack.extend(self.resource_children(r));
            }
        }
    }

    /// One page of [`State::lookup_resources_all`] (R53, R73): never truncated silently.
    #[allow(clippy::too_many_arguments)]
    pub fn lookup_resources(
        &self,
        principal: PrincipalId,
        permission: PermId,
        resource_type: Option<TypeId>,
        ctx: Context,
        now: Millis,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Page<Target>, CheckError> {
        let all = self.lookup_resources_all(principal, permission, resource_type, ctx, now)?;
        Ok(paginate(&all, cursor, limit, target_cursor))
    }

    /// Every principal for whom the check on `target` passes, each in the session where it
    /// does: at home for direct holders, switched into the granting client for partner
    /// users; delegates follow their owners (R53).
    pub fn lookup_subjects_all(
        &self,
        target: Target,
        permission: PermId,
        now: Millis,
    ) -> Result<Vec<Subject>, CheckError> {
        if permission.index() >= self.catalog.permissions.len() {
            return Err(CheckError::UnknownPermission(permission.to_string()));
        }
        let resolved = self.resolve(target)?;
        let Some(t) = self.tenant(resolved.tenant) else { return Ok(Vec::new()) };
        let mut candidates: BTreeSet<Subject> = BTreeSet::new();
        for a in t.ancestors.iter() {
            candidates.extend(self.holders(*a).map(|p| Subject { principal: p, switched: None }));
            for g in self.grants_from(*a) {
                if *a != resolved.tenant && !g.subtree {
                    continue;
                }
                candidates.extend(
                    self.members(g.partner)
                        .map(|p| Subject { principal: p.id, switched: Some(*a) }),
                );
            }
        }
        if let Some(r) = resolved.resource {
            let mut current = Some(r);
            while let Some(c) = current {
                candidates.extend(
                    self.resource_holders(c).map(|p| Subject { principal: p, switched: None }),
                );
                current = self.resource(c).and_then(|x| x.parent);
            }
        }
        let mut out = Vec::new();
        let mut stack: Vec<Subject> = candidates.into_iter().collect();
        let mut seen: BTreeSet<Subject> = BTreeSet::new();
        while let Some(s) = stack.pop() {
            if !seen.insert(s) {
                continue;
            }
            let ctx = Context { switched: s.switched, impersonation: None, sessionless: false };
            if self.check(s.principal, permission, target, ctx, now)?.is_allowed() {
                out.push(s);
            }
            // A delegate may pass only where its owner passes for something; follow every
            // owner that is a candidate, passing or not (a requirement may differ).
            stack.extend(
                self.delegates_of(s.principal)
                    .map(|d| Subject { principal: d, switched: s.switched }),
            );
        }
        out.sort();
        Ok(out)
    }

    /// Every principal for whom `check(·, permission, target, ctx)` passes (R51, R53): at
    /// home, switched into one client, or without a session (direct and partner paths
    /// alike), so it agrees with `check` in the same context on every element. Without a
    /// session, a principal that passes only through a grant is reported with the client
    /// it would switch into, when one session alone suffices. An impersonation in `ctx` is
    /// ignored: it names a session, not the principals asked about.
    pub fn lookup_subjects_in(
        &self,
        target: Target,
        permission: PermId,
        ctx: Context,
        now: Millis,
    ) -> Result<Vec<Subject>, CheckError> {
        let asked = Context { impersonation: None, ..ctx };
        let sessionless = asked.sessionless && asked.switched.is_none();
        let per_session = self.lookup_subjects_all(target, permission, now)?;
        let mut candidates: BTreeSet<PrincipalId> =
            per_session.iter().map(|s| s.principal).collect();
        if sessionless {
            // A principal may pass only by mixing paths (a permission through a grant, its
            // requirement directly): every candidate of any session is asked again.
            let resolved = self.resolve(target)?;
            if let Some(t) = self.tenant(resolved.tenant) {
                for a in t.ancestors.iter() {
                    candidates.extend(self.holders(*a));
                    for g in self.grants_from(*a) {
                        if *a == resolved.tenant || g.subtree {
                            candidates.extend(self.members(g.partner).map(|p| p.id));
                        }
                    }
                }
            }
            let mut stack: Vec<PrincipalId> = candidates.iter().copied().collect();
            while let Some(p) = stack.pop() {
                for d in self.delegates_of(p) {
                    if candidates.insert(d) {
                        stack.push(d);
                    }
                }
            }
        }
        let mut out = Vec::new();
        for principal in candidates {
            if !self.check(principal, permission, target, asked, now)?.is_allowed() {
                continue;
            }
            let switched = if sessionless {
                let at_home = per_session.contains(&Subject { principal, switched: None });
                let alone = per_session.iter().find(|s| s.principal == principal);
                if at_home { None } else { alone.and_then(|s| s.switched) }
            } else {
                asked.switched
            };
            out.push(Subject { principal, switched });
        }
        Ok(out)
    }

    /// One page of [`State::lookup_subjects_in`] (R53, R73).
    #[allow(clippy::too_many_arguments)]
    pub fn lookup_subjects_for(
        &self,
        target: Target,
        permission: PermId,
        ctx: Context,
        now: Millis,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Page<Subject>, CheckError> {
        let all = self.lookup_subjects_in(target, permission, ctx, now)?;
        Ok(paginate(&all, cursor, limit, |s| s.principal.to_string()))
    }

    /// One page of [`State::lookup_subjects_all`] (R53, R73).
    pub fn lookup_subjects(
        &self,
        target: Target,
        permission: PermId,
        now: Millis,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Page<Subject>, CheckError> {
        let all = self.lookup_subjects_all(target, permission, now)?;
        Ok(paginate(&all, cursor, limit, |s| match s.switched {
            None => s.principal.to_string(),
            Some(c) => format!("{}@{}", s.principal, c),
        }))
    }
}
