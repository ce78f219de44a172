//! The dataset generator: a deterministic, realistic deployment of size S, M or L, built
//! directly as a change list (the shape of `State::to_changes`), so that even L (100k
//! tenants, 1M users) is produced in seconds instead of deciding millions of commands.
//!
//! The shape follows the scenarios of SPEC §11:
//!
//! - a tenant tree: the root, partner tenants, and customer companies with two or three
//!   levels of sub-tenants (a few suspended, some with narrowed or extra entitlements);
//! - users: every tenant's first user is its contact and admin with subtree scope (R4);
//!   others hold tenant-scoped roles (read-only, tax-preparer, …), subtree roles at their
//!   company (senior managers), or roles on one resource; a few are deactivated or invited;
//! - "preparers" like Jane (S1) hold roles in several client companies and own security
//!   groups that place those clients; some company admins group their sub-tenants too;
//! - delegates (R34–R39): full access, limited to the owner's groups, to kinds, or narrowed
//!   by roles, and chains of two or three (their tenants allow nested delegates);
//! - partners (R40–R47) with grants from clients (some subtree, some limited to kinds, a few
//!   proposed, revoked or expired), groups of clients, users with per-client and
//!   group-scoped partner roles, and customer managers (R30);
//! - a lookup fixture: `bigco`, 500 tenants holding 10,000 resources, and an auditor with
//!   `read-only` over all of it, so a lookup returns ≈10k resources at every size.
//!
//! Entities are written with dense ids in creation order; indexes and derived fields are
//! left to `State::apply`, as in a checkpoint.

use crate::Error;
use crate::rng::Rng;
use deputy_core::catalog::SHIPPED_CATALOG;
use deputy_core::*;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The instant the dataset describes; checks are made at this time.
pub const NOW: Millis = 1_750_000_000_000;
const DAY: Millis = 86_400_000;

/// The seed used unless one is given.
pub const DEFAULT_SEED: u64 = 0x00DE_9070_2025_0001;

/// Tenants of the lookup fixture (`bigco`, 20 regions, 479 sites).
pub const FIXTURE_TENANTS: usize = 500;
/// Resources of the lookup fixture, spread evenly over its tenants.
pub const FIXTURE_RESOURCES: usize = 10_000;
const FIXTURE_REGIONS: usize = 20;

/// A named dataset size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Size {
    S,
    M,
    L,
}

impl std::str::FromStr for Size {
    type Err = String;
    fn from_str(text: &str) -> Result<Size, String> {
        match text {
            "S" | "s" => Ok(Size::S),
            "M" | "m" => Ok(Size::M),
            "L" | "l" => Ok(Size::L),
            other => Err(format!("unknown size `{other}`: use S, M or L")),
        }
    }
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Size::S => "S",
            Size::M => "M",
            Size::L => "L",
        })
    }
}

/// How many of each entity a size has (the lookup fixture comes on top).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Params {
    pub tenants: usize,
    pub users: usize,
    pub delegates: usize,
    pub resources: usize,
    pub grants: usize,
}

impl Size {
    /// S and M are L scaled down by 1000 and 10, so the proportions stay the same.
    pub fn params(self) -> Params {
        let l = Params {
            tenants: 100_000,
            users: 1_000_000,
            delegates: 200_000,
            resources: 2_000_000,
            grants: 300_000,
        };
        let div = match self {
            Size::S => 1_000,
            Size::M => 10,
            Size::L => 1,
        };
        Params {
            tenants: l.tenants / div,
            users: l.users / div,
            delegates: l.delegates / div,
            resources: l.resources / div,
            grants: l.grants / div,
        }
    }
}

