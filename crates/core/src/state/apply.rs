//! How change sets apply to a [`State`]: each entity is written whole and every index and
//! derived field (ancestors, effective entitlements, suspension, holders, grants by either
//! side, placements) is recomputed here, so a change set cannot leave one stale.

use super::*;

impl State {
    /// Applies one change set. Deterministic: replaying the same log gives the same state.
    pub fn apply(&mut self, changes: &[Change]) -> Result<(), ApplyError> {
        self.apply_owned(changes.iter().cloned())
    }

    /// Applies changes without counting a revision: the pieces of a checkpoint (see
    /// [`State::to_changes`]), after which the caller sets [`State::revision`].
    pub fn load(&mut self, changes: impl IntoIterator<Item = Change>) -> Result<(), ApplyError> {
        for change in changes {
            self.apply_one(change)?;
        }
        Ok(())
    }

    /// [`State::apply`] for change sets the caller no longer needs (replay): the entities
    /// move into the state instead of being copied.
    pub fn apply_owned(
        &mut self,
        changes: impl IntoIterator<Item = Change>,
    ) -> Result<(), ApplyError> {
        for change in changes {
            self.apply_one(change)?;
        }
        self.revision += 1;
        Ok(())
    }

    pub(crate) fn apply_one(&mut self, change: Change) -> Result<(), ApplyError> {
        match change {
            Change::Catalog { toml } => {
                let catalog =
                    Catalog::from_toml(&toml).map_err(|e| ApplyError::Catalog(e.to_string()))?;
                self.catalog = Arc::new(catalog);
                if let Some(root) = self.root {
                    self.refresh_subtree(root);
                }
            }
            Change::Tenant(t) => self.put_tenant(t)?,
            Change::Principal(p) => self.put_principal(p)?,
            Change::Resource(r) => self.put_resource(r)?,
            Change::Grant(g) => self.put_grant(g)?,
            Change::Group(g) => {
                let (id, deleted) = (g.id, g.deleted);
                if g.is_default && !g.deleted {
                    self.default_groups.insert(g.owner, id);
                }
                if id.index() == self.groups.len() {
                    push_index(&mut self.groups_of, g.owner, id);
                    self.groups.push_back(g);
                } else if id.index() < self.groups.len() {
                    self.groups.set(id.index(), g);
                } else {
                    return Err(out_of_order("group", id, self.groups.len()));
                }
                if deleted {
                    // Deleting a group moves its tenants to Default (R38).
                    self.placement.retain(|_, gid| *gid != id);
                }
            }
            Change::AccessCode(code) => {
                let id = code.id;
                if id.index() < self.access_codes.len() {
                    self.access_codes.set(id.index(), code);
                } else if id.index() == self.access_codes.len() {
                    self.access_code_by_hash.insert(code.token_hash.clone(), id);
                    self.access_codes.push_back(code);
                } else {
                    return Err(out_of_order("access code", id, self.access_codes.len()));
                }
            }
            Change::AssignmentCounter { next } => {
                self.next_assignment = self.next_assignment.max(next);
            }
            Change::Placement { owner, tenant, group } => match group {
                Some(g) => {
                    self.placement.insert((owner, tenant), g);
                }
                None => {
                    self.placement.remove(&(owner, tenant));
                }
            },
        }
        Ok(())
    }

    fn put_tenant(&mut self, mut tenant: Tenant) -> Result<(), ApplyError> {
        let id = tenant.id;
        let old = self.tenants.get(id.index()).cloned();
        if old.is_none() && id.index() != self.tenants.len() {
            return Err(out_of_order("tenant", id, self.tenants.len()));
        }
        if let Some(parent) = tenant.parent
            && self.tenant(parent).is_none()
        {
            return Err(ApplyError::Unknown { what: "tenant", id: parent.to_string() });
        }
        self.derive_tenant(&mut tenant);
        match &old {
            Some(old) => {
                let (old_key, new_key) = (names::fold(&old.key), names::fold(&tenant.key));
                if old_key != new_key {
                    self.tenant_by_key.remove(&old_key, id);
                    self.tenant_by_key.insert(&new_key, id, tenant_key(&self.tenants));
                }
                if old.parent != tenant.parent {
                    if let Some(p) = old.parent
                        && let Some(kids) = self.children.get_mut(&p)
                    {
                        kids.retain(|c| *c != id);
                    }
                    if let Some(p) = tenant.parent {
                        push_index(&mut self.children, p, id);
                    }
                }
                self.tenants.set(id.index(), tenant);
            }
            None => {
                self.tenant_by_key.insert(&names::fold(&tenant.key), id, tenant_key(&self.tenants));
                match tenant.parent {
                    Some(p) => push_index(&mut self.children, p, id),
                    None => self.root = Some(id),
                }
                self.tenants.push_back(tenant);
                self.grants_from.push_back(None);
            }
        }
        let needs_refresh = old.as_ref().is_some_and(|old| {
            let new = &self.tenants[id.index()];
            old.parent != new.parent
                || old.suspended != new.suspended
                || old.own_entitlements != new.own_entitlements
        });
        if needs_refresh {
            self.refresh_subtree(id);
        }
        Ok(())
    }

    /// Computes a tenant's derived fields from its parent's (R3, R8).
    fn derive_tenant(&self, tenant: &mut Tenant) {
        match tenant.parent.and_then(|p| self.tenant(p)) {
            Some(parent) => {
                let mut ancestors = Vec::with_capacity(parent.ancestors.len() + 1);
                ancestors.extend_from_slice(&parent.ancestors);
                ancestors.push(tenant.id);
                tenant.ancestors = ancestors.into();
                tenant.entitlements = tenant.own_entitlements.intersect(parent.entitlements);
                tenant.blocked = tenant.suspended || parent.blocked;
            }
            None => {
                tenant.ancestors = Arc::from([tenant.id]);
                tenant.entitlements = self.catalog.entitleable;
                tenant.blocked = tenant.suspended;
            }
        }
    }

