//! The generator's working state and how it writes one entity: a tenant with its derived
//! entitlements, a user (the first of a tenant its admin, R4), a delegate, an assignment, a
//! group and a placement, resources; and the change list it all becomes.

use super::catalog_ids::Cat;
use super::*;

const FIRST_NAMES: [&str; 16] = [
    "Ada", "Ben", "Cora", "Dev", "Eva", "Finn", "Gia", "Hugo", "Iris", "Jon", "Kai", "Lena",
    "Milo", "Nia", "Omar", "Pia",
];
const LAST_NAMES: [&str; 16] = [
    "Adams", "Baker", "Chen", "Diaz", "Evans", "Fox", "Garcia", "Hill", "Ito", "Jones", "Khan",
    "Lopez", "Meyer", "Novak", "Olsen", "Park",
];

/// The deployment being generated: entities in id order, and what the phases look up.
pub(super) struct Gen<'c> {
    pub(super) rng: Rng,
    pub(super) cat: &'c Cat,
    pub(super) now: Millis,
    pub(super) tenants: Vec<Tenant>,
    /// Effective entitlements, as `apply` will derive them.
    pub(super) eff: Vec<PermSet>,
    pub(super) depth: Vec<u8>,
    pub(super) n_children: Vec<u32>,
    /// The contiguous block of resource ids of each tenant.
    pub(super) resource_range: Vec<(u32, u32)>,
    pub(super) principals: Vec<Principal>,
    pub(super) assignments: Vec<Vec<Assignment>>,
    /// Delegate chain depth (0 for users).
    pub(super) chain: Vec<u8>,
    pub(super) resources: Vec<Resource>,
    pub(super) grants: Vec<Grant>,
    pub(super) groups: Vec<Group>,
    pub(super) placements: Vec<(GroupOwner, TenantId, GroupId)>,
    pub(super) next_assignment: u32,
    pub(super) meta: Meta,
}

impl<'c> Gen<'c> {
    pub(super) fn tenant(
        &mut self,
        parent: Option<TenantId>,
        key: String,
        name: String,
        own: PermSet,
        partner: bool,
    ) -> TenantId {
        let id = TenantId(self.tenants.len() as u32);
        let (eff, depth) = match parent {
            Some(p) => {
                self.n_children[p.index()] += 1;
                (own.intersect(self.eff[p.index()]), self.depth[p.index()] + 1)
            }
            None => (self.cat.entitleable, 0),
        };
        self.eff.push(eff);
        self.depth.push(depth);
        self.n_children.push(0);
        self.resource_range.push((0, 0));
        self.tenants.push(Tenant {
            id,
            key,
            name,
            parent,
            description: String::new(),
            internal_description: String::new(),
            partner,
            suspended: false,
            own_entitlements: own,
            contact: None,
            default_role: None,
            had_admin: false,
            delegates_allowed: true,
            nested_delegates_allowed: false,
            created_at: self.now - 400 * DAY,
            ancestors: Default::default(),
            entitlements: PermSet::EMPTY,
            blocked: false,
        });
        id
    }

    /// A child tenant with the catalog's defaults ∩ its parent's (R3, as `create_tenant`).
    pub(super) fn child(&mut self, parent: TenantId, key: String, name: String) -> TenantId {
        let own = self.cat.default_entitlements.intersect(self.eff[parent.index()]);
        self.tenant(Some(parent), key, name, own, false)
    }

    pub(super) fn principal(
        &mut self,
        kind: PrincipalKind,
        home: TenantId,
        logon: String,
        status: Status,
        delegate: Option<DelegateAccess>,
    ) -> PrincipalId {
        let id = PrincipalId(self.principals.len() as u32);
        let first = FIRST_NAMES[self.rng.below(FIRST_NAMES.len())].to_owned();
        let last = LAST_NAMES[self.rng.below(LAST_NAMES.len())].to_owned();
        let chain = match kind {
            PrincipalKind::Delegate { owner } => self.chain[owner.index()] + 1,
            _ => 0,
        };
        self.principals.push(Principal {
            id,
            kind,
            home,
            email: format!("{logon}@example.com").into(),
            // Computed once, as the engine does when it creates a principal.
            logon_key: deputy_core::names::collision_key(&logon).into(),
            logon: logon.into(),
            first_name: first.into(),
            last_name: last.into(),
            email_verified: true,
            phone: None,
            status,
            status_reason: None,
            description: String::new().into(),
            internal_description: String::new().into(),
            attributes: Default::default(),
            assignments: Arc::from([]),
            delegate: delegate.map(Box::new),
            created_at: self.now - 300 * DAY,
            created_revision: 1,
            status_serial: 0,
        });
        self.assignments.push(Vec::new());
        self.chain.push(chain);
        id
    }

    /// A user of `home`; the first one becomes contact person and admin with subtree scope
    /// (R4), everyone gets the default role (R19).
    pub(super) fn user(&mut self, home: TenantId, status: Status) -> PrincipalId {
        let first = self.tenants[home.index()].contact.is_none();
        let status = if first { Status::Active } else { status };
        let id = self.principal(PrincipalKind::User, home, String::new(), status, None);
        let logon = format!("u{}", id.0);
        let p = &mut self.principals[id.index()];
        p.email = format!("{logon}@example.com").into();
        p.logon = logon.into();
        if first {
            let t = &mut self.tenants[home.index()];
            t.contact = Some(id);
            t.had_admin = true;
            self.assign(id, self.cat.admin, Scope::Tenant { tenant: home, subtree: true }, None);
        }
        self.assign(
            id,
            self.cat.default_user,
            Scope::Tenant { tenant: home, subtree: false },
            None,
        );
        id
    }

