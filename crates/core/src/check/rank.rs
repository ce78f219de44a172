//! Ranks (R29a): the highest role step 6 counts for a principal in a tenant, in a
//! session, compared by number and then by origin.

use super::*;

impl<'s, const EXPLAIN: bool> Eval<'s, EXPLAIN> {
    /// R29a in the paths `reach` counts: without a session, the better of home and of
    /// a session switched into the tenant itself (which reaches every grant step 6 counts).
    pub(super) fn rank_in(
        &mut self,
        pid: PrincipalId,
        tenant: TenantId,
        reach: Reach,
        depth: u32,
    ) -> Rank {
        match reach {
            Reach::Home => self.rank(pid, tenant, None, depth),
            Reach::Switched(c) => self.rank(pid, tenant, Some(c), depth),
            Reach::Anywhere => {
                let home = self.rank(pid, tenant, None, depth);
                home.max(self.rank(pid, tenant, Some(tenant), depth))
            }
        }
    }

    /// R29a.
    pub(super) fn rank(
        &mut self,
        pid: PrincipalId,
        tenant: TenantId,
        switched: Option<TenantId>,
        depth: u32,
    ) -> Rank {
        let s = self.s;
        let Some(p) = s.principal(pid) else { return Rank::NONE };
        if depth > MAX_DEPTH {
            return Rank::NONE;
        }
        if let (Some(owner), Some(access)) = (p.owner(), &p.delegate) {
            let owner_rank = self.rank(owner, tenant, switched, depth + 1);
            let cap = access.roles.iter().map(|r| s.catalog.role(*r).rank).max();
            return match cap {
                Some(cap) if cap < owner_rank.value => Rank { value: cap, from_above: false },
                _ => owner_rank,
            };
        }
        let mut best: Option<Rank> = None;
        let mut consider = |rank: Rank| best = Some(best.map_or(rank, |b| b.max(rank)));
        match switched {
            None => {
                for a in p.assignments.iter() {
                    if !a.live(self.now) {
                        continue;
                    }
                    if let Scope::Tenant { tenant: at, subtree } = a.scope
                        && (at == tenant || (subtree && s.is_ancestor_or_self(at, tenant)))
                    {
                        consider(Rank {
                            value: bundle_rank(s, a.bundle),
                            from_above: at != tenant,
                        });
                    }
                }
            }
            Some(client) => {
                let Some(t) = s.tenant(tenant) else { return Rank::NONE };
                if !s.is_ancestor_or_self(client, tenant) {
                    return Rank::NONE;
                }
                let customer_manager = self.customer_manager(p);
                for &granter in t.ancestors.iter().rev() {
                    for g in s.grants_between(granter, p.home) {
                        if !(granter == tenant || g.subtree) {
                            continue;
                        }
                        if !(client == granter
                            || (g.subtree && s.is_ancestor_or_self(granter, client)))
                        {
                            continue;
                        }
                        let Some((ceiling, _)) = s.effective_grant(g, self.now) else { continue };
                        for a in p.assignments.iter().filter(|a| a.live(self.now)) {
                            let for_client = match a.scope {
                                Scope::Client { client: c } => c == granter,
                                Scope::Group { group } => {
                                    s.group_of(GroupOwner::Tenant(p.home), granter) == Some(group)
                                }
                                _ => false,
                            };
                            let within = match a.bundle {
                                Bundle::Role(r) => s.within_ceiling(r, ceiling),
                                Bundle::Permission(_) => true,
                            };
                            if for_client && within {
                                consider(Rank {
                                    value: bundle_rank(s, a.bundle),
                                    from_above: true,
                                });
                            }
                        }
                        if customer_manager {
                            for r in ceiling {
                                consider(Rank { value: s.catalog.role(*r).rank, from_above: true });
                            }
                        }
                    }
                }
            }
        }
        best.unwrap_or(Rank::NONE)
    }
}
