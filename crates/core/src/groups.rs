//! What a security group holds (R38): the tenants an owner's groups partition, and the
//! tenants of one group. The API's `GET /v1/groups/{id}` and the portal's "Customer
//! Security" page both read these, so they cannot disagree.

use crate::ids::*;
use crate::model::*;
use crate::state::State;

impl State {
    /// The tenants `owner`'s groups partition, in id order: for a user, its home and every
    /// tenant where it holds a direct role (on the tenant or on one of its resources); for
    /// a partner tenant, every client with an active grant to it.
    pub fn tenants_of_group_owner(&self, owner: GroupOwner) -> Vec<TenantId> {
        let mut tenants: Vec<TenantId> = match owner {
            GroupOwner::User(u) => self.principal(u).map_or_else(Vec::new, |p| {
                std::iter::once(p.home)
                    .chain(p.assignments.iter().filter_map(|a| match a.scope {
                        Scope::Tenant { tenant, .. } => Some(tenant),
                        Scope::Resource { resource } => self.resource(resource).map(|r| r.tenant),
                        Scope::Client { .. } | Scope::Group { .. } => None,
                    }))
                    .collect()
            }),
            GroupOwner::Tenant(t) => self
                .grants_to(t)
                .filter(|g| g.status == GrantStatus::Active)
                .map(|g| g.client)
                .collect(),
        };
        tenants.sort_unstable();
        tenants.dedup();
        tenants
    }

    /// The tenants group `g` holds, in id order: those placed in it, and for the Default
    /// group every tenant of its owner placed nowhere else.
    pub fn tenants_in_group(&self, g: &Group) -> Vec<TenantId> {
        let mut tenants = self.placed_in(g.id);
        if g.is_default {
            tenants.extend(
                self.tenants_of_group_owner(g.owner)
                    .into_iter()
                    .filter(|t| self.group_of(g.owner, *t) == Some(g.id)),
            );
        }
        tenants.sort_unstable();
        tenants.dedup();
        tenants
    }
}
