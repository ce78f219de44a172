//! Who would lose what (R67) and who holds what, with reasons (R72): both compare or list
//! `check` answers over the tenants a principal can reach, so they agree with `check`.

use crate::check::{Context, GrantingPath, Target};
use crate::ids::*;
use crate::model::*;
use crate::state::{Change, State};
use serde::Serialize;
use std::collections::BTreeSet;

/// One access that a pending change takes away or gives (R67).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct AccessChange {
    pub principal: PrincipalId,
    /// `Some(c)`: the access is used switched into client `c`.
    pub switched: Option<TenantId>,
    pub permission: PermId,
    pub tenant: TenantId,
    /// `Some(r)`: on this resource of `tenant` only, the tenant-wide answer being unchanged
    /// (a delegate limited to kinds, a role on one account).
    pub resource: Option<ResourceId>,
    /// `true`: gained; `false`: lost.
    pub gained: bool,
}

/// The outcome of a what-if: the rows, and whether the budget cut it short.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessDiff {
    pub rows: Vec<AccessChange>,
    /// `None` when every affected principal was compared; else why it stopped (R73).
    pub stopped: Option<String>,
    pub principals_compared: usize,
}

impl AccessDiff {
    /// One page of the rows (R67, R73). The cursor names the revision the diff was computed
    /// on and how many rows came before, so a page is never taken from a different diff.
    pub fn page(
        &self,
        revision: u64,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<(&[AccessChange], Option<String>), String> {
        let start = match cursor {
            None => 0,
            Some(c) => {
                let (rev, offset) = c
                    .strip_prefix('r')
                    .and_then(|c| c.split_once(':'))
                    .and_then(|(r, o)| Some((r.parse::<u64>().ok()?, o.parse::<usize>().ok()?)))
                    .ok_or_else(|| format!("`{c}` is not a what-if cursor"))?;
                if rev != revision {
                    return Err(format!(
                        "the deployment changed since that page (revision {rev}, now {revision}): start again"
                    ));
                }
                offset.min(self.rows.len())
            }
        };
        let end = start.saturating_add(limit.max(1)).min(self.rows.len());
        let next = (end < self.rows.len()).then(|| format!("r{revision}:{end}"));
        Ok((&self.rows[start..end], next))
    }
}

/// One line of an access review (R72).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewRow {
    pub principal: PrincipalId,
    pub switched: Option<TenantId>,
    pub tenant: TenantId,
    pub permission: PermId,
    pub paths: Vec<GrantingPath>,
}

impl State {
    /// Tenants where `principal` may act in a session, as candidates (a superset of where
    /// it passes checks): from its (top owner's) direct assignments at home, or the reach of
    /// the grants to its home tenant when switched.
    pub fn reachable_tenants(
        &self,
        principal: PrincipalId,
        switched: Option<TenantId>,
    ) -> BTreeSet<TenantId> {
        let top = self.top_owner(principal);
        let mut out = BTreeSet::new();
        let Some(p) = self.principal(top) else { return out };
        match switched {
            None => {
                for a in p.assignments.iter() {
                    match a.scope {
                        Scope::Tenant { tenant, subtree: true } => out.extend(self.subtree(tenant)),
                        Scope::Tenant { tenant, subtree: false } => {
                            out.insert(tenant);
                        }
                        _ => {}
                    }
                }
            }
            Some(c) => {
                for g in self.grants_to(p.home).filter(|g| g.client == c) {
                    if g.subtree {
                        out.extend(self.subtree(c));
                    } else {
                        out.insert(c);
                    }
                }
            }
        }
        out
    }

    /// The sessions a principal may use: home, and switched into each client whose grant
    /// reaches its home tenant (through its top owner for a delegate).
    pub fn sessions_of(&self, principal: PrincipalId) -> Vec<Option<TenantId>> {
        let top = self.top_owner(principal);
        let mut out = vec![None];
        if let Some(p) = self.principal(top) {
            let clients: BTreeSet<TenantId> = self.grants_to(p.home).map(|g| g.client).collect();
            out.extend(clients.into_iter().map(Some));
        }
        out
    }

    /// Every (tenant, permission) `principal` holds in each of its sessions, with the paths
    /// (R72: "for a principal, everything it may do and why").
    pub fn review_principal(&self, principal: PrincipalId, now: Millis) -> Vec<ReviewRow> {
        let mut rows = Vec::new();
        for switched in self.sessions_of(principal) {
            for tenant in self.reachable_tenants(principal, switched) {
                self.review_rows(principal, switched, tenant, now, &mut rows);
            }
        }
        rows
    }

    /// Every principal's effective access in `tenant`, with the reasons (R72).
    pub fn review_tenant(&self, tenant: TenantId, now: Millis) -> Vec<ReviewRow> {
        let mut rows = Vec::new();
        let mut subjects: BTreeSet<(PrincipalId, Option<TenantId>)> = BTreeSet::new();
        for x in 0..self.catalog.permissions.len() as u32 {
            if let Ok(found) = self.lookup_subjects_all(Target::Tenant(tenant), PermId(x), now) {
                subjects.extend(found.into_iter().map(|s| (s.principal, s.switched)));
            }
        }
        for (principal, switched) in subjects {
            self.review_rows(principal, switched, tenant, now, &mut rows);
        }
        rows
    }

    /// Every permission `principal` holds on `tenant` in one session, with its paths.
    fn review_rows(
        &self,
        principal: PrincipalId,
        switched: Option<TenantId>,
        tenant: TenantId,
        now: Millis,
        rows: &mut Vec<ReviewRow>,
    ) {
        let ctx = Context { switched, impersonation: None, sessionless: false };
        for x in 0..self.catalog.permissions.len() as u32 {
            let x = PermId(x);
            if let Ok(ex) = self.explain(principal, x, Target::Tenant(tenant), ctx, now)
                && ex.decision.is_allowed()
            {
                rows.push(ReviewRow {
                    principal,
                    switched,
                    tenant,
                    permission: x,
                    paths: ex.paths,
                });
            }
        }
    }
}

