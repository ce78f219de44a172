//! The check mix: `(principal, permission, target, session)` tuples picked before timing,
//! in categories that exercise the paths of SPEC §8 a portal really asks about — subtree
//! roles, direct and resource roles, delegates limited by groups and in chains, partner
//! users switched into clients, customer managers, and plain denials.
//!
//! A probe is derived from an assignment the principal (or the top of its owner chain)
//! really holds, so most probes are allowed; the rest fail at the step that a real request
//! would (a delegate outside its groups, a grant that does not reach, a role that lacks
//! the permission, a suspended tenant, a deactivated user).

use crate::generate::Meta;
use crate::rng::Rng;
use deputy_core::*;
use serde::{Deserialize, Serialize};

/// What a probe exercises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A subtree role (admin, senior-manager) on a descendant tenant or its resource.
    Subtree,
    /// A tenant-scoped role in the principal's home tenant.
    Direct,
    /// A role on one resource, checked on it or a child (or a sibling: denied).
    ResourceRole,
    /// A delegate limited to some of its owner's groups (R35, R38).
    DelegateGroup,
    /// A delegate of a delegate (of a delegate).
    DelegateChain,
    /// Other delegates: full access, kinds, narrowing roles.
    DelegateOther,
    /// A partner user (or its delegate) switched into a client (R41, R47).
    Partner,
    /// A partner's customer manager switched into a client (R30, R45).
    CustomerManager,
    /// A principal asking about a tenant it has nothing to do with.
    Denial,
}

impl Category {
    pub const ALL: [Category; 9] = [
        Category::Subtree,
        Category::Direct,
        Category::ResourceRole,
        Category::DelegateGroup,
        Category::DelegateChain,
        Category::DelegateOther,
        Category::Partner,
        Category::CustomerManager,
        Category::Denial,
    ];

    /// Share of the mix, in percent.
    pub fn weight(self) -> u32 {
        match self {
            Category::Subtree => 20,
            Category::Direct => 15,
            Category::ResourceRole => 5,
            Category::DelegateGroup => 15,
            Category::DelegateChain => 5,
            Category::DelegateOther => 5,
            Category::Partner => 20,
            Category::CustomerManager => 5,
            Category::Denial => 10,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Category::Subtree => "direct subtree",
            Category::Direct => "direct in home tenant",
            Category::ResourceRole => "resource role",
            Category::DelegateGroup => "delegate through group",
            Category::DelegateChain => "delegate chain (2–3)",
            Category::DelegateOther => "delegate (full/kinds/roles)",
            Category::Partner => "partner switched",
            Category::CustomerManager => "customer manager switched",
            Category::Denial => "denial (unrelated)",
        }
    }
}

/// One check to make.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    pub principal: PrincipalId,
    pub permission: PermId,
    pub target: Target,
    pub ctx: Context,
    pub category: Category,
}

impl Probe {
    /// Runs the check; unknown names count as a denial.
    #[inline]
    pub fn allowed(&self, state: &State, now: Millis) -> bool {
        matches!(
            state.check(self.principal, self.permission, self.target, self.ctx, now),
            Ok(Decision::Allowed)
        )
    }
}

/// Picks probes from a generated state.
#[derive(Debug)]
pub struct Mixer<'a> {
    state: &'a State,
    meta: &'a Meta,
    rng: Rng,
    role_perms: Vec<Vec<PermId>>,
    all_perms: Vec<PermId>,
}

