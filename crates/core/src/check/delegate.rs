//! Step 9 (R35, R38): a delegate acts within its groups, kinds and narrowing roles, and
//! never beyond its owner.

use super::*;

impl<'s, const EXPLAIN: bool> Eval<'s, EXPLAIN> {
    /// Step 9 (R35, R38): a delegate acts within its groups, kinds and narrowing roles, and
    /// never beyond its owner.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn delegate_step(
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
}