/// Principals whose access a change set may touch.
fn affected_principals(before: &State, after: &State, changes: &[Change]) -> BTreeSet<PrincipalId> {
    let mut out = BTreeSet::new();
    for change in changes {
        match change {
            Change::Principal(p) => {
                out.insert(p.id);
            }
            Change::Grant(g) => {
                for s in [before, after] {
                    out.extend(s.members(g.partner).map(|p| p.id));
                }
            }
            Change::Group(g) => owner_principals(after, g.owner, &mut out),
            Change::Placement { owner, .. } => owner_principals(after, *owner, &mut out),
            Change::Tenant(t) => {
                for s in [before, after] {
                    for sub in s.subtree(t.id) {
                        out.extend(s.members(sub).map(|p| p.id));
                        out.extend(s.holders(sub));
                        out.extend(s.client_holders(sub));
                        for g in s.grants_from(sub) {
                            out.extend(s.members(g.partner).map(|p| p.id));
                        }
                    }
                    if let Some(tenant) = s.tenant(t.id) {
                        for a in tenant.ancestors.iter() {
                            out.extend(s.holders(*a));
                        }
                    }
                }
            }
            Change::Catalog { .. } => out.extend(after.principals().map(|p| p.id)),
            Change::Resource(_) | Change::AccessCode(_) | Change::AssignmentCounter { .. } => {}
        }
    }
    // Delegates follow their owners (R35).
    let mut stack: Vec<PrincipalId> = out.iter().copied().collect();
    while let Some(p) = stack.pop() {
        for d in after.delegates_of(p) {
            if out.insert(d) {
                stack.push(d);
            }
        }
    }
    out
}

fn owner_principals(s: &State, owner: GroupOwner, out: &mut BTreeSet<PrincipalId>) {
    match owner {
        GroupOwner::User(u) => {
            out.insert(u);
        }
        GroupOwner::Tenant(t) => out.extend(s.members(t).map(|p| p.id)),
    }
}

/// Compares `check` before and after a pending change for every principal it may touch,
/// on every tenant those principals reach in any session (R67). `should_stop` is polled
/// between principals so the caller can enforce a time budget.
pub fn diff_access(
    before: &State,
    after: &State,
    changes: &[Change],
    now: Millis,
    should_stop: &mut dyn FnMut() -> bool,
) -> AccessDiff {
    let mut rows = Vec::new();
    let principals = affected_principals(before, after, changes);
    let mut compared = 0;
    let n_perms = before.catalog.permissions.len().min(after.catalog.permissions.len()) as u32;
    for principal in &principals {
        if should_stop() {
            return AccessDiff {
                rows,
                stopped: Some(format!(
                    "time budget reached after {compared} of {} principals",
                    principals.len()
                )),
                principals_compared: compared,
            };
        }
        let mut sessions: BTreeSet<Option<TenantId>> =
            before.sessions_of(*principal).into_iter().collect();
        sessions.extend(after.sessions_of(*principal));
        for switched in sessions {
            let ctx = Context { switched, impersonation: None, sessionless: false };
            let mut tenants = before.reachable_tenants(*principal, switched);
            tenants.extend(after.reachable_tenants(*principal, switched));
            for tenant in tenants {
                let mut resources: BTreeSet<ResourceId> = before.resources_of(tenant).collect();
                resources.extend(after.resources_of(tenant));
                for x in 0..n_perms {
                    let x = PermId(x);
                    let allowed = |s: &State, target| {
                        s.check(*principal, x, target, ctx, now).is_ok_and(|d| d.is_allowed())
                    };
                    let target = Target::Tenant(tenant);
                    let (was, will) = (allowed(before, target), allowed(after, target));
                    let row = |resource, gained| AccessChange {
                        principal: *principal,
                        switched,
                        permission: x,
                        tenant,
                        resource,
                        gained,
                    };
                    if was != will {
                        rows.push(row(None, will));
                        // The tenant's row says it for every resource in it.
                        continue;
                    }
                    for r in &resources {
                        let target = Target::Resource(*r);
                        let (was, will) = (allowed(before, target), allowed(after, target));
                        if was != will {
                            rows.push(row(Some(*r), will));
                        }
                    }
                }
            }
        }
        compared += 1;
    }
    rows.sort();
    AccessDiff { rows, stopped: None, principals_compared: compared }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn diff(n: u32) -> AccessDiff {
        let rows = (0..n)
            .map(|i| AccessChange {
                principal: PrincipalId(i),
                switched: None,
                permission: PermId(0),
                tenant: TenantId(0),
                resource: None,
                gained: false,
            })
            .collect();
        AccessDiff { rows, stopped: None, principals_compared: n as usize }
    }

    #[test]
    fn r73_what_if_pages_to_the_end_and_refuses_a_cursor_of_another_revision() {
        let d = diff(5);
        let (first, next) = d.page(9, None, 2).unwrap();
        assert_eq!(first.len(), 2);
        let next = next.unwrap();
        let (second, next2) = d.page(9, Some(&next), 2).unwrap();
        assert_eq!(second[0].principal, PrincipalId(2));
        let (last, end) = d.page(9, next2.as_deref(), 2).unwrap();
        assert_eq!((last.len(), end), (1, None));
        assert!(d.page(10, Some(&next), 2).unwrap_err().contains("changed"));
        assert!(d.page(9, Some("nonsense"), 2).is_err());
    }
}
