//! Reads of a [`State`]: entities by id, key or logon, counts and iteration, and the
//! indexes `apply` maintains (children, members, holders, grants by either side, groups
//! and placements, ancestry).

use super::*;

impl State {
    pub fn root(&self) -> Option<TenantId> {
        self.root
    }

    #[inline]
    pub fn tenant(&self, id: TenantId) -> Option<&Tenant> {
        self.tenants.get(id.index())
    }

    #[inline]
    pub fn principal(&self, id: PrincipalId) -> Option<&Principal> {
        self.principals.get(id.index())
    }

    #[inline]
    pub fn resource(&self, id: ResourceId) -> Option<&Resource> {
        self.resources.get(id.index())
    }

    #[inline]
    pub fn grant(&self, id: GrantId) -> Option<&Grant> {
        self.grants.get(id.index())
    }

    #[inline]
    pub fn group(&self, id: GroupId) -> Option<&Group> {
        self.groups.get(id.index())
    }

    pub fn access_code(&self, id: AccessCodeId) -> Option<&AccessCode> {
        self.access_codes.get(id.index())
    }

    pub fn access_code_by_hash(&self, hash: &str) -> Option<&AccessCode> {
        self.access_code_by_hash.get(hash).and_then(|id| self.access_code(*id))
    }

    pub fn access_codes(&self) -> impl Iterator<Item = &AccessCode> {
        self.access_codes.iter()
    }

    pub fn n_access_codes(&self) -> usize {
        self.access_codes.len()
    }

    pub fn tenant_by_key(&self, key: &str) -> Option<TenantId> {
        self.tenant_by_key.get(&names::fold(key), tenant_key(&self.tenants))
    }

    /// The principal whose logon name collides with `name` (R10), if any.
    pub fn principal_by_logon(&self, name: &str) -> Option<PrincipalId> {
        self.principal_by_name.get(&names::collision_key(name), principal_key(&self.principals))
    }

    pub fn resource_by_key(&self, key: &str) -> Option<ResourceId> {
        self.resource_by_key.get(&names::fold(key), resource_key(&self.resources))
    }

    pub fn n_tenants(&self) -> usize {
        self.tenants.len()
    }

    pub fn n_principals(&self) -> usize {
        self.principals.len()
    }

    pub fn n_resources(&self) -> usize {
        self.resources.len()
    }

    pub fn n_grants(&self) -> usize {
        self.grants.len()
    }

    pub fn n_groups(&self) -> usize {
        self.groups.len()
    }

    pub fn tenants(&self) -> impl Iterator<Item = &Tenant> {
        self.tenants.iter()
    }

    pub fn principals(&self) -> impl Iterator<Item = &Principal> {
        self.principals.iter()
    }

    pub fn resources(&self) -> impl Iterator<Item = &Resource> {
        self.resources.iter()
    }

