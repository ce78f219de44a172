//! The tenant tree: the root, partner tenants, customer companies with two or three levels
//! of sub-tenants (a few suspended, some with narrowed or extra entitlements, R3), and the
//! lookup fixture (`bigco`, its regions and sites).

use super::builder::Gen;
use super::*;

/// The tenants the later phases pick from.
#[derive(Debug)]
pub(super) struct Tree {
    pub(super) root: TenantId,
    pub(super) n_partners: usize,
    /// Each company's tenants, its top first.
    pub(super) company_tenants: Vec<Vec<TenantId>>,
    /// Every company's tenants, tops and sub-tenants.
    pub(super) customer_tenants: Vec<TenantId>,
    /// The companies' top tenants.
    pub(super) company_tops: HashSet<TenantId>,
    pub(super) bigco: TenantId,
    /// The lookup fixture: `bigco`, its regions and its sites.
    pub(super) fixture: Vec<TenantId>,
}

/// Builds the tree of `params.tenants` tenants and the lookup fixture beside it.
pub(super) fn tree(g: &mut Gen<'_>, params: &Params) -> Tree {
    let cat = g.cat;
    let root = g.tenant(None, "root".into(), "Operator".into(), PermSet::EMPTY, false);
    g.meta.root = root;
    let n_partners = (params.tenants / 50).max(5);
    let n_companies = (params.tenants / 10).max(10);
    let n_subs = params.tenants.saturating_sub(1 + n_partners + n_companies);
    for i in 0..n_partners {
        let t = g.child(root, format!("partner-{i}"), format!("Partner {i}"));
        g.tenants[t.index()].partner = true;
        g.meta.partners.push(t);
    }
    let subs_per_company = g.rng.spread(n_subs, n_companies, 0);
    let mut company_tenants: Vec<Vec<TenantId>> = Vec::with_capacity(n_companies);
    for (c, n_sub) in subs_per_company.iter().enumerate() {
        // R3: some companies are not entitled to backups, some get the API on top.
        let own = match g.rng.below(10) {
            0 => cat.default_entitlements.minus(cat.narrowed),
            1 => {
                let mut set = cat.default_entitlements;
                set.insert(cat.api_access);
                set
            }
            _ => cat.default_entitlements,
        };
        let top = g.tenant(Some(root), format!("co-{c}"), format!("Company {c}"), own, false);
        g.meta.companies.push(top);
        let mut members = vec![top];
        for j in 0..*n_sub {
            let parent = if j < 3 {
                top
            } else {
                let mut parent = top;
                for _ in 0..8 {
                    let candidate = members[g.rng.below(members.len())];
                    if g.depth[candidate.index()] <= 3 {
                        parent = candidate;
                        break;
                    }
                }
                parent
            };
            let id = g.tenants.len();
            let t = g.child(parent, format!("t-{id}"), format!("Site {id}"));
            if g.rng.below(200) == 0 {
                g.tenants[t.index()].suspended = true;
            }
            members.push(t);
        }
        company_tenants.push(members);
    }
    let customer_tenants: Vec<TenantId> = company_tenants.iter().flatten().copied().collect();
    // The lookup fixture: bigco → 20 regions → 479 sites.
    let bigco = g.child(root, "bigco".into(), "BigCo Holdings".into());
    let regions: Vec<TenantId> = (0..FIXTURE_REGIONS)
        .map(|i| g.child(bigco, format!("bigco-r{i}"), format!("BigCo Region {i}")))
        .collect();
    let mut fixture = vec![bigco];
    fixture.extend(&regions);
    for i in 0..FIXTURE_TENANTS - 1 - FIXTURE_REGIONS {
        let region = regions[i % regions.len()];
        fixture.push(g.child(region, format!("bigco-s{i}"), format!("BigCo Site {i}")));
    }
    g.meta.lookup_root = bigco;
    let company_tops: HashSet<TenantId> = g.meta.companies.iter().copied().collect();
    Tree { root, n_partners, company_tenants, customer_tenants, company_tops, bigco, fixture }
}
