//! Lookups (R53, R73): every target a principal may act on, every principal that may act on
//! a target. Candidates come from the indexes; each is then confirmed by `check` itself, so
//! a lookup agrees with `check` on every element by construction.

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
            let ctx = Context { switched: s.switched, impersonation: None };
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