/// Handles into the generated deployment that the check mix and the tests pick from.
#[derive(Debug, Clone)]
pub struct Meta {
    pub root: TenantId,
    pub operator: PrincipalId,
    pub partners: Vec<TenantId>,
    pub companies: Vec<TenantId>,
    /// Principals below this id are users; from it on, delegates.
    pub first_delegate: u32,
    /// Users with a subtree role (admin or senior-manager) at a tenant with descendants.
    pub subtree_holders: Vec<PrincipalId>,
    /// Users with a tenant-scoped role other than admin and default-user.
    pub direct_holders: Vec<PrincipalId>,
    /// Users with a role on one resource.
    pub resource_holders: Vec<PrincipalId>,
    /// Users with roles in several client companies, owning groups of them (S1's Jane).
    pub preparers: Vec<PrincipalId>,
    /// Partner users with per-client or group-scoped partner roles.
    pub partner_users: Vec<PrincipalId>,
    pub customer_managers: Vec<PrincipalId>,
    /// Delegates limited to some of their owner's groups.
    pub group_delegates: Vec<PrincipalId>,
    /// Delegates whose owner is a delegate (chains of two or three).
    pub chain_delegates: Vec<PrincipalId>,
    /// Other delegates of customer users: full access, kinds or narrowing roles.
    pub other_delegates: Vec<PrincipalId>,
    /// Delegates of partner users.
    pub partner_delegates: Vec<PrincipalId>,
    /// Tenants explicitly placed in each (non-default) group.
    pub placed: HashMap<GroupId, Vec<TenantId>>,
    /// Every client of each partner tenant (grants of any status).
    pub partner_clients: HashMap<TenantId, Vec<TenantId>>,
    /// The auditor of the lookup fixture and what it looks up.
    pub lookup_principal: PrincipalId,
    pub lookup_root: TenantId,
    pub lookup_permission: &'static str,
    pub placements: usize,
}

impl Meta {
    fn empty() -> Meta {
        Meta {
            root: TenantId(0),
            operator: PrincipalId(0),
            partners: Vec::new(),
            companies: Vec::new(),
            first_delegate: 0,
            subtree_holders: Vec::new(),
            direct_holders: Vec::new(),
            resource_holders: Vec::new(),
            preparers: Vec::new(),
            partner_users: Vec::new(),
            customer_managers: Vec::new(),
            group_delegates: Vec::new(),
            chain_delegates: Vec::new(),
            other_delegates: Vec::new(),
            partner_delegates: Vec::new(),
            placed: HashMap::new(),
            partner_clients: HashMap::new(),
            lookup_principal: PrincipalId(0),
            lookup_root: TenantId(0),
            lookup_permission: "reports.view",
            placements: 0,
        }
    }
}

/// A generated deployment.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub size: Size,
    pub seed: u64,
    pub now: Millis,
    /// Catalog, tenants, principals, resources, grants, groups, placements.
    pub changes: Vec<Change>,
    pub meta: Meta,
}

/// The catalog ids the generator uses.
struct Cat {
    admin: RoleId,
    customer_manager: RoleId,
    senior_manager: RoleId,
    senior_it_manager: RoleId,
    customer_service: RoleId,
    read_only: RoleId,
    power_user: RoleId,
    tax_preparer: RoleId,
    paralegal: RoleId,
    viewer: RoleId,
    data_estate_admin: RoleId,
    environment_admin: RoleId,
    default_user: RoleId,
    tax_account: TypeId,
    instance: TypeId,
    data_source: TypeId,
    environment: TypeId,
    backup_account: TypeId,
    matter: TypeId,
    report: TypeId,
    tax_kinds: Vec<KindId>,
    default_entitlements: PermSet,
    entitleable: PermSet,
    /// Left out of some companies' entitlements.
    narrowed: PermSet,
    api_access: PermId,
}

