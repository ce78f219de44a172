//! Delegates (R34–R39): full access, limited to the owner's groups, to kinds, or narrowed
//! by roles, of customer and partner users; and chains of two or three, their tenants
//! allowing nested delegates.

use super::builder::{Gen, active_of};
use super::users::People;
use super::*;

/// Makes `params.delegates` delegates, 15% of them in chains.
pub(super) fn delegates(g: &mut Gen<'_>, params: &Params, people: &People) {
    let cat = g.cat;
    let (ordinary, group_owners) = (&people.ordinary, &people.group_owners);
    g.meta.first_delegate = g.principals.len() as u32;
    let n_chain = params.delegates * 15 / 100;
    let mut chainable: Vec<PrincipalId> = Vec::new();
    let preparers = std::mem::take(&mut g.meta.preparers);
    let direct_holders = std::mem::take(&mut g.meta.direct_holders);
    let subtree_holders = std::mem::take(&mut g.meta.subtree_holders);
    let partner_users = std::mem::take(&mut g.meta.partner_users);
    let mut made = 0;
    let mut attempts = 0;
    while made < params.delegates - n_chain && attempts < 20 * params.delegates {
        attempts += 1;
        let status = if g.rng.percent(97) { Status::Active } else { Status::Invited };
        let linked = g.rng.percent(50);
        let mut access = DelegateAccess { linked_password: linked, ..DelegateAccess::full() };
        let (owner, list) = match g.rng.weighted(&[30, 18, 12, 32, 8]) {
            0 => {
                let Some((owner, groups)) = g.rng.pick(group_owners).cloned() else { continue };
                let groups = if g.rng.percent(70) {
                    vec![groups[g.rng.below(groups.len())]]
                } else {
                    groups
                };
                access.groups = GroupAccess::Groups(groups);
                (owner, 0)
            }
            1 => {
                let from = if g.rng.percent(50) { &preparers } else { &direct_holders };
                let Some(owner) = active_of(&mut g.rng, &g.principals, from) else { continue };
                let k = *g.rng.pick(&cat.tax_kinds).unwrap_or(&cat.tax_kinds[0]);
                access.kinds = KindAccess::Kinds(vec![k]);
                (owner, 1)
            }
            2 => {
                let Some(owner) = active_of(&mut g.rng, &g.principals, &direct_holders) else {
                    continue;
                };
                let role = g.assignments[owner.index()].iter().find_map(|a| match a.bundle {
                    Bundle::Role(r) if r != cat.default_user && r != cat.admin => Some(r),
                    _ => None,
                });
                let Some(role) = role else { continue };
                access.roles = vec![role];
                (owner, 1)
            }
            3 => {
                let from = match g.rng.below(10) {
                    0..=2 => &subtree_holders,
                    3..=6 => &direct_holders,
                    _ => ordinary,
                };
                let Some(owner) = active_of(&mut g.rng, &g.principals, from) else { continue };
                (owner, 1)
            }
            _ => {
                let Some(owner) = active_of(&mut g.rng, &g.principals, &partner_users) else {
                    continue;
                };
                (owner, 2)
            }
        };
        if !g.is_active(owner) {
            continue;
        }
        let d = g.delegate(owner, access, status);
        match list {
            0 => g.meta.group_delegates.push(d),
            1 => g.meta.other_delegates.push(d),
            _ => g.meta.partner_delegates.push(d),
        }
        if status == Status::Active && list == 1 {
            chainable.push(d);
        }
        made += 1;
    }
    g.meta.preparers = preparers;
    g.meta.direct_holders = direct_holders;
    g.meta.subtree_holders = subtree_holders;
    g.meta.partner_users = partner_users;
    for _ in 0..n_chain {
        let Some(&owner) = g.rng.pick(&chainable) else { break };
        let home = g.principals[owner.index()].home;
        g.tenants[home.index()].nested_delegates_allowed = true;
        let mut access = DelegateAccess::full();
        if g.rng.percent(30) {
            let k = *g.rng.pick(&cat.tax_kinds).unwrap_or(&cat.tax_kinds[0]);
            access.kinds = KindAccess::Kinds(vec![k]);
        }
        let d = g.delegate(owner, access, Status::Active);
        g.meta.chain_delegates.push(d);
        if g.chain[d.index()] < 3 {
            chainable.push(d);
        }
    }
}
