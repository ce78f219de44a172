//! Users: every tenant's first user its contact and admin (R4); partners' staff and customer
//! managers (R30); customer users with tenant-scoped, subtree or (later) resource roles, a
//! few deactivated or invited; the lookup fixture's auditor; preparers (S1) with groups of
//! their clients, and company admins grouping their sub-tenants (R38).

use super::builder::{Gen, active_of};
use super::tenants::Tree;
use super::*;

/// The users the later phases give more to.
#[derive(Debug)]
pub(super) struct People {
    /// Each partner's staff, given partner roles with the grants.
    pub(super) partner_staff: Vec<Vec<PrincipalId>>,
    /// Customer users with the default role only: owners for preparers and delegates.
    pub(super) ordinary: Vec<PrincipalId>,
    /// Customer users to be given a role on one resource of their tenant.
    pub(super) resource_candidates: Vec<PrincipalId>,
    /// Users who own groups, with their groups other than Default.
    pub(super) group_owners: Vec<(PrincipalId, Vec<GroupId>)>,
}

/// Makes the users of `params.users` in the tenants of `tree`.
pub(super) fn people(g: &mut Gen<'_>, params: &Params, tree: &Tree) -> People {
    let cat = g.cat;
    let Tree { root, n_partners, bigco, .. } = *tree;
    let (customer_tenants, company_tenants) = (&tree.customer_tenants, &tree.company_tenants);
    let company_tops = &tree.company_tops;
    g.meta.operator = g.user(root, Status::Active);
    let n_partner_users = params.users / 10;
    let n_customer_users = params.users.saturating_sub(n_partner_users + 3);
    let partner_counts = g.rng.spread(n_partner_users, n_partners, 3);
    let mut partner_staff: Vec<Vec<PrincipalId>> = vec![Vec::new(); n_partners];
    for (i, n) in partner_counts.iter().enumerate() {
        let partner = g.meta.partners[i];
        for k in 0..*n {
            let status = g.user_status();
            let u = g.user(partner, status);
            if k == 0 {
                continue;
            }
            if k <= 2 && g.is_active(u) {
                let scope = Scope::Tenant { tenant: partner, subtree: false };
                g.assign(u, cat.customer_manager, scope, None);
                g.meta.customer_managers.push(u);
            } else {
                partner_staff[i].push(u);
            }
        }
    }
    let customer_counts = g.rng.spread(n_customer_users, customer_tenants.len(), 1);
    let mut ordinary: Vec<PrincipalId> = Vec::new();
    let mut resource_candidates: Vec<PrincipalId> = Vec::new();
    for (t, n) in customer_tenants.iter().zip(&customer_counts) {
        for k in 0..*n {
            let status = g.user_status();
            let u = g.user(*t, status);
            if k == 0 {
                if g.n_children[t.index()] > 0 {
                    g.meta.subtree_holders.push(u);
                }
                continue;
            }
            if company_tops.contains(t) && g.rng.percent(15) {
                g.assign(u, cat.senior_manager, Scope::Tenant { tenant: *t, subtree: true }, None);
                g.meta.subtree_holders.push(u);
                continue;
            }
            let scope = Scope::Tenant { tenant: *t, subtree: false };
            match g.rng.weighted(&[25, 10, 5, 5, 7, 48]) {
                0 => g.assign(u, cat.read_only, scope, None),
                1 => g.assign(u, cat.tax_preparer, scope, None),
                2 => g.assign(u, cat.paralegal, scope, None),
                3 => {
                    // Some roles are given for a while only.
                    let expires = g.rng.percent(20).then_some(NOW + 365 * DAY);
                    g.assign(u, cat.data_estate_admin, scope, expires)
                }
                4 => {
                    resource_candidates.push(u);
                    continue;
                }
                _ => {
                    ordinary.push(u);
                    continue;
                }
            }
            g.meta.direct_holders.push(u);
        }
    }
    let _fixture_admin = g.user(bigco, Status::Active);
    let auditor = g.user(bigco, Status::Active);
    g.assign(auditor, cat.read_only, Scope::Tenant { tenant: bigco, subtree: true }, None);
    g.meta.lookup_principal = auditor;

    // Preparers (S1): roles in several client companies, groups of those clients.
    let n_preparers = (params.users / 50).max(5);
    let mut group_owners: Vec<(PrincipalId, Vec<GroupId>)> = Vec::new();
    for _ in 0..n_preparers {
        let Some(u) = active_of(&mut g.rng, &g.principals, &ordinary) else { break };
        let owner = GroupOwner::User(u);
        let home = g.principals[u.index()].home;
        let _default = g.group(owner, "Default", true);
        let payroll = g.group(owner, "Payroll clients", false);
        let sales = g.group(owner, "Sales clients", false);
        let role = if g.rng.percent(70) { cat.tax_preparer } else { cat.paralegal };
        let n = g.rng.between(3, 8);
        let mut clients = HashSet::new();
        for _ in 0..n {
            let Some(&client) = g.rng.pick(customer_tenants) else { break };
            if client == home || !clients.insert(client) {
                continue;
            }
            g.assign(u, role, Scope::Tenant { tenant: client, subtree: false }, None);
            match g.rng.below(10) {
                0..=3 => g.place(owner, client, payroll),
                4..=7 => g.place(owner, client, sales),
                _ => {}
            }
        }
        g.meta.preparers.push(u);
        group_owners.push((u, vec![payroll, sales]));
    }
    // Company admins grouping their sub-tenants (R38).
    for members in company_tenants {
        if members.len() < 3 || !g.rng.percent(30) {
            continue;
        }
        let Some(admin) = g.tenants[members[0].index()].contact else { continue };
        let owner = GroupOwner::User(admin);
        let _default = g.group(owner, "Default", true);
        let north = g.group(owner, "North", false);
        let south = g.group(owner, "South", false);
        for t in &members[1..] {
            match g.rng.below(10) {
                0..=3 => g.place(owner, *t, north),
                4..=7 => g.place(owner, *t, south),
                _ => {}
            }
        }
        group_owners.push((admin, vec![north, south]));
    }
    People { partner_staff, ordinary, resource_candidates, group_owners }
}