impl Cat {
    fn new(catalog: &Catalog) -> Result<Cat, Error> {
        let role = |name: &str| {
            catalog.role_id(name).ok_or_else(|| Error::Catalog(format!("no role `{name}`")))
        };
        let ty = |name: &str| {
            catalog.type_id(name).ok_or_else(|| Error::Catalog(format!("no type `{name}`")))
        };
        let perm = |name: &str| {
            catalog
                .permission_id(name)
                .ok_or_else(|| Error::Catalog(format!("no permission `{name}`")))
        };
        let tax_account = ty("tax-account")?;
        let tax_kinds = catalog.types[tax_account.index()].kinds.clone();
        if tax_kinds.is_empty() {
            return Err(Error::Catalog("`tax-account` has no kinds".into()));
        }
        let narrowed: PermSet =
            [perm("backups.view")?, perm("backups.manage")?].into_iter().collect();
        Ok(Cat {
            admin: role("admin")?,
            customer_manager: role("customer-manager")?,
            senior_manager: role("senior-manager")?,
            senior_it_manager: role("senior-it-manager")?,
            customer_service: role("customer-service")?,
            read_only: role("read-only")?,
            power_user: role("power-user")?,
            tax_preparer: role("tax-preparer")?,
            paralegal: role("paralegal")?,
            viewer: role("viewer")?,
            data_estate_admin: role("data-estate-admin")?,
            environment_admin: role("environment-admin")?,
            default_user: catalog.default_role,
            tax_account,
            instance: ty("instance")?,
            data_source: ty("data-source")?,
            environment: ty("environment")?,
            backup_account: ty("backup-account")?,
            matter: ty("matter")?,
            report: ty("report")?,
            tax_kinds,
            default_entitlements: catalog.default_entitlements,
            entitleable: catalog.entitleable,
            narrowed,
            api_access: perm("api.access")?,
        })
    }

    /// The five kinds of partner (S1–S4 and a managed-service provider): the grant ceiling
    /// their clients give, and the partner roles their staff receive within it.
    fn profile(&self, i: usize) -> (Vec<RoleId>, Vec<RoleId>) {
        match i % 5 {
            0 => (
                vec![self.admin],
                vec![self.senior_it_manager, self.customer_service, self.read_only],
            ),
            1 => (
                vec![self.senior_it_manager, self.customer_service, self.power_user],
                vec![self.senior_it_manager, self.customer_service, self.power_user],
            ),
            2 => (vec![self.paralegal, self.viewer], vec![self.paralegal, self.viewer]),
            3 => (vec![self.tax_preparer], vec![self.tax_preparer]),
            _ => (
                vec![self.data_estate_admin, self.environment_admin],
                vec![self.data_estate_admin, self.environment_admin],
            ),
        }
    }
}

const FIRST_NAMES: [&str; 16] = [
    "Ada", "Ben", "Cora", "Dev", "Eva", "Finn", "Gia", "Hugo", "Iris", "Jon", "Kai", "Lena",
    "Milo", "Nia", "Omar", "Pia",
];
const LAST_NAMES: [&str; 16] = [
    "Adams", "Baker", "Chen", "Diaz", "Evans", "Fox", "Garcia", "Hill", "Ito", "Jones", "Khan",
    "Lopez", "Meyer", "Novak", "Olsen", "Park",
];

struct Gen<'c> {
    rng: Rng,
    cat: &'c Cat,
    now: Millis,
    tenants: Vec<Tenant>,
    /// Effective entitlements, as `apply` will derive them.
    eff: Vec<PermSet>,
    depth: Vec<u8>,
    n_children: Vec<u32>,
    /// The contiguous block of resource ids of each tenant.
    resource_range: Vec<(u32, u32)>,
    principals: Vec<Principal>,
    assignments: Vec<Vec<Assignment>>,
    /// Delegate chain depth (0 for users).
    chain: Vec<u8>,
    resources: Vec<Resource>,
    grants: Vec<Grant>,
    groups: Vec<Group>,
    placements: Vec<(GroupOwner, TenantId, GroupId)>,
    next_assignment: u32,
    meta: Meta,
}

