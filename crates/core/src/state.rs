//! The immutable state of a deployment at a revision, and how change sets apply to it.
//!
//! Collections are persistent (`imbl`): applying a change set to a clone shares everything
//! it does not touch, so a writer builds the next state while readers keep checking on the
//! current one, and publishing it is one pointer swap (R56).
//!
//! This file holds the change type and the state's fields; `reads` answers questions of
//! it, `apply` applies change sets and keeps every index, and `checkpoint` turns a state
//! into a change list and back.

use crate::catalog::Catalog;
use crate::cow_vec::CowVec;
use crate::ids::*;
use crate::model::*;
use crate::name_index::NameIndex;
use crate::names;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::sync::Arc;

mod apply;
mod checkpoint;
mod reads;

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
}

/// A principal's collision key: the stored one, or computed for entries that lack it.
fn logon_key(p: &Principal) -> Cow<'_, str> {
    if p.logon_key.is_empty() {
        Cow::Owned(names::collision_key(&p.logon))
    } else {
        Cow::Borrowed(&p.logon_key)
    }
}

// The keys the name indexes confirm their hits against (reads and `apply` both use them).
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