    /// Recomputes derived fields below `tenant` (its own were just computed).
    fn refresh_subtree(&mut self, tenant: TenantId) {
        let mut queue = vec![tenant];
        while let Some(t) = queue.pop() {
            if let Some(mut current) = self.tenants.get(t.index()).cloned() {
                self.derive_tenant(&mut current);
                self.tenants.set(t.index(), current);
            }
            queue.extend(self.children(t));
        }
    }

    fn put_principal(&mut self, principal: Principal) -> Result<(), ApplyError> {
        let id = principal.id;
        let old = self.principals.get(id.index()).cloned();
        if old.is_none() && id.index() != self.principals.len() {
            return Err(out_of_order("principal", id, self.principals.len()));
        }
        for a in principal.assignments.iter() {
            self.next_assignment = self.next_assignment.max(u64::from(a.id.0) + 1);
        }
        match &old {
            Some(old) => {
                if old.logon != principal.logon {
                    self.principal_by_name.remove(&logon_key(old), id);
                    let key = logon_key(&principal);
                    self.principal_by_name.insert(&key, id, principal_key(&self.principals));
                }
                self.unindex_assignments(old);
            }
            None => {
                let key = logon_key(&principal);
                self.principal_by_name.insert(&key, id, principal_key(&self.principals));
                push_index(&mut self.members, principal.home, id);
                if let Some(owner) = principal.owner() {
                    push_index(&mut self.delegates_of, owner, id);
                }
            }
        }
        self.index_assignments(&principal);
        if old.is_some() {
            self.principals.set(id.index(), principal);
        } else {
            self.principals.push_back(principal);
        }
        Ok(())
    }

    fn index_assignments(&mut self, p: &Principal) {
        for a in p.assignments.iter() {
            match a.scope {
                Scope::Tenant { tenant, .. } => {
                    self.holders.entry(tenant).or_default().insert(p.id);
                }
                Scope::Resource { resource } => {
                    self.resource_holders.entry(resource).or_default().insert(p.id);
                }
                Scope::Client { client } => {
                    self.client_holders.entry(client).or_default().insert(p.id);
                }
                Scope::Group { .. } => {}
            }
        }
    }

    fn unindex_assignments(&mut self, p: &Principal) {
        for a in p.assignments.iter() {
            match a.scope {
                Scope::Tenant { tenant, .. } => remove_from(&mut self.holders, tenant, p.id),
                Scope::Resource { resource } => {
                    remove_from(&mut self.resource_holders, resource, p.id)
                }
                Scope::Client { client } => remove_from(&mut self.client_holders, client, p.id),
                Scope::Group { .. } => {}
            }
        }
    }

    fn put_resource(&mut self, resource: Resource) -> Result<(), ApplyError> {
        let id = resource.id;
        match self.resources.get(id.index()).cloned() {
            Some(old) => {
                let (old_key, new_key) = (names::fold(&old.key), names::fold(&resource.key));
                if old_key != new_key {
                    self.resource_by_key.remove(&old_key, id);
                    self.resource_by_key.insert(&new_key, id, resource_key(&self.resources));
                }
                self.resources.set(id.index(), resource);
            }
            None if id.index() == self.resources.len() => {
                let key = names::fold(&resource.key);
                self.resource_by_key.insert(&key, id, resource_key(&self.resources));
                push_index(&mut self.resources_of, resource.tenant, id);
                if let Some(parent) = resource.parent {
                    push_index(&mut self.resource_children, parent, id);
                }
                self.resources.push_back(resource);
            }
            None => return Err(out_of_order("resource", id, self.resources.len())),
        }
        Ok(())
    }

    fn put_grant(&mut self, grant: Grant) -> Result<(), ApplyError> {
        let id = grant.id;
        if let Some(old) = self.grants.get(id.index()) {
            // Client and partner never change after creation (commands create a new grant
            // instead), so the indexes stay as they are.
            if old.client != grant.client || old.partner != grant.partner {
                return Err(ApplyError::Immutable {
                    what: "client or partner",
                    id: id.to_string(),
                });
            }
            self.grants.set(id.index(), grant);
        } else if id.index() == self.grants.len() {
            let mut list = self
                .grants_from
                .get(grant.client.index())
                .and_then(|l| l.as_deref())
                .unwrap_or_default()
                .to_vec();
            list.push((grant.partner, id));
            self.grants_from.set(grant.client.index(), Some(list.into()));
            push_index(&mut self.grants_to, grant.partner, id);
            self.grants.push_back(grant);
        } else {
            return Err(out_of_order("grant", id, self.grants.len()));
        }
        Ok(())
    }
}

fn push_index<K: std::hash::Hash + Eq + Clone, V: Clone>(
    index: &mut Index<K, V>,
    key: K,
    value: V,
) {
    index.entry(key).or_default().push_back(value);
}

fn remove_from<K: std::hash::Hash + Eq + Clone, V: Ord + Clone>(
    index: &mut SetIndex<K, V>,
    key: K,
    value: V,
) {
    if let Some(set) = index.get_mut(&key) {
        set.remove(&value);
        if set.is_empty() {
            index.remove(&key);
        }
    }
}

fn out_of_order(what: &'static str, id: impl std::fmt::Display, next: usize) -> ApplyError {
    ApplyError::OutOfOrder { what, id: id.to_string(), next }
}