impl<'c> Gen<'c> {
    fn tenant(
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
    fn child(&mut self, parent: TenantId, key: String, name: String) -> TenantId {
        let own = self.cat.default_entitlements.intersect(self.eff[parent.index()]);
        self.tenant(Some(parent), key, name, own, false)
    }

    fn principal(
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
    fn user(&mut self, home: TenantId, status: Status) -> PrincipalId {
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

    fn assign(&mut self, p: PrincipalId, role: RoleId, scope: Scope, expires_at: Option<Millis>) {
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

    fn group(&mut self, owner: GroupOwner, name: &str, is_default: bool) -> GroupId {
        let id = GroupId(self.groups.len() as u32);
        self.groups.push(Group { id, owner, name: name.to_owned(), is_default, deleted: false });
        id
    }

    fn place(&mut self, owner: GroupOwner, tenant: TenantId, group: GroupId) {
        self.placements.push((owner, tenant, group));
        self.meta.placed.entry(group).or_default().push(tenant);
    }

    /// A random status for a user who is not a tenant's first.
    fn user_status(&mut self) -> Status {
        match self.rng.below(100) {
            0..=2 => Status::Deactivated,
            3 => Status::Invited,
            _ => Status::Active,
        }
    }

    fn resource(
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
    fn resources_in(&mut self, tenant: TenantId, n: usize) {
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

    fn is_active(&self, p: PrincipalId) -> bool {
        self.principals[p.index()].is_active()
    }

    fn delegate(
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
}

/// A random active principal of `list`, trying a few times.
fn active_of(rng: &mut Rng, principals: &[Principal], list: &[PrincipalId]) -> Option<PrincipalId> {
    for _ in 0..16 {
        let p = *rng.pick(list)?;
        if principals[p.index()].is_active() {
            return Some(p);
        }
    }
    None
}

/// Generates the dataset of `size` from `seed`.
pub fn generate(size: Size, seed: u64) -> Result<Dataset, Error> {
    let catalog = Catalog::from_toml(SHIPPED_CATALOG).map_err(|e| Error::Catalog(e.to_string()))?;
    let cat = Cat::new(&catalog)?;
    let params = size.params();
    let base = Rng::new(seed);
    let mut g = Gen {
        rng: base.fork(1),
        cat: &cat,
        now: NOW,
        tenants: Vec::with_capacity(params.tenants + FIXTURE_TENANTS),
        eff: Vec::new(),
        depth: Vec::new(),
        n_children: Vec::new(),
        resource_range: Vec::new(),
        principals: Vec::with_capacity(params.users + params.delegates + 2),
        assignments: Vec::with_capacity(params.users + params.delegates + 2),
        chain: Vec::new(),
        resources: Vec::with_capacity(params.resources + FIXTURE_RESOURCES),
        grants: Vec::with_capacity(params.grants),
        groups: Vec::new(),
        placements: Vec::new(),
        next_assignment: 1,
        meta: Meta::empty(),
    };

    // ----- tenants ----------------------------------------------------------------------
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

    // ----- users ------------------------------------------------------------------------
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
    let company_tops: HashSet<TenantId> = g.meta.companies.iter().copied().collect();
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
            let Some(&client) = g.rng.pick(&customer_tenants) else { break };
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
    for members in &company_tenants {
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

    // ----- resources --------------------------------------------------------------------
    let resource_counts = g.rng.spread(params.resources, customer_tenants.len(), 0);
    for (t, n) in customer_tenants.iter().zip(&resource_counts) {
        g.resources_in(*t, *n);
    }
    let per_fixture_tenant = FIXTURE_RESOURCES / FIXTURE_TENANTS;
    for t in &fixture {
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
    for u in resource_candidates {
        let home = g.principals[u.index()].home;
        let (start, len) = g.resource_range[home.index()];
        let found = (start..start + len).map(ResourceId).find(|r| {
            let ty = g.resources[r.index()].resource_type;
            ty == cat.matter || ty == cat.instance
        });
        let Some(r) = found else {
            ordinary.push(u);
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

    // ----- partner grants, partner groups, partner roles --------------------------------
    let mut pairs: HashSet<(TenantId, TenantId)> = HashSet::with_capacity(params.grants);
    for _ in 0..params.grants {
        let mut chosen = None;
        for _ in 0..64 {
            let i = g.rng.below(n_partners);
            let client = if g.rng.percent(60) {
                *g.rng.pick(&g.meta.companies).unwrap_or(&root)
            } else {
                *g.rng.pick(&customer_tenants).unwrap_or(&root)
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
        for u in std::mem::take(&mut partner_staff[i]) {
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

    // ----- delegates --------------------------------------------------------------------
    g.meta.first_delegate = g.principals.len() as u32;
    let n_chain = params.delegates * 15 / 100;
    let mut chainable: Vec<PrincipalId> = Vec::new();
    let preparers = std::mem::take(&mut g.meta.preparers);
    let direct_holders = std::mem::take(&mut g.meta.direct_holders);
    let subtree_holders = std::mem::take(&mut g.meta.subtree_holders);
    let partner_users = std::mem::take(&mut g.meta.partner_users);
    let mut made = 0;
    let mut attempts = 0;
    while made < params.delegates - n_chain && attempts < 20 * params.delegates {
        attempts += 1;
        let status = if g.rng.percent(97) { Status::Active } else { Status::Invited };
        let linked = g.rng.percent(50);
        let mut access = DelegateAccess { linked_password: linked, ..DelegateAccess::full() };
        let (owner, list) = match g.rng.weighted(&[30, 18, 12, 32, 8]) {
            0 => {
                let Some((owner, groups)) = g.rng.pick(&group_owners).cloned() else { continue };
                let groups = if g.rng.percent(70) {
                    vec![groups[g.rng.below(groups.len())]]
                } else {
                    groups
                };
                access.groups = GroupAccess::Groups(groups);
                (owner, 0)
            }
            1 => {
                let from = if g.rng.percent(50) { &preparers } else { &direct_holders };
                let Some(owner) = active_of(&mut g.rng, &g.principals, from) else { continue };
                let k = *g.rng.pick(&cat.tax_kinds).unwrap_or(&cat.tax_kinds[0]);
                access.kinds = KindAccess::Kinds(vec![k]);
                (owner, 1)
            }
            2 => {
                let Some(owner) = active_of(&mut g.rng, &g.principals, &direct_holders) else {
                    continue;
                };
                let role = g.assignments[owner.index()].iter().find_map(|a| match a.bundle {
                    Bundle::Role(r) if r != cat.default_user && r != cat.admin => Some(r),
                    _ => None,
                });
                let Some(role) = role else { continue };
                access.roles = vec![role];
                (owner, 1)
            }
            3 => {
                let from = match g.rng.below(10) {
                    0..=2 => &subtree_holders,
                    3..=6 => &direct_holders,
                    _ => &ordinary,
                };
                let Some(owner) = active_of(&mut g.rng, &g.principals, from) else { continue };
                (owner, 1)
            }
            _ => {
                let Some(owner) = active_of(&mut g.rng, &g.principals, &partner_users) else {
                    continue;
                };
                (owner, 2)
            }
        };
        if !g.is_active(owner) {
            continue;
        }
        let d = g.delegate(owner, access, status);
        match list {
            0 => g.meta.group_delegates.push(d),
            1 => g.meta.other_delegates.push(d),
            _ => g.meta.partner_delegates.push(d),
        }
        if status == Status::Active && list == 1 {
            chainable.push(d);
        }
        made += 1;
    }
    g.meta.preparers = preparers;
    g.meta.direct_holders = direct_holders;
    g.meta.subtree_holders = subtree_holders;
    g.meta.partner_users = partner_users;
    for _ in 0..n_chain {
        let Some(&owner) = g.rng.pick(&chainable) else { break };
        let home = g.principals[owner.index()].home;
        g.tenants[home.index()].nested_delegates_allowed = true;
        let mut access = DelegateAccess::full();
        if g.rng.percent(30) {
            let k = *g.rng.pick(&cat.tax_kinds).unwrap_or(&cat.tax_kinds[0]);
            access.kinds = KindAccess::Kinds(vec![k]);
        }
        let d = g.delegate(owner, access, Status::Active);
        g.meta.chain_delegates.push(d);
        if g.chain[d.index()] < 3 {
            chainable.push(d);
        }
    }

    // ----- the change list ----------------------------------------------------------------
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
    } = g;
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
    Ok(Dataset { size, seed, now: NOW, changes, meta })
}

/// Applies a dataset to an empty state (what `Deputy::open` does after an import).
pub fn build_state(changes: &[Change]) -> Result<State, Error> {
    let mut state = State::new(Catalog::shipped());
    state.apply(changes).map_err(|e| Error::Apply(e.to_string()))?;
    Ok(state)
}