    pub(super) fn assign(
        &mut self,
        p: PrincipalId,
        role: RoleId,
        scope: Scope,
        expires_at: Option<Millis>,
    ) {
        let id = AssignmentId(self.next_assignment);
        self.next_assignment += 1;
        self.assignments[p.index()].push(Assignment {
            id,
            bundle: Bundle::Role(role),
            scope,
            expires_at,
            created_by: Author::System,
            created_at: self.now - 200 * DAY,
        });
    }

    pub(super) fn group(&mut self, owner: GroupOwner, name: &str, is_default: bool) -> GroupId {
        let id = GroupId(self.groups.len() as u32);
        self.groups.push(Group { id, owner, name: name.to_owned(), is_default, deleted: false });
        id
    }

    pub(super) fn place(&mut self, owner: GroupOwner, tenant: TenantId, group: GroupId) {
        self.placements.push((owner, tenant, group));
        self.meta.placed.entry(group).or_default().push(tenant);
    }

    /// A random status for a user who is not a tenant's first.
    pub(super) fn user_status(&mut self) -> Status {
        match self.rng.below(100) {
            0..=2 => Status::Deactivated,
            3 => Status::Invited,
            _ => Status::Active,
        }
    }

    pub(super) fn resource(
        &mut self,
        tenant: TenantId,
        ty: TypeId,
        kind: Option<KindId>,
        parent: Option<ResourceId>,
    ) -> ResourceId {
        let id = ResourceId(self.resources.len() as u32);
        self.resources.push(Resource {
            id,
            key: format!("r-{}", id.0).into(),
            name: format!("Resource {}", id.0).into(),
            tenant,
            resource_type: ty,
            kind,
            parent,
            created_at: self.now - 100 * DAY,
        });
        id
    }

    /// `n` resources of mixed types in `tenant`, data sources under instances and some
    /// reports under matters.
    pub(super) fn resources_in(&mut self, tenant: TenantId, n: usize) {
        let start = self.resources.len() as u32;
        let mut instance = None;
        let mut matter = None;
        for _ in 0..n {
            let c = self.cat;
            match self.rng.weighted(&[30, 15, 15, 10, 10, 10, 10]) {
                0 => {
                    let k = *self.rng.pick(&c.tax_kinds).unwrap_or(&c.tax_kinds[0]);
                    self.resource(tenant, c.tax_account, Some(k), None)
                }
                1 => {
                    let r = self.resource(tenant, c.instance, None, None);
                    instance = Some(r);
                    r
                }
                2 => match instance {
                    Some(i) => self.resource(tenant, c.data_source, None, Some(i)),
                    None => {
                        let r = self.resource(tenant, c.instance, None, None);
                        instance = Some(r);
                        r
                    }
                },
                3 => self.resource(tenant, c.environment, None, None),
                4 => self.resource(tenant, c.backup_account, None, None),
                5 => {
                    let r = self.resource(tenant, c.matter, None, None);
                    matter = Some(r);
                    r
                }
                _ => {
                    let parent = if self.rng.percent(50) { matter } else { None };
                    self.resource(tenant, c.report, None, parent)
                }
            };
        }
        self.resource_range[tenant.index()] = (start, self.resources.len() as u32 - start);
    }

    pub(super) fn is_active(&self, p: PrincipalId) -> bool {
        self.principals[p.index()].is_active()
    }

    pub(super) fn delegate(
        &mut self,
        owner: PrincipalId,
        access: DelegateAccess,
        status: Status,
    ) -> PrincipalId {
        let home = self.principals[owner.index()].home;
        let id = self.principal(
            PrincipalKind::Delegate { owner },
            home,
            String::new(),
            status,
            Some(access),
        );
        let logon = format!("d{}", id.0);
        let p = &mut self.principals[id.index()];
        p.email = format!("{logon}@example.com").into();
        p.logon = logon.into();
        id
    }

    /// The change list, in the order a checkpoint has it (catalog, tenants, principals,
    /// resources, grants, groups, placements), and the handles.
    pub(super) fn finish(self) -> (Vec<Change>, Meta) {
        let Gen {
            tenants,
            principals,
            assignments,
            resources,
            grants,
            groups,
            mut placements,
            mut meta,
            ..
        } = self;
        meta.placements = placements.len();
        let mut changes = Vec::with_capacity(
            1 + tenants.len()
                + principals.len()
                + resources.len()
                + grants.len()
                + groups.len()
                + placements.len(),
        );
        changes.push(Change::Catalog { toml: SHIPPED_CATALOG.to_owned() });
        changes.extend(tenants.into_iter().map(Change::Tenant));
        changes.extend(principals.into_iter().zip(assignments).map(|(mut p, a)| {
            p.assignments = Arc::from(a);
            Change::Principal(p)
        }));
        changes.extend(resources.into_iter().map(Change::Resource));
        changes.extend(grants.into_iter().map(Change::Grant));
        changes.extend(groups.into_iter().map(Change::Group));
        placements.sort_by_key(|(owner, tenant, _)| (*owner, *tenant));
        changes.extend(placements.into_iter().map(|(owner, tenant, group)| Change::Placement {
            owner,
            tenant,
            group: Some(group),
        }));
        (changes, meta)
    }
}

/// A random active principal of `list`, trying a few times.
pub(super) fn active_of(
    rng: &mut Rng,
    principals: &[Principal],
    list: &[PrincipalId],
) -> Option<PrincipalId> {
    for _ in 0..16 {
        let p = *rng.pick(list)?;
        if principals[p.index()].is_active() {
            return Some(p);
        }
    }
    None
}
