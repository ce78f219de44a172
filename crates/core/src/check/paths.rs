//! Steps 6 and 7 for a principal that is not a delegate: the direct paths (assignments in
//! the target, above it with subtree scope, or on the resource or one above it), the
//! partner paths of `partner`, and every path recorded with its provenance when
//! explaining (R52, R69).

use super::*;

impl<'s, const EXPLAIN: bool> Eval<'s, EXPLAIN> {
    /// Steps 6 and 7 for a principal that is not a delegate.
    pub(super) fn paths_step(
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

    pub(super) fn record(
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
