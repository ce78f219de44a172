//! Resources: mixed types in every customer tenant (data sources under instances, some
//! reports under matters), the lookup fixture's 10,000, and roles on one resource.

use super::builder::Gen;
use super::tenants::Tree;
use super::users::People;
use super::*;

/// Makes the resources of `params.resources` and gives the resource candidates of `people`
/// a role on one of them (or, finding none, leaves them ordinary).
pub(super) fn resources(g: &mut Gen<'_>, params: &Params, tree: &Tree, people: &mut People) {
    let cat = g.cat;
    let (customer_tenants, fixture) = (&tree.customer_tenants, &tree.fixture);
    let resource_counts = g.rng.spread(params.resources, customer_tenants.len(), 0);
    for (t, n) in customer_tenants.iter().zip(&resource_counts) {
        g.resources_in(*t, *n);
    }
    let per_fixture_tenant = FIXTURE_RESOURCES / FIXTURE_TENANTS;
    for t in fixture {
        let start = g.resources.len() as u32;
        for _ in 0..per_fixture_tenant {
            let k = *g.rng.pick(&cat.tax_kinds).unwrap_or(&cat.tax_kinds[0]);
            let (ty, kind) =
                if g.rng.percent(50) { (cat.report, None) } else { (cat.tax_account, Some(k)) };
            g.resource(*t, ty, kind, None);
        }
        g.resource_range[t.index()] = (start, g.resources.len() as u32 - start);
    }
    // Roles on one resource: a matter (viewer or paralegal) or an instance.
    for u in std::mem::take(&mut people.resource_candidates) {
        let home = g.principals[u.index()].home;
        let (start, len) = g.resource_range[home.index()];
        let found = (start..start + len).map(ResourceId).find(|r| {
            let ty = g.resources[r.index()].resource_type;
            ty == cat.matter || ty == cat.instance
        });
        let Some(r) = found else {
            people.ordinary.push(u);
            continue;
        };
        let role = if g.resources[r.index()].resource_type == cat.instance {
            cat.data_estate_admin
        } else if g.rng.percent(50) {
            cat.viewer
        } else {
            cat.paralegal
        };
        g.assign(u, role, Scope::Resource { resource: r }, None);
        g.meta.resource_holders.push(u);
    }
}
