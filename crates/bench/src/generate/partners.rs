//! Partners (R40–R47): grants from clients (some subtree, some limited to kinds, a few
//! proposed, revoked or expired), each partner's groups of clients, and its staff's
//! per-client and group-scoped partner roles.

use super::builder::Gen;
use super::tenants::Tree;
use super::users::People;
use super::*;

/// Makes `params.grants` grants, the partners' groups, and their staff's partner roles.
pub(super) fn partners(g: &mut Gen<'_>, params: &Params, tree: &Tree, people: &mut People) {
    let cat = g.cat;
    let Tree { root, n_partners, .. } = *tree;
    let (customer_tenants, company_tops) = (&tree.customer_tenants, &tree.company_tops);
    let mut pairs: HashSet<(TenantId, TenantId)> = HashSet::with_capacity(params.grants);
    for _ in 0..params.grants {
        let mut chosen = None;
        for _ in 0..64 {
            let i = g.rng.below(n_partners);
            let client = if g.rng.percent(60) {
                *g.rng.pick(&g.meta.companies).unwrap_or(&root)
            } else {
                *g.rng.pick(customer_tenants).unwrap_or(&root)
            };
            if client != root && pairs.insert((client, g.meta.partners[i])) {
                chosen = Some((i, client));
                break;
            }
        }
        let Some((i, client)) = chosen else { continue };
        let partner = g.meta.partners[i];
        let (ceiling, _) = cat.profile(i);
        let subtree = company_tops.contains(&client) && g.rng.percent(60);
        let kinds = (i % 5 == 3 && g.rng.percent(30))
            .then(|| vec![*g.rng.pick(&cat.tax_kinds).unwrap_or(&cat.tax_kinds[0])]);
        let status = match g.rng.below(100) {
            0..=2 => GrantStatus::Proposed,
            3..=5 => GrantStatus::Revoked,
            _ => GrantStatus::Active,
        };
        let (expires_at, auto_extend) = match g.rng.below(100) {
            0..=2 => (Some(NOW - DAY), false),
            3..=14 => (Some(NOW + 2 * 365 * DAY), true),
            _ => (None, false),
        };
        let id = GrantId(g.grants.len() as u32);
        let approved = status != GrantStatus::Proposed;
        g.grants.push(Grant {
            id,
            client,
            partner,
            ceiling,
            kinds,
            subtree,
            expires_at,
            auto_extend,
            status,
            bound_to: None,
            proposed_by: Author::System,
            approved_by: approved.then_some(Author::System),
            created_at: NOW - 150 * DAY,
            approved_at: approved.then_some(NOW - 150 * DAY),
            expiry_noticed: None,
            revoked_at: None,
        });
        g.meta.partner_clients.entry(partner).or_default().push(client);
    }
    for (i, partner) in g.meta.partners.clone().into_iter().enumerate() {
        let owner = GroupOwner::Tenant(partner);
        let _default = g.group(owner, "Default", true);
        let tiers: Vec<GroupId> =
            ["Tier A", "Tier B", "Tier C"].iter().map(|n| g.group(owner, n, false)).collect();
        let clients = g.meta.partner_clients.get(&partner).cloned().unwrap_or_default();
        for c in &clients {
            if g.rng.percent(70) {
                let tier = tiers[g.rng.below(tiers.len())];
                g.place(owner, *c, tier);
            }
        }
        let (_, staff_roles) = cat.profile(i);
        for u in std::mem::take(&mut people.partner_staff[i]) {
            if clients.is_empty() {
                break;
            }
            match g.rng.below(100) {
                0..=59 => {
                    for _ in 0..g.rng.between(1, 4) {
                        let c = clients[g.rng.below(clients.len())];
                        let role = staff_roles[g.rng.below(staff_roles.len())];
                        g.assign(u, role, Scope::Client { client: c }, None);
                    }
                }
                60..=84 => {
                    let tier = tiers[g.rng.below(tiers.len())];
                    let role = staff_roles[g.rng.below(staff_roles.len())];
                    g.assign(u, role, Scope::Group { group: tier }, None);
                }
                _ => continue,
            }
            g.meta.partner_users.push(u);
        }
    }
}