    pub fn grants(&self) -> impl Iterator<Item = &Grant> {
        self.grants.iter()
    }

    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.groups.iter()
    }

    pub fn children(&self, tenant: TenantId) -> impl Iterator<Item = TenantId> + '_ {
        self.children.get(&tenant).into_iter().flat_map(|v| v.iter().copied())
    }

    /// Principals whose home is `tenant`, in creation order.
    pub fn members(&self, tenant: TenantId) -> impl Iterator<Item = &Principal> + '_ {
        self.members
            .get(&tenant)
            .into_iter()
            .flat_map(|v| v.iter())
            .filter_map(|p| self.principal(*p))
    }

    pub fn delegates_of(&self, owner: PrincipalId) -> impl Iterator<Item = PrincipalId> + '_ {
        self.delegates_of.get(&owner).into_iter().flat_map(|v| v.iter().copied())
    }

    pub fn holders(&self, tenant: TenantId) -> impl Iterator<Item = PrincipalId> + '_ {
        self.holders.get(&tenant).into_iter().flat_map(|v| v.iter().copied())
    }

    pub fn resource_holders(&self, resource: ResourceId) -> impl Iterator<Item = PrincipalId> + '_ {
        self.resource_holders.get(&resource).into_iter().flat_map(|v| v.iter().copied())
    }

    pub fn client_holders(&self, client: TenantId) -> impl Iterator<Item = PrincipalId> + '_ {
        self.client_holders.get(&client).into_iter().flat_map(|v| v.iter().copied())
    }

    pub fn resources_of(&self, tenant: TenantId) -> impl Iterator<Item = ResourceId> + '_ {
        self.resources_of.get(&tenant).into_iter().flat_map(|v| v.iter().copied())
    }

    pub fn resource_children(&self, resource: ResourceId) -> impl Iterator<Item = ResourceId> + '_ {
        self.resource_children.get(&resource).into_iter().flat_map(|v| v.iter().copied())
    }

    /// Grants whose client is `client`.
    pub fn grants_from(&self, client: TenantId) -> impl Iterator<Item = &Grant> + '_ {
        self.grants_from
            .get(client.index())
            .and_then(|list| list.as_deref())
            .unwrap_or_default()
            .iter()
            .filter_map(|(_, g)| self.grant(*g))
    }

    /// Grants from `client` to `partner` (the check path: no other grant record is read).
    #[inline]
    pub fn grants_between(
        &self,
        client: TenantId,
        partner: TenantId,
    ) -> impl Iterator<Item = &Grant> + '_ {
        self.grants_from
            .get(client.index())
            .and_then(|list| list.as_deref())
            .unwrap_or_default()
            .iter()
            .filter(move |(p, _)| *p == partner)
            .filter_map(|(_, g)| self.grant(*g))
    }

    /// Grants whose partner is `partner`.
    pub fn grants_to(&self, partner: TenantId) -> impl Iterator<Item = &Grant> + '_ {
        self.grants_to
            .get(&partner)
            .into_iter()
            .flat_map(|v| v.iter())
            .filter_map(|g| self.grant(*g))
    }

    /// Live groups of `owner`, the Default group first if it exists.
    pub fn groups_of(&self, owner: GroupOwner) -> impl Iterator<Item = &Group> + '_ {
        self.groups_of
            .get(&owner)
            .into_iter()
            .flat_map(|v| v.iter())
            .filter_map(|g| self.group(*g))
            .filter(|g| !g.deleted)
    }

    /// The group of `owner` that holds `tenant`: an explicit placement, else the owner's
    /// Default group (`None` when the owner has no groups at all).
    #[inline]
    pub fn group_of(&self, owner: GroupOwner, tenant: TenantId) -> Option<GroupId> {
        self.placement.get(&(owner, tenant)).copied().or_else(|| self.default_group(owner))
    }

    #[inline]
    pub fn default_group(&self, owner: GroupOwner) -> Option<GroupId> {
        self.default_groups.get(&owner).copied()
    }

    /// Tenants explicitly placed in `group`.
    pub fn placed_in(&self, group: GroupId) -> Vec<TenantId> {
        let Some(g) = self.group(group) else { return Vec::new() };
        let mut out: Vec<TenantId> = self
            .placement
            .iter()
            .filter(|((owner, _), gid)| *owner == g.owner && **gid == group)
            .map(|((_, t), _)| *t)
            .collect();
        out.sort();
        out
    }

    /// Whether `ancestor` is `tenant` or one of its ancestors.
    #[inline]
    pub fn is_ancestor_or_self(&self, ancestor: TenantId, tenant: TenantId) -> bool {
        match (self.tenant(ancestor), self.tenant(tenant)) {
            (Some(a), Some(t)) => t.ancestors.get(a.depth()) == Some(&ancestor),
            _ => false,
        }
    }

    /// Every tenant in the subtree of `tenant`, itself first (breadth first).
    pub fn subtree(&self, tenant: TenantId) -> Vec<TenantId> {
        let mut out = vec![tenant];
        let mut i = 0;
        while i < out.len() {
            let t = out[i];
            out.extend(self.children(t));
            i += 1;
        }
        out
    }

    /// Whether resource `ancestor` is `resource` or one of its ancestors.
    pub fn resource_is_ancestor_or_self(&self, ancestor: ResourceId, resource: ResourceId) -> bool {
        let mut current = Some(resource);
        let mut hops = 0;
        while let Some(r) = current {
            if r == ancestor {
                return true;
            }
            current = self.resource(r).and_then(|r| r.parent);
            hops += 1;
            if hops > 1_000 {
                return false;
            }
        }
        false
    }

    /// The next assignment id to hand out.
    pub fn next_assignment_id(&self) -> AssignmentId {
        AssignmentId(self.next_assignment as u32)
    }
}
