//! The immutable state of a deployment at a revision, and how change sets apply to it.
//!
//! Collections are persistent (`imbl`): applying a change set to a clone shares everything
//! it does not touch, so a writer builds the next state while readers keep checking on the
//! current one, and publishing it is one pointer swap (R56).

use crate::catalog::Catalog;
use crate::cow_vec::CowVec;
use crate::ids::*;
use crate::model::*;
use crate::name_index::NameIndex;
use crate::names;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::sync::Arc;

/// One primitive change. Entities are written whole; indexes and derived fields are
/// recomputed by [`State::apply`], so a change set cannot leave them inconsistent.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Loads the permission catalog (R25). Only allowed while it keeps every existing id.
    Catalog {
        toml: String,
    },
    Tenant(Tenant),
    Principal(Principal),
    Resource(Resource),
    Grant(Grant),
    Group(Group),
    AccessCode(AccessCode),
    /// Restores the assignment id counter from a checkpoint, so ids are never reused.
    AssignmentCounter {
        next: u64,
    },
    /// Puts `tenant` in `group` of `owner`; `None` puts it back in the owner's Default (R38).
    Placement {
        owner: GroupOwner,
        tenant: TenantId,
        group: Option<GroupId>,
    },
}

/// A change log entry that cannot be applied: the log is damaged or from a different build.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error("change creates {what} {id} out of order (next id is {next})")]
    OutOfOrder { what: &'static str, id: String, next: usize },
    #[error("change names unknown {what} {id}")]
    Unknown { what: &'static str, id: String },
    #[error("change alters the {what} of {id}, which never change")]
    Immutable { what: &'static str, id: String },
    #[error("catalog in change log is invalid: {0}")]
    Catalog(String),
}

type Index<K, V> = imbl::HashMap<K, imbl::Vector<V>>;

/// A client's grants, each with its partner.
type GrantList = Arc<[(TenantId, GrantId)]>;

/// A fast hasher for maps keyed by the engine's own ids (never by user input, so no
/// flooding risk): one multiply per word, as FxHash does.
#[derive(Debug, Default, Clone, Copy)]
pub struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }
    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

type IdMap<K, V> = imbl::GenericHashMap<
    K,
    V,
    std::hash::BuildHasherDefault<IdHasher>,
    imbl::shared_ptr::DefaultSharedPtr,
>;
type SetIndex<K, V> = imbl::HashMap<K, imbl::OrdSet<V>>;

/// A deployment at one revision.
#[derive(Debug, Clone)]
pub struct State {
    pub revision: u64,
    pub catalog: Arc<Catalog>,
    root: Option<TenantId>,
    tenants: CowVec<Tenant>,
    tenant_by_key: NameIndex<TenantId>,
    children: Index<TenantId, TenantId>,
    members: Index<TenantId, PrincipalId>,
    principals: CowVec<Principal>,
    principal_by_name: NameIndex<PrincipalId>,
    delegates_of: Index<PrincipalId, PrincipalId>,
    /// Principals with a direct tenant-scoped assignment at each tenant.
    holders: SetIndex<TenantId, PrincipalId>,
    /// Principals with a resource-scoped assignment on each resource.
    resource_holders: SetIndex<ResourceId, PrincipalId>,
    /// Principals with a partner assignment for each client.
    client_holders: SetIndex<TenantId, PrincipalId>,
    resources: CowVec<Resource>,
    resource_by_key: NameIndex<ResourceId>,
    resources_of: Index<TenantId, ResourceId>,
    resource_children: Index<ResourceId, ResourceId>,
    grants: CowVec<Grant>,
    /// Grants by client tenant, indexed by tenant id, each with its partner so the check
    /// path skips other partners' grants without reading them.
    grants_from: CowVec<Option<GrantList>>,
    grants_to: Index<TenantId, GrantId>,
    groups: CowVec<Group>,
    groups_of: Index<GroupOwner, GroupId>,
    placement: IdMap<(GroupOwner, TenantId), GroupId>,
    default_groups: IdMap<GroupOwner, GroupId>,
    access_codes: CowVec<AccessCode>,
    access_code_by_hash: imbl::HashMap<String, AccessCodeId>,
    next_assignment: u64,
}

impl State {
    /// An empty deployment with `catalog` loaded.
    pub fn new(catalog: Catalog) -> State {
        State {
            revision: 0,
            catalog: Arc::new(catalog),
            root: None,
            tenants: Default::default(),
            tenant_by_key: Default::default(),
            children: Default::default(),
            members: Default::default(),
            principals: Default::default(),
            principal_by_name: Default::default(),
            delegates_of: Default::default(),
            holders: Default::default(),
            resource_holders: Default::default(),
            client_holders: Default::default(),
            resources: Default::default(),
            resource_by_key: Default::default(),
            resources_of: Default::default(),
            resource_children: Default::default(),
            grants: Default::default(),
            grants_from: Default::default(),
            grants_to: Default::default(),
            groups: Default::default(),
            groups_of: Default::default(),
            placement: Default::default(),
            default_groups: Default::default(),
            access_codes: Default::default(),
            access_code_by_hash: Default::default(),
            next_assignment: 1,
        }
    }

    // ----- reads -------------------------------------------------------------------------

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

    /// Rebuilds a state from a checkpoint's changes (see [`State::to_changes`]).
    pub fn from_changes(changes: &[Change], revision: u64) -> Result<State, ApplyError> {
        let mut state = State::new(Catalog::shipped());
        for change in changes {
            state.apply_one(change.clone())?;
        }
        state.revision = revision;
        Ok(state)
    }

    // ----- writes ------------------------------------------------------------------------

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

    /// Every entity as a change list: applying it to an empty state with the same catalog
    /// rebuilds this state (a checkpoint, or an export).
    pub fn to_changes(&self) -> Vec<Change> {
        let mut out = Vec::with_capacity(
            1 + self.tenants.len() + self.principals.len() + self.resources.len(),
        );
        out.push(Change::Catalog { toml: self.catalog.source.clone() });
        // Ids are dense, so tenants are created in id order. A tenant moved under a newer one
        // (R1) is first created under the root, then moved, parents before children, so no
        // step refers to a tenant not yet created or makes a cycle.
        let root = self.root;
        let mut moved = Vec::new();
        for t in self.tenants.iter() {
            match t.parent {
                Some(parent) if parent >= t.id => {
                    moved.push(t.id);
                    out.push(Change::Tenant(Tenant { parent: root, ..t.clone() }));
                }
                _ => out.push(Change::Tenant(t.clone())),
            }
        }
        if !moved.is_empty() {
            let moved: std::collections::BTreeSet<TenantId> = moved.into_iter().collect();
            for t in root.map(|r| self.subtree(r)).unwrap_or_default() {
                if moved.contains(&t)
                    && let Some(tenant) = self.tenant(t)
                {
                    out.push(Change::Tenant(tenant.clone()));
                }
            }
        }
        out.push(Change::AssignmentCounter { next: self.next_assignment });
        out.extend(self.principals.iter().map(|p| Change::Principal(p.clone())));
        out.extend(self.resources.iter().map(|r| Change::Resource(r.clone())));
        out.extend(self.grants.iter().map(|g| Change::Grant(g.clone())));
        out.extend(self.groups.iter().map(|g| Change::Group(g.clone())));
        out.extend(self.access_codes.iter().map(|c| Change::AccessCode(c.clone())));
        let mut placements: Vec<_> = self.placement.iter().collect();
        placements.sort_by_key(|((o, t), _)| (*o, *t));
        out.extend(placements.into_iter().map(|((owner, tenant), group)| Change::Placement {
            owner: *owner,
            tenant: *tenant,
            group: Some(*group),
        }));
        out
    }
}

/// A principal's collision key: the stored one, or computed for entries that lack it.
fn logon_key(p: &Principal) -> Cow<'_, str> {
    if p.logon_key.is_empty() {
        Cow::Owned(names::collision_key(&p.logon))
    } else {
        Cow::Borrowed(&p.logon_key)
    }
}

// The keys the name indexes confirm their hits against.
fn tenant_key<'a>(tenants: &'a CowVec<Tenant>) -> impl Fn(TenantId) -> Option<Cow<'a, str>> {
    |id| tenants.get(id.index()).map(|t| Cow::Owned(names::fold(&t.key)))
}

fn principal_key<'a>(
    principals: &'a CowVec<Principal>,
) -> impl Fn(PrincipalId) -> Option<Cow<'a, str>> {
    |id| principals.get(id.index()).map(logon_key)
}

fn resource_key<'a>(
    resources: &'a CowVec<Resource>,
) -> impl Fn(ResourceId) -> Option<Cow<'a, str>> {
    |id| resources.get(id.index()).map(|r| Cow::Owned(names::fold(&r.key)))
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