impl<'a> Mixer<'a> {
    pub fn new(state: &'a State, meta: &'a Meta, seed: u64) -> Mixer<'a> {
        let catalog = &state.catalog;
        let role_perms = catalog.roles.iter().map(|r| r.permissions.iter().collect()).collect();
        let all_perms = (0..catalog.permissions.len() as u32).map(PermId).collect();
        Mixer { state, meta, rng: Rng::new(seed), role_perms, all_perms }
    }

    /// `n` probes in the proportions of [`Category::weight`].
    pub fn mix(&mut self, n: usize) -> Vec<Probe> {
        let weights: Vec<u32> = Category::ALL.iter().map(|c| c.weight()).collect();
        (0..n)
            .map(|_| {
                let category = Category::ALL[self.rng.weighted(&weights)];
                self.probe_or_denial(category)
            })
            .collect()
    }

    /// `n` probes of one category.
    pub fn only(&mut self, category: Category, n: usize) -> Vec<Probe> {
        (0..n).map(|_| self.probe_or_denial(category)).collect()
    }

    fn probe_or_denial(&mut self, category: Category) -> Probe {
        for _ in 0..32 {
            if let Some(p) = self.probe(category) {
                return p;
            }
        }
        self.denial()
    }

    /// One probe of `category`, if the pick led somewhere (`None`: pick again).
    pub fn probe(&mut self, category: Category) -> Option<Probe> {
        let meta = self.meta;
        match category {
            Category::Subtree => {
                let h = *self.rng.pick(&meta.subtree_holders)?;
                let a =
                    self.assignment(h, |a| matches!(a.scope, Scope::Tenant { subtree: true, .. }))?;
                let (permission, target) = self.about_assignment(&a);
                Some(self.home(h, permission, target, category))
            }
            Category::Direct => {
                let h = *self.rng.pick(&meta.direct_holders)?;
                let default = self.state.catalog.default_role;
                let a = self.assignment(h, |a| {
                    matches!(a.scope, Scope::Tenant { subtree: false, .. })
                        && a.bundle != Bundle::Role(default)
                })?;
                let (permission, target) = self.about_assignment(&a);
                Some(self.home(h, permission, target, category))
            }
            Category::ResourceRole => {
                let h = *self.rng.pick(&meta.resource_holders)?;
                let a = self.assignment(h, |a| matches!(a.scope, Scope::Resource { .. }))?;
                let (permission, mut target) = self.about_assignment(&a);
                if self.rng.percent(15)
                    && let Target::Resource(r) = target
                    && let Some(res) = self.state.resource(r)
                    && let Some(sibling) = self.resource_in(res.tenant)
                {
                    target = Target::Resource(sibling);
                }
                Some(self.home(h, permission, target, category))
            }
            Category::DelegateGroup => {
                let d = *self.rng.pick(&meta.group_delegates)?;
                let p = self.state.principal(d)?;
                let owner = p.owner()?;
                let groups = match &p.delegate.as_ref()?.groups {
                    GroupAccess::Groups(gs) => gs.clone(),
                    GroupAccess::Full => Vec::new(),
                };
                let inside = if self.rng.percent(70) {
                    let g = *self.rng.pick(&groups)?;
                    let placed = meta.placed.get(&g)?;
                    Some(*self.rng.pick(placed)?)
                } else {
                    None
                };
                let (permission, target) = match inside {
                    Some(t) => {
                        let s = self.state;
                        let covering = self.assignment(owner, |a| match a.scope {
                            Scope::Tenant { tenant, subtree } => {
                                tenant == t || (subtree && s.is_ancestor_or_self(tenant, t))
                            }
                            _ => false,
                        })?;
                        let permission = self.perm_of(covering.bundle);
                        (permission, self.target_in(t, 40))
                    }
                    None => {
                        let a = self.meaningful_assignment(owner)?;
                        self.about_assignment(&a)
                    }
                };
                Some(self.home(d, permission, target, category))
            }
            Category::DelegateChain | Category::DelegateOther => {
                let list = if category == Category::DelegateChain {
                    &meta.chain_delegates
                } else {
                    &meta.other_delegates
                };
                let d = *self.rng.pick(list)?;
                let top = self.top_owner(d);
                let a = self.meaningful_assignment(top)?;
                let (permission, target) = self.about_assignment(&a);
                Some(self.home(d, permission, target, category))
            }
            Category::Partner => {
                let (principal, user) = if self.rng.percent(20) {
                    let d = *self.rng.pick(&meta.partner_delegates)?;
                    (d, self.top_owner(d))
                } else {
                    let u = *self.rng.pick(&meta.partner_users)?;
                    (u, u)
                };
                let a = self.assignment(user, |a| a.scope.is_partner())?;
                let client = match a.scope {
                    Scope::Client { client } => client,
                    Scope::Group { group } => *self.rng.pick(meta.placed.get(&group)?)?,
                    _ => return None,
                };
                let permission = self.perm_of(a.bundle);
                let t = if self.rng.percent(25) { self.descend(client, false) } else { client };
                let target = self.target_in(t, 30);
                Some(Probe {
                    principal,
                    permission,
                    target,
                    ctx: Context::switched(client),
                    category,
                })
            }
            Category::CustomerManager => {
                let u = *self.rng.pick(&meta.customer_managers)?;
                let partner = self.state.principal(u)?.home;
                let client = *self.rng.pick(meta.partner_clients.get(&partner)?)?;
                let ceiling: Vec<RoleId> = self
                    .state
                    .grants_from(client)
                    .find(|g| g.partner == partner)
                    .map(|g| g.ceiling.clone())
                    .unwrap_or_default();
                let permission = match self.rng.pick(&ceiling) {
                    Some(r) if self.rng.percent(85) => self.perm_of(Bundle::Role(*r)),
                    _ => self.any_perm(),
                };
                let t = if self.rng.percent(25) { self.descend(client, false) } else { client };
                let target = self.target_in(t, 30);
                Some(Probe {
                    principal: u,
                    permission,
                    target,
                    ctx: Context::switched(client),
                    category,
                })
            }
            Category::Denial => Some(self.denial()),
        }
    }

    /// A principal checked on a random tenant or resource anywhere: nearly always denied.
    fn denial(&mut self) -> Probe {
        let n_principals = self.state.n_principals().max(1);
        let n_tenants = self.state.n_tenants().max(1);
        let first_delegate = (self.meta.first_delegate as usize).clamp(1, n_principals);
        let tenant = TenantId(self.rng.below(n_tenants) as u32);
        let target = self.target_in(tenant, 40);
        let permission = self.any_perm();
        let (principal, ctx) = match self.rng.below(10) {
            0..=5 => (PrincipalId(self.rng.below(first_delegate) as u32), Context::HOME),
            6..=7 => match self.rng.pick(&self.meta.partner_users) {
                Some(u) => (*u, Context::switched(tenant)),
                None => (PrincipalId(0), Context::HOME),
            },
            _ => {
                let d = first_delegate + self.rng.below(n_principals - first_delegate);
                (PrincipalId(d.min(n_principals - 1) as u32), Context::HOME)
            }
        };
        Probe { principal, permission, target, ctx, category: Category::Denial }
    }

    fn home(
        &self,
        principal: PrincipalId,
        permission: PermId,
        target: Target,
        category: Category,
    ) -> Probe {
        Probe { principal, permission, target, ctx: Context::HOME, category }
    }

    fn top_owner(&self, mut p: PrincipalId) -> PrincipalId {
        for _ in 0..64 {
            match self.state.principal(p).and_then(|x| x.owner()) {
                Some(o) => p = o,
                None => break,
            }
        }
        p
    }

    /// A random assignment of `p` that `want` accepts.
    fn assignment(
        &mut self,
        p: PrincipalId,
        want: impl Fn(&Assignment) -> bool,
    ) -> Option<Assignment> {
        let state = self.state;
        let principal = state.principal(p)?;
        let candidates: Vec<&Assignment> =
            principal.assignments.iter().filter(|a| want(a)).collect();
        self.rng.pick(&candidates).map(|a| (*a).clone())
    }

    /// An assignment other than the default role, or the default role if there is none.
    fn meaningful_assignment(&mut self, p: PrincipalId) -> Option<Assignment> {
        let default = self.state.catalog.default_role;
        self.assignment(p, |a| a.bundle != Bundle::Role(default) && !a.scope.is_partner())
            .or_else(|| self.assignment(p, |a| !a.scope.is_partner()))
    }

    /// A permission and target that an assignment is about.
    fn about_assignment(&mut self, a: &Assignment) -> (PermId, Target) {
        let permission = self.perm_of(a.bundle);
        let target = match a.scope {
            Scope::Tenant { tenant, subtree } => {
                let t = if subtree { self.descend(tenant, true) } else { tenant };
                self.target_in(t, 40)
            }
            Scope::Resource { resource } => {
                let n = self.state.resource_children(resource).count();
                let child = if n > 0 && self.rng.percent(40) {
                    self.state.resource_children(resource).nth(self.rng.below(n))
                } else {
                    None
                };
                Target::Resource(child.unwrap_or(resource))
            }
            Scope::Client { client } => Target::Tenant(client),
            Scope::Group { .. } => Target::Tenant(self.meta.root),
        };
        (permission, target)
    }

    /// Mostly a permission of the bundle, sometimes any permission (often denied).
    fn perm_of(&mut self, bundle: Bundle) -> PermId {
        match bundle {
            Bundle::Role(r) => {
                let perms = self.role_perms.get(r.index()).map_or(&[][..], |v| &v[..]);
                if !perms.is_empty() && self.rng.percent(90) {
                    perms[self.rng.below(perms.len())]
                } else {
                    self.any_perm()
                }
            }
            Bundle::Permission(p) => p,
        }
    }

    fn any_perm(&mut self) -> PermId {
        self.rng.pick(&self.all_perms).copied().unwrap_or(PermId(0))
    }

    /// A tenant at or below `t`, walking down a few random levels; with `strict`, at least
    /// one level when `t` has children.
    fn descend(&mut self, t: TenantId, strict: bool) -> TenantId {
        let mut current = t;
        for step in 0..6 {
            let n = self.state.children(current).count();
            if n == 0 || ((step > 0 || !strict) && self.rng.percent(35)) {
                break;
            }
            current = self.state.children(current).nth(self.rng.below(n)).unwrap_or(current);
        }
        current
    }

    fn resource_in(&mut self, t: TenantId) -> Option<ResourceId> {
        let n = self.state.resources_of(t).count();
        if n == 0 {
            return None;
        }
        self.state.resources_of(t).nth(self.rng.below(n))
    }

    /// `t` itself, or with `percent` chance one of its resources.
    fn target_in(&mut self, t: TenantId, percent: u32) -> Target {
        if self.rng.percent(percent)
            && let Some(r) = self.resource_in(t)
        {
            return Target::Resource(r);
        }
        Target::Tenant(t)
    }
}
