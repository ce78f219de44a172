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
//!
//! The phases run in that order, one child module each (`tenants`, `users`, `resources`,
//! `partners`, `delegates`), writing through `builder::Gen`. They draw from one random
//! stream, so their order is part of the dataset: moving a phase changes every dataset.

use crate::Error;
use crate::rng::Rng;
use deputy_core::catalog::SHIPPED_CATALOG;
use deputy_core::*;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

mod builder;
mod catalog_ids;
mod delegates;
mod partners;
mod resources;
mod tenants;
mod users;

use builder::Gen;
use catalog_ids::Cat;

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

    let tree = tenants::tree(&mut g, &params);
    let mut people = users::people(&mut g, &params, &tree);
    resources::resources(&mut g, &params, &tree, &mut people);
    partners::partners(&mut g, &params, &tree, &mut people);
    delegates::delegates(&mut g, &params, &people);
    let (changes, meta) = g.finish();
    Ok(Dataset { size, seed, now: NOW, changes, meta })
}

/// Applies a dataset to an empty state (what `Deputy::open` does after an import).
pub fn build_state(changes: &[Change]) -> Result<State, Error> {
    let mut state = State::new(Catalog::shipped());
    state.apply(changes).map_err(|e| Error::Apply(e.to_string()))?;
    Ok(state)
}
