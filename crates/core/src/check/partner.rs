//! Step 6's partner paths (R41, R43, R45, R47): grants from the target or, with subtree
//! scope, from above it, reached by the session's switched tenant, through roles given
//! for the client (per client or through a group) or held as customer manager.

use super::*;

impl<'s, const EXPLAIN: bool> Eval<'s, EXPLAIN> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn partner_paths(
        &mut self,
        p: &Principal,
        x: PermId,
        tgt: &Resolved,
        client: TenantId,
        filter: PathFilter,
        holding: &mut bool,
        passing: &mut bool,
    ) {
        let s = self.s;
        let Some(t) = s.tenant(tgt.tenant) else { return };
        // The switched tenant must be the target or above it.
        let Some(client_pos) = t.ancestors.iter().position(|a| *a == client) else { return };
        let checks_read = s.catalog.is_checks_read(x);
        let core = s.catalog.core.contains(x);
        let customer_manager = self.customer_manager(p);
        // Grants from the target or, with subtree, from its ancestors (R47).
        for (pos, &granter) in t.ancestors.iter().enumerate().rev() {
            let granter_is_target = granter == tgt.tenant;
            if filter == PathFilter::FromAbove && granter_is_target {
                continue;
            }
            for g in s.grants_between(granter, p.home) {
                if !(granter_is_target || g.subtree) {
                    continue;
                }
                // The session must be switched into the grant's reach: the granter is the
                // switched tenant, or above it with a subtree grant.
                if !(client == granter || (g.subtree && pos <= client_pos)) {
                    continue;
                }
                if checks_read && s.tenant(granter).is_none_or(|t| t.blocked) {
                    continue;
                }
                let Some((ceiling, kinds)) = s.effective_grant(g, self.now) else { continue };
                let kind_ok = match kinds {
                    None => true,
                    Some(ks) => match (tgt.resource, tgt.kind) {
                        (Some(_), Some(k)) => ks.contains(&k),
                        (Some(_), None) => false,
                        (None, _) => core,
                    },
                };
                // Roles given for this client, per client or through a group (R41).
                for a in p.assignments.iter() {
                    if !a.live(self.now) {
                        continue;
                    }
                    let for_client = match a.scope {
                        Scope::Client { client: c } => c == granter,
                        Scope::Group { group } => s.group(group).is_some_and(|gr| {
                            !gr.deleted
                                && gr.owner == GroupOwner::Tenant(p.home)
                                && s.group_of(GroupOwner::Tenant(p.home), granter) == Some(group)
                        }),
                        _ => false,
                    };
                    if !for_client {
                        continue;
                    }
                    let within = match a.bundle {
                        Bundle::Role(r) => s.within_ceiling(r, ceiling),
                        Bundle::Permission(perm) => {
                            ceiling.iter().any(|c| s.catalog.role(*c).permissions.contains(perm))
                        }
                    };
                    if !within || !bundle_holds(s, a.bundle, x) {
                        continue;
                    }
                    *holding = true;
                    if kind_ok {
                        *passing = true;
                        if !EXPLAIN {
                            return;
                        }
                        self.record_partner(p.id, "partner", Some(a), a.bundle, g);
                    }
                }
                // A customer manager counts as holding every ceiling role (R30, R45).
                if customer_manager {
                    for &r in ceiling {
                        if !s.catalog.role(r).permissions.contains(x) {
                            continue;
                        }
                        *holding = true;
                        if kind_ok {
                            *passing = true;
                            if !EXPLAIN {
                                return;
                            }
                            self.record_partner(p.id, "customer-manager", None, Bundle::Role(r), g);
                        }
                    }
                }
            }
        }
    }

    /// Whether `p` holds the customer-manager role in its own (partner) tenant.
    pub(super) fn customer_manager(&self, p: &Principal) -> bool {
        let s = self.s;
        if !s.tenant(p.home).is_some_and(|t| t.partner) {
            return false;
        }
        p.assignments.iter().any(|a| {
            a.live(self.now)
                && matches!(a.bundle, Bundle::Role(r) if s.catalog.role(r).customer_manager)
                && matches!(a.scope, Scope::Tenant { tenant, subtree } if tenant == p.home || (subtree && s.is_ancestor_or_self(tenant, p.home)))
        })
    }

    pub(super) fn record_partner(
        &mut self,
        holder: PrincipalId,
        origin: &'static str,
        a: Option<&Assignment>,
        bundle: Bundle,
        g: &Grant,
    ) {
        if !self.recording {
            return;
        }
        match a {
            Some(a) => self.record(holder, origin, a, Some(g)),
            None => {
                let (role, permission) = split_bundle(bundle);
                self.paths.push(GrantingPath {
                    holder,
                    through_delegates: self.via.clone(),
                    origin,
                    role,
                    permission,
                    scope: None,
                    grant: Some(g.id),
                    assignment: None,
                    assigned_by: None,
                    assigned_at: None,
                    expires_at: None,
                    grant_approved_by: g.approved_by.clone(),
                    grant_expires_at: g.expires_at,
                });
            }
        }
    }
}
