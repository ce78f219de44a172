//! Property tests of the engine on random operation histories: after every step the rules of
//! SPEC.md that must always hold do hold (R5, R27, R35, R38, R53), `check` agrees with a naive
//! reference evaluator in every session context (R51: none, home, switched into any tenant,
//! impersonating), `explain`, the lookups and a caller's answers agree with `check`, and
//! replaying a decided change set gives the decided state.
//!
//! Each case builds a small world (root, 2–4 tenants in a tree, a partner tenant with a grant
//! from one of them, 4–8 users, some delegates, a few resources with kinds) and then runs a
//! random history of 20–60 commands (users, assignments, statuses, delegates, groups, grants,
//! partner roles, entitlements, suspension, and also new tenants and moves), each by a random
//! actor: the console, or a principal at home or switched into a tenant. Most commands are
//! refused; a refused command must leave the state as it was. `PROPTEST_CASES` sets the
//! number of histories per property (48 by default).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use deputy_core::commands::partners::GrantTerms;
use deputy_core::commands::resources::NewResource;
use deputy_core::commands::roles::NewAssignment;
use deputy_core::commands::tenants::NewTenant;
use deputy_core::commands::users::{NewDelegate, NewUser};
use deputy_core::lookup::Subject;
use deputy_core::tx::active_admins;
use deputy_core::*;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const MINUTE: Millis = 60_000;
const HOUR: Millis = 60 * MINUTE;

// ----- generated input ------------------------------------------------------------------------
//
// Everything is generated as small numbers that are resolved against the state when the
// step runs (an index modulo the number of tenants, principals, …), so histories shrink well
// and stay meaningful as the world changes under them.

#[derive(Debug, Clone)]
struct WorldSpec {
    /// One entry per tenant under the root: the index of its parent among those made before.
    tenant_parents: Vec<u8>,
    /// Which tenant grants the partner access.
    client: u8,
    ceiling: Vec<u8>,
    grant_subtree: bool,
    grant_kinds: Option<Vec<u8>>,
    users: Vec<UserSpec>,
    delegates: Vec<DelegateSpec>,
    resources: Vec<ResourceSpec>,
}

#[derive(Debug, Clone)]
struct UserSpec {
    home: u8,
    status: u8,
    role: Option<(u8, bool)>,
    email: u8,
    verified: bool,
}

#[derive(Debug, Clone)]
struct DelegateSpec {
    owner: u8,
    kinds: Option<Vec<u8>>,
    narrow: Option<u8>,
}

#[derive(Debug, Clone)]
struct ResourceSpec {
    tenant: u8,
    /// `None`: an instance (no kind); `Some(None)`: a tax account without a kind.
    kind: Option<Option<u8>>,
    parent: Option<u8>,
}

/// Who runs a step.
#[derive(Debug, Clone, Copy)]
enum ActorPick {
    System,
    Home(u8),
    /// A principal (preferably of a partner tenant) switched into a tenant (preferably a
    /// client of a grant).
    Switched(u8, u8),
}

#[derive(Debug, Clone)]
enum Op {
    CreateUser {
        home: u8,
        status: u8,
        role: Option<u8>,
        email: u8,
    },
    Assign {
        who: u8,
        what: u8,
        perm: bool,
        tenant: u8,
        subtree: bool,
        resource: Option<u8>,
        expires: Option<u8>,
    },
    Unassign {
        who: u8,
        which: u8,
    },
    SetStatus {
        who: u8,
        status: u8,
    },
    Cancel {
        who: u8,
    },
    CreateDelegate {
        owner: u8,
        groups: Option<Vec<u8>>,
        kinds: Option<Vec<u8>>,
        roles: Vec<u8>,
        linked: bool,
    },
    SetDelegateAccess {
        who: u8,
        groups: Option<Vec<u8>>,
        kinds: Option<Vec<u8>>,
        roles: Vec<u8>,
    },
    CreateGroup {
        user_owned: bool,
        owner: u8,
    },
    PlaceInGroup {
        group: u8,
        tenant: u8,
    },
    DeleteGroup {
        group: u8,
    },
    ProposeGrant {
        client: u8,
        partner: u8,
        ceiling: Vec<u8>,
        subtree: bool,
        kinds: Option<Vec<u8>>,
        expires: Option<u8>,
    },
    ApproveGrant {
        grant: u8,
    },
    ChangeGrant {
        grant: u8,
        ceiling: Vec<u8>,
        subtree: bool,
        kinds: Option<Vec<u8>>,
        expires: Option<u8>,
    },
    RevokeGrant {
        grant: u8,
    },
    GivePartnerRole {
        who: u8,
        by_group: bool,
        target: u8,
        role: u8,
        expires: Option<u8>,
    },
    SetEntitlements {
        tenant: u8,
        drop: Vec<u8>,
    },
    SetSuspended {
        tenant: u8,
        suspended: bool,
    },
    VerifyEmail {
        who: u8,
    },
    /// Beyond the list of the brief: tenant creation and moves (R1), which change the tree
    /// that scopes, entitlements and suspension follow.
    CreateTenant {
        parent: u8,
    },
    MoveTenant {
        tenant: u8,
        parent: u8,
    },
}

#[derive(Debug, Clone)]
struct History {
    world: WorldSpec,
    /// (actor, minutes to advance the clock by / 30, command)
    steps: Vec<(ActorPick, u8, Op)>,
    /// Seeds the sampling of checks (which triples, which lookups).
    seed: u64,
}

fn world_spec() -> impl Strategy<Value = WorldSpec> {
    let user = (
        any::<u8>(),
        any::<u8>(),
        option::of((any::<u8>(), any::<bool>())),
        any::<u8>(),
        any::<bool>(),
    )
        .prop_map(|(home, status, role, email, verified)| UserSpec {
            home,
            status,
            role,
            email,
            verified,
        });
    let delegate = (any::<u8>(), option::of(vec(any::<u8>(), 0..=2)), option::of(any::<u8>()))
        .prop_map(|(owner, kinds, narrow)| DelegateSpec { owner, kinds, narrow });
    let resource = (any::<u8>(), option::of(option::of(any::<u8>())), option::of(any::<u8>()))
        .prop_map(|(tenant, kind, parent)| ResourceSpec { tenant, kind, parent });
    (
        vec(any::<u8>(), 2..=4),
        any::<u8>(),
        vec(any::<u8>(), 1..=3),
        any::<bool>(),
        option::weighted(0.3, vec(any::<u8>(), 1..=2)),
        vec(user, 4..=8),
        vec(delegate, 1..=3),
        vec(resource, 2..=4),
    )
        .prop_map(
            |(
                tenant_parents,
                client,
                ceiling,
                grant_subtree,
                grant_kinds,
                users,
                delegates,
                resources,
            )| WorldSpec {
                tenant_parents,
                client,
                ceiling,
                grant_subtree,
                grant_kinds,
                users,
                delegates,
                resources,
            },
        )
}

fn small_list() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..=2)
}

fn op() -> impl Strategy<Value = Op> {
    let b = any::<u8>;
    let flag = any::<bool>;
    let maybe = |p: f64| option::weighted(p, any::<u8>());
    let create_user = (b(), b(), option::of(b()), b())
        .prop_map(|(home, status, role, email)| Op::CreateUser { home, status, role, email });
    let assign = (b(), b(), flag(), b(), flag(), maybe(0.2), maybe(0.3)).prop_map(
        |(who, what, perm, tenant, subtree, resource, expires)| Op::Assign {
            who,
            what,
            perm,
            tenant,
            subtree,
            resource,
            expires,
        },
    );
    let unassign = (b(), b()).prop_map(|(who, which)| Op::Unassign { who, which });
    let set_status = (b(), b()).prop_map(|(who, status)| Op::SetStatus { who, status });
    let cancel = b().prop_map(|who| Op::Cancel { who });
    let create_delegate =
        (b(), option::of(small_list()), option::of(small_list()), small_list(), flag()).prop_map(
            |(owner, groups, kinds, roles, linked)| Op::CreateDelegate {
                owner,
                groups,
                kinds,
                roles,
                linked,
            },
        );
    let set_delegate_access =
        (b(), option::of(small_list()), option::of(small_list()), small_list()).prop_map(
            |(who, groups, kinds, roles)| Op::SetDelegateAccess { who, groups, kinds, roles },
        );
    let create_group =
        (flag(), b()).prop_map(|(user_owned, owner)| Op::CreateGroup { user_owned, owner });
    let place = (b(), b()).prop_map(|(group, tenant)| Op::PlaceInGroup { group, tenant });
    let delete_group = b().prop_map(|group| Op::DeleteGroup { group });
    let grant_kinds = || option::weighted(0.3, small_list());
    let propose = (b(), b(), vec(b(), 1..=2), flag(), grant_kinds(), maybe(0.2)).prop_map(
        |(client, partner, ceiling, subtree, kinds, expires)| Op::ProposeGrant {
            client,
            partner,
            ceiling,
            subtree,
            kinds,
            expires,
        },
    );
    let approve = b().prop_map(|grant| Op::ApproveGrant { grant });
    let change = (b(), vec(b(), 1..=3), flag(), grant_kinds(), maybe(0.2)).prop_map(
        |(grant, ceiling, subtree, kinds, expires)| Op::ChangeGrant {
            grant,
            ceiling,
            subtree,
            kinds,
            expires,
        },
    );
    let revoke = b().prop_map(|grant| Op::RevokeGrant { grant });
    let partner_role =
        (b(), flag(), b(), b(), maybe(0.2)).prop_map(|(who, by_group, target, role, expires)| {
            Op::GivePartnerRole { who, by_group, target, role, expires }
        });
    let entitlements =
        (b(), vec(b(), 0..=3)).prop_map(|(tenant, drop)| Op::SetEntitlements { tenant, drop });
    let suspend =
        (b(), flag()).prop_map(|(tenant, suspended)| Op::SetSuspended { tenant, suspended });
    let verify = b().prop_map(|who| Op::VerifyEmail { who });
    let create_tenant = b().prop_map(|parent| Op::CreateTenant { parent });
    let move_tenant = (b(), b()).prop_map(|(tenant, parent)| Op::MoveTenant { tenant, parent });
    prop_oneof![
        2 => create_user,
        6 => assign,
        3 => unassign,
        3 => set_status,
        1 => cancel,
        2 => create_delegate,
        2 => set_delegate_access,
        2 => create_group,
        3 => place,
        1 => delete_group,
        1 => propose,
        1 => approve,
        1 => change,
        1 => revoke,
        2 => partner_role,
        1 => entitlements,
        1 => suspend,
        1 => verify,
        1 => create_tenant,
        1 => move_tenant,
    ]
}

fn actor_pick() -> impl Strategy<Value = ActorPick> {
    prop_oneof![
        1 => Just(ActorPick::System),
        6 => any::<u8>().prop_map(ActorPick::Home),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(p, t)| ActorPick::Switched(p, t)),
    ]
}

fn history() -> impl Strategy<Value = History> {
    (world_spec(), vec((actor_pick(), any::<u8>(), op()), 20..=60), any::<u64>())
        .prop_map(|(world, steps, seed)| History { world, steps, seed })
}

// ----- running a history ----------------------------------------------------------------------

fn pick<T: Copy>(list: &[T], i: u8) -> Option<T> {
    (!list.is_empty()).then(|| list[usize::from(i) % list.len()])
}

const NO_TENANT: TenantId = TenantId(u32::MAX);
const NO_PRINCIPAL: PrincipalId = PrincipalId(u32::MAX);
const NO_GROUP: GroupId = GroupId(u32::MAX);
const NO_GRANT: GrantId = GrantId(u32::MAX);

type Command = Box<dyn FnOnce(&mut Tx) -> Result<(), CommandError>>;

/// A world being driven through a history.
struct Sim {
    s: State,
    now: Millis,
    serial: u32,
    /// The acting principal of the step being resolved, if any.
    me: Option<PrincipalId>,
    /// The tenants near the actor (the subtree of its home or of the tenant it is switched
    /// into; every tenant for the console): half the picks land there, so that more
    /// commands are ones the actor may do.
    near: Vec<TenantId>,
}

/// One step as it happened.
struct StepRecord {
    before: State,
    actor: Actor,
    now: Millis,
    outcome: Result<Decided<()>, CommandError>,
}

impl StepRecord {
    /// The state after the step: the decided one, or the unchanged one when refused.
    fn after(&self) -> &State {
        match &self.outcome {
            Ok(d) => &d.next,
            Err(_) => &self.before,
        }
    }
}

impl Sim {
    fn tenants(&self) -> Vec<TenantId> {
        self.s.tenants().map(|t| t.id).collect()
    }
    fn partners(&self) -> Vec<TenantId> {
        self.s.tenants().filter(|t| t.partner).map(|t| t.id).collect()
    }
    fn principals(&self) -> Vec<PrincipalId> {
        self.s.principals().map(|p| p.id).collect()
    }
    fn delegates(&self) -> Vec<PrincipalId> {
        self.s.principals().filter(|p| p.delegate.is_some()).map(|p| p.id).collect()
    }
    fn groups(&self) -> Vec<GroupId> {
        self.s.groups().map(|g| g.id).collect()
    }
    fn grants(&self) -> Vec<GrantId> {
        self.s.grants().map(|g| g.id).collect()
    }
    fn resources(&self) -> Vec<ResourceId> {
        self.s.resources().map(|r| r.id).collect()
    }
    fn roles(&self, picks: &[u8]) -> Vec<RoleId> {
        let n = self.s.catalog.roles.len();
        picks.iter().map(|r| RoleId((usize::from(*r) % n) as u32)).collect()
    }
    fn role(&self, pick: u8) -> RoleId {
        self.roles(&[pick])[0]
    }
    /// Narrowing roles for a delegate of `owner`: half the picks among the roles the owner
    /// holds (only those may be given, R34).
    fn delegate_roles(&self, owner: PrincipalId, picks: &[u8]) -> Vec<RoleId> {
        let held: Vec<RoleId> = self.s.principal(owner).map_or_else(Vec::new, |p| {
            let mut held: Vec<RoleId> = p
                .assignments
                .iter()
                .filter_map(|a| match a.bundle {
                    Bundle::Role(r) => Some(r),
                    Bundle::Permission(_) => None,
                })
                .collect();
            held.extend(p.delegate.iter().flat_map(|d| d.roles.iter().copied()));
            held
        });
        picks
            .iter()
            .map(|i| {
                if i.is_multiple_of(2) { pick(&held, i / 2) } else { None }.unwrap_or(self.role(*i))
            })
            .collect()
    }
    fn kinds(&self, picks: &[u8]) -> Vec<KindId> {
        let n = self.s.catalog.kinds.len();
        picks.iter().map(|k| KindId((usize::from(*k) % n) as u32)).collect()
    }
    fn tenant(&self, i: u8) -> TenantId {
        let list = if i.is_multiple_of(2) { self.near.clone() } else { self.tenants() };
        pick(&list, i / 2).unwrap_or(NO_TENANT)
    }
    fn principal(&self, i: u8) -> PrincipalId {
        let list: Vec<PrincipalId> = match i % 3 {
            0 => self.me.into_iter().collect(),
            1 => {
                self.s.principals().filter(|p| self.near.contains(&p.home)).map(|p| p.id).collect()
            }
            _ => self.principals(),
        };
        pick(&list, i / 3).or_else(|| pick(&self.principals(), i)).unwrap_or(NO_PRINCIPAL)
    }
    fn expiry(&self, e: Option<u8>) -> Option<Millis> {
        e.map(|h| self.now + (Millis::from(h % 4) + 1) * HOUR)
    }
    fn name(&mut self, prefix: &str) -> String {
        self.serial += 1;
        format!("{prefix}-{}", self.serial)
    }
    /// Groups owned by `owner` (deleted ones too), else every group.
    fn groups_of_owner(&self, owner: GroupOwner, picks: &[u8]) -> Vec<GroupId> {
        let own: Vec<GroupId> =
            self.s.groups().filter(|g| g.owner == owner).map(|g| g.id).collect();
        let list = if own.is_empty() { self.groups() } else { own };
        picks.iter().map(|i| pick(&list, *i).unwrap_or(NO_GROUP)).collect()
    }

    /// Runs a command as the console during setup; a refusal is tolerated.
    fn sys<T>(&mut self, f: impl FnOnce(&mut Tx) -> Result<T, CommandError>) -> Option<T> {
        let d = self.s.decide(Actor::System, self.now, f).ok()?;
        self.s = d.next;
        Some(d.output)
    }

    fn build(spec: &WorldSpec) -> Sim {
        let w = support::World::new();
        let mut sim = Sim { s: w.s, now: w.now, serial: 0, me: None, near: Vec::new() };
        let root = w.root;
        let mut tenants = vec![root];
        for (i, p) in spec.tenant_parents.iter().enumerate() {
            let parent = pick(&tenants, *p).unwrap();
            let key = format!("t{}", i + 1);
            let t = sim
                .sys(|tx| {
                    tx.create_tenant(
                        parent,
                        NewTenant { name: key.clone(), key, ..Default::default() },
                    )
                })
                .unwrap();
            tenants.push(t);
        }
        let client = pick(&tenants, spec.client).unwrap();
        let partner = sim
            .sys(|tx| {
                tx.create_tenant(
                    root,
                    NewTenant {
                        key: "partner".into(),
                        name: "Partner".into(),
                        ..Default::default()
                    },
                )
            })
            .unwrap();
        sim.sys(|tx| tx.set_partner(partner, true)).unwrap();
        tenants.push(partner);
        let ceiling = sim.roles(&spec.ceiling);
        let kinds = spec.grant_kinds.as_ref().map(|k| sim.kinds(k));
        let terms = GrantTerms {
            ceiling: ceiling.clone(),
            kinds,
            subtree: spec.grant_subtree,
            ..Default::default()
        };
        sim.sys(|tx| tx.propose_grant(client, partner, terms)).unwrap();

        let mut users = Vec::new();
        for (i, u) in spec.users.iter().enumerate() {
            // The first two users are the partner's (the first its admin), so that the
            // grant is used.
            let home = if i < 2 { partner } else { pick(&tenants, u.home).unwrap() };
            let logon = sim.name("user");
            let status = if i < 2 {
                Status::Active
            } else {
                [Status::Active, Status::Active, Status::Pending, Status::Invited]
                    [usize::from(u.status) % 4]
            };
            let new = NewUser {
                home,
                logon: logon.clone(),
                first_name: logon,
                last_name: "Test".into(),
                email: format!("person{}@example.com", u.email % 4),
                phone: None,
                roles: vec![],
                status,
            };
            let Some(id) = sim.sys(|tx| tx.create_user(new)) else { continue };
            users.push(id);
            if u.verified {
                sim.sys(|tx| tx.verify_email(id));
            }
            if i == 1 {
                // A second admin of the partner (partner roles are given by its admins, R41)
                // and its customer manager (R45).
                let scope = Scope::Tenant { tenant: home, subtree: false };
                let manager = sim.s.catalog.roles.iter().position(|r| r.customer_manager);
                let roles = [Some(sim.s.catalog.admin_role), manager.map(|i| RoleId(i as u32))];
                for bundle in roles.into_iter().flatten().map(Bundle::Role) {
                    sim.sys(|tx| {
                        tx.assign(NewAssignment { principal: id, bundle, scope, expires_at: None })
                    });
                }
            }
            if let Some((r, subtree)) = u.role {
                let bundle = Bundle::Role(sim.role(r));
                let scope = Scope::Tenant { tenant: home, subtree };
                sim.sys(|tx| {
                    tx.assign(NewAssignment { principal: id, bundle, scope, expires_at: None })
                });
            }
        }
        let partner_user = users[0];
        sim.sys(|tx| {
            tx.give_partner_role(partner_user, Scope::Client { client }, ceiling[0], None)
        });

        for d in &spec.delegates {
            let owner = pick(&users, d.owner).unwrap();
            let logon = sim.name("delegate");
            let new = NewDelegate {
                owner,
                logon: logon.clone(),
                first_name: logon,
                last_name: "Test".into(),
                email: "delegate@example.com".into(),
                groups: None,
                kinds: d.kinds.as_ref().map(|k| sim.kinds(k)),
                roles: d.narrow.map(|r| vec![sim.role(r)]).unwrap_or_default(),
                linked_password: true,
            };
            if sim.sys(|tx| tx.create_delegate(new.clone())).is_none() {
                sim.sys(|tx| tx.create_delegate(NewDelegate { roles: vec![], ..new }));
            }
        }

        let tax = sim.s.catalog.type_id("tax-account").unwrap();
        let instance = sim.s.catalog.type_id("instance").unwrap();
        let mut made: Vec<(ResourceId, TenantId)> = Vec::new();
        for r in &spec.resources {
            let tenant = pick(&tenants, r.tenant).unwrap();
            let (resource_type, kind) = match r.kind {
                None => (instance, None),
                Some(k) => (tax, k.map(|k| sim.kinds(&[k])[0])),
            };
            let same: Vec<ResourceId> =
                made.iter().filter(|(_, t)| *t == tenant).map(|(r, _)| *r).collect();
            let parent = r.parent.and_then(|p| pick(&same, p));
            let key = sim.name("res");
            let new =
                NewResource { tenant, key: key.clone(), name: key, resource_type, kind, parent };
            if let Some(id) = sim.sys(|tx| tx.create_resource(new)) {
                made.push((id, tenant));
            }
        }
        sim
    }

    fn actor(&self, a: ActorPick) -> Actor {
        match a {
            ActorPick::System => Actor::System,
            ActorPick::Home(i) => {
                // Half the time someone who manages something (a holder of a role ranked 60
                // or more, or a delegate of one), a quarter someone of a partner tenant.
                let strong = |p: &Principal| {
                    p.assignments.iter().any(|a| match a.bundle {
                        Bundle::Role(r) => self.s.catalog.role(r).rank >= 60,
                        Bundle::Permission(_) => false,
                    })
                };
                let managers: Vec<PrincipalId> = self
                    .s
                    .principals()
                    .filter(|p| {
                        strong(p) || p.owner().and_then(|o| self.s.principal(o)).is_some_and(strong)
                    })
                    .map(|p| p.id)
                    .collect();
                let all = self.principals();
                let partners = self.partners();
                let members: Vec<PrincipalId> = self
                    .s
                    .principals()
                    .filter(|p| partners.contains(&p.home))
                    .map(|p| p.id)
                    .collect();
                let id = match i % 4 {
                    0 | 2 => pick(&managers, i / 4),
                    1 => pick(&members, i / 4),
                    _ => pick(&all, i / 4),
                };
                Actor::at_home(id.unwrap_or(all[0]))
            }
            ActorPick::Switched(i, j) => {
                let partners = self.partners();
                let members: Vec<PrincipalId> = self
                    .s
                    .principals()
                    .filter(|p| partners.contains(&p.home))
                    .map(|p| p.id)
                    .collect();
                let all = self.principals();
                let id = if i.is_multiple_of(4) {
                    pick(&all, i / 4)
                } else {
                    pick(&members, i).or(pick(&all, i))
                };
                let clients: Vec<TenantId> = self.s.grants().map(|g| g.client).collect();
                let into = if j.is_multiple_of(2) { pick(&clients, j / 2) } else { None };
                let into = into.or(pick(&self.tenants(), j / 2)).unwrap_or(NO_TENANT);
                Actor::Principal { id: id.unwrap_or(all[0]), ctx: Context::switched(into) }
            }
        }
    }

    /// Resolves a generated command against the current state.
    fn command(&mut self, op: &Op) -> Command {
        match op.clone() {
            Op::CreateUser { home, status, role, email } => {
                let logon = self.name("user");
                let new = NewUser {
                    home: self.tenant(home),
                    logon: logon.clone(),
                    first_name: logon,
                    last_name: "Test".into(),
                    email: format!("person{}@example.com", email % 4),
                    phone: None,
                    roles: role.map(|r| vec![self.role(r)]).unwrap_or_default(),
                    status: [Status::Pending, Status::Invited, Status::Active]
                        [usize::from(status) % 3],
                };
                Box::new(move |tx| tx.create_user(new).map(drop))
            }
            Op::Assign { who, what, perm, tenant, subtree, resource, expires } => {
                let bundle = if perm {
                    let n = self.s.catalog.permissions.len();
                    Bundle::Permission(PermId((usize::from(what) % n) as u32))
                } else {
                    Bundle::Role(self.role(what))
                };
                let scope = match resource.and_then(|r| pick(&self.resources(), r)) {
                    Some(resource) => Scope::Resource { resource },
                    None => Scope::Tenant { tenant: self.tenant(tenant), subtree },
                };
                let new = NewAssignment {
                    principal: self.principal(who),
                    bundle,
                    scope,
                    expires_at: self.expiry(expires),
                };
                Box::new(move |tx| tx.assign(new).map(drop))
            }
            Op::Unassign { who, which } => {
                let p = self.principal(who);
                let ids: Vec<AssignmentId> = self
                    .s
                    .principal(p)
                    .map(|p| p.assignments.iter().map(|a| a.id).collect())
                    .unwrap_or_default();
                let a = pick(&ids, which).unwrap_or(AssignmentId(u32::MAX));
                Box::new(move |tx| tx.unassign(p, a))
            }
            Op::SetStatus { who, status } => {
                let p = self.principal(who);
                let status =
                    [Status::Deactivated, Status::Active, Status::Invited][usize::from(status) % 3];
                Box::new(move |tx| tx.set_status(p, status, None))
            }
            Op::Cancel { who } => {
                let p = self.principal(who);
                Box::new(move |tx| tx.cancel(p))
            }
            Op::CreateDelegate { owner, groups, kinds, roles, linked } => {
                let owner = self.principal(owner);
                let logon = self.name("delegate");
                let new = NewDelegate {
                    owner,
                    logon: logon.clone(),
                    first_name: logon,
                    last_name: "Test".into(),
                    email: "delegate@example.com".into(),
                    groups: groups.map(|g| self.groups_of_owner(GroupOwner::User(owner), &g)),
                    kinds: kinds.map(|k| self.kinds(&k)),
                    roles: self.delegate_roles(owner, &roles),
                    linked_password: linked,
                };
                Box::new(move |tx| tx.create_delegate(new).map(drop))
            }
            Op::SetDelegateAccess { who, groups, kinds, roles } => {
                let mine: Vec<PrincipalId> = self
                    .s
                    .principals()
                    .filter(|p| p.owner().is_some() && p.owner() == self.me)
                    .map(|p| p.id)
                    .collect();
                let list =
                    if who.is_multiple_of(2) && !mine.is_empty() { mine } else { self.delegates() };
                let d = pick(&list, who / 2).unwrap_or(self.principal(who));
                let owner = self.s.principal(d).and_then(|p| p.owner()).unwrap_or(d);
                let groups = groups.map(|g| self.groups_of_owner(GroupOwner::User(owner), &g));
                let kinds = kinds.map(|k| self.kinds(&k));
                let roles = self.delegate_roles(owner, &roles);
                Box::new(move |tx| tx.set_delegate_access(d, groups, kinds, roles))
            }
            Op::CreateGroup { user_owned, owner } => {
                let owner = if user_owned {
                    GroupOwner::User(self.principal(owner))
                } else if owner.is_multiple_of(2) {
                    GroupOwner::Tenant(
                        pick(&self.partners(), owner / 2).unwrap_or(self.tenant(owner)),
                    )
                } else {
                    GroupOwner::Tenant(self.tenant(owner / 2))
                };
                let name = self.name("group");
                Box::new(move |tx| tx.create_group(owner, name).map(drop))
            }
            Op::PlaceInGroup { group, tenant } => {
                let g = pick(&self.groups(), group).unwrap_or(NO_GROUP);
                let t = self.tenant(tenant);
                Box::new(move |tx| tx.place_in_group(g, t))
            }
            Op::DeleteGroup { group } => {
                let g = pick(&self.groups(), group).unwrap_or(NO_GROUP);
                Box::new(move |tx| tx.delete_group(g))
            }
            Op::ProposeGrant { client, partner, ceiling, subtree, kinds, expires } => {
                let client = self.tenant(client);
                let partner = if partner.is_multiple_of(2) {
                    pick(&self.partners(), partner / 2).unwrap_or(self.tenant(partner))
                } else {
                    self.tenant(partner / 2)
                };
                let terms = GrantTerms {
                    ceiling: self.roles(&ceiling),
                    kinds: kinds.map(|k| self.kinds(&k)),
                    subtree,
                    expires_at: self.expiry(expires),
                    auto_extend: false,
                };
                Box::new(move |tx| tx.propose_grant(client, partner, terms).map(drop))
            }
            Op::ApproveGrant { grant } => {
                let g = pick(&self.grants(), grant).unwrap_or(NO_GRANT);
                Box::new(move |tx| tx.approve_grant(g))
            }
            Op::ChangeGrant { grant, ceiling, subtree, kinds, expires } => {
                let g = pick(&self.grants(), grant).unwrap_or(NO_GRANT);
                let terms = GrantTerms {
                    ceiling: self.roles(&ceiling),
                    kinds: kinds.map(|k| self.kinds(&k)),
                    subtree,
                    expires_at: self.expiry(expires),
                    auto_extend: false,
                };
                Box::new(move |tx| tx.change_grant(g, terms))
            }
            Op::RevokeGrant { grant } => {
                let g = pick(&self.grants(), grant).unwrap_or(NO_GRANT);
                Box::new(move |tx| tx.revoke_grant(g))
            }
            Op::GivePartnerRole { who, by_group, target, role, expires } => {
                let role_pick = role;
                let partners = self.partners();
                let members: Vec<PrincipalId> = self
                    .s
                    .principals()
                    .filter(|p| partners.contains(&p.home))
                    .map(|p| p.id)
                    .collect();
                let user = if who.is_multiple_of(4) {
                    self.principal(who / 4)
                } else {
                    pick(&members, who).unwrap_or(self.principal(who))
                };
                let home = self.s.principal(user).map_or(NO_TENANT, |p| p.home);
                let scope = if by_group {
                    Scope::Group {
                        group: self.groups_of_owner(GroupOwner::Tenant(home), &[target])[0],
                    }
                } else {
                    let clients: Vec<TenantId> = self.s.grants_to(home).map(|g| g.client).collect();
                    let client = if target.is_multiple_of(2) {
                        pick(&clients, target / 2).unwrap_or(self.tenant(target))
                    } else {
                        self.tenant(target / 2)
                    };
                    Scope::Client { client }
                };
                let ceilings: Vec<RoleId> =
                    self.s.grants_to(home).flat_map(|g| g.ceiling.iter().copied()).collect();
                let role = if role.is_multiple_of(2) { pick(&ceilings, role / 2) } else { None };
                let role = role.unwrap_or(self.role(role_pick));
                let expires_at = self.expiry(expires);
                Box::new(move |tx| tx.give_partner_role(user, scope, role, expires_at).map(drop))
            }
            Op::SetEntitlements { tenant, drop } => {
                let t = self.tenant(tenant);
                let catalog = &self.s.catalog;
                let entitleable: Vec<PermId> = catalog.entitleable.iter().collect();
                let dropped: Vec<PermId> =
                    drop.iter().filter_map(|i| pick(&entitleable, *i)).collect();
                let names: Vec<String> = entitleable
                    .iter()
                    .filter(|p| !dropped.contains(p))
                    .map(|p| catalog.perm_name(*p).to_owned())
                    .collect();
                Box::new(move |tx| tx.set_entitlements(t, &names))
            }
            Op::SetSuspended { tenant, suspended } => {
                let t = self.tenant(tenant);
                Box::new(move |tx| tx.set_suspended(t, suspended))
            }
            Op::VerifyEmail { who } => {
                let p = self.principal(who);
                Box::new(move |tx| tx.verify_email(p))
            }
            Op::CreateTenant { parent } => {
                let parent = self.tenant(parent);
                let key = self.name("tenant");
                Box::new(move |tx| {
                    tx.create_tenant(
                        parent,
                        NewTenant { name: key.clone(), key, ..Default::default() },
                    )
                    .map(drop)
                })
            }
            Op::MoveTenant { tenant, parent } => {
                let (t, parent) = (self.tenant(tenant), self.tenant(parent));
                Box::new(move |tx| tx.move_tenant(t, parent))
            }
        }
    }

    fn step(&mut self, pick_actor: ActorPick, minutes: u8, op: &Op) -> StepRecord {
        self.now += Millis::from(minutes % 3) * 30 * MINUTE;
        let actor = self.actor(pick_actor);
        self.me = actor.principal();
        self.near = match actor {
            Actor::System => self.tenants(),
            Actor::Principal { id, ctx } => {
                let home = self.s.principal(id).map_or(NO_TENANT, |p| p.home);
                self.s.subtree(ctx.switched.unwrap_or(home))
            }
        };
        let command = self.command(op);
        let before = self.s.clone();
        let snapshot = state_json(&before);
        let outcome = before.decide(actor, self.now, command);
        if outcome.is_err() {
            // Deciding works on a scratch copy: a refusal changes nothing.
            assert_eq!(state_json(&before), snapshot, "a refused command changed the state");
        }
        if let Ok(d) = &outcome {
            self.s = d.next.clone();
        }
        StepRecord { before, actor, now: self.now, outcome }
    }
}

/// Builds the world of `h` and runs its history, calling `check` after every step (and once
/// on the built world, as a step with nothing done).
fn run(h: &History, mut check: impl FnMut(&StepRecord, &mut Rng)) {
    let mut sim = Sim::build(&h.world);
    let mut rng = Rng(h.seed);
    let setup = StepRecord {
        before: sim.s.clone(),
        actor: Actor::System,
        now: sim.now,
        outcome: Err(CommandError::invalid("none", "the built world, before any step")),
    };
    check(&setup, &mut rng);
    for (actor, minutes, op) in &h.steps {
        let record = sim.step(*actor, *minutes, op);
        check(&record, &mut rng);
    }
}

fn state_json(s: &State) -> String {
    serde_json::to_string(&s.to_changes()).unwrap()
}

/// splitmix64: a small deterministic generator for sampling checks inside a case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn choose<T: Copy>(&mut self, list: &[T]) -> T {
        list[self.below(list.len())]
    }
}

// ----- the reference evaluator ----------------------------------------------------------------

/// Which paths of step 6 a session counts (R51), derived here from the context's fields
/// independently of the engine: a switched session counts partner paths into its client,
/// a home session direct paths, no session both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefReach {
    Home,
    Switched(TenantId),
    Anywhere,
}

impl RefReach {
    fn of(ctx: Context) -> RefReach {
        if let Some(c) = ctx.switched {
            RefReach::Switched(c)
        } else if ctx.sessionless {
            RefReach::Anywhere
        } else {
            RefReach::Home
        }
    }
}

/// A naive, slow re-implementation of `check` from SPEC §8, in every session context:
/// at home, switched into a client, without a session, and impersonating (step 2). It
/// reads only the stored entities (parents, suspension flags, own entitlement sets,
/// statuses, assignments, delegate access, groups and placements, grants with their
/// bindings), never the engine's derived fields or indexes, and walks everything anew.
/// Step 1 is assumed (every id it is given exists).
struct Reference<'a> {
    s: &'a State,
    now: Millis,
}

impl<'a> Reference<'a> {
    fn new(s: &'a State, now: Millis) -> Self {
        Reference { s, now }
    }

    fn parent(&self, t: TenantId) -> Option<TenantId> {
        self.s.tenant(t).and_then(|t| t.parent)
    }

    /// `t` and its ancestors, `t` first.
    fn up(&self, t: TenantId) -> Vec<TenantId> {
        let mut out = vec![t];
        while let Some(p) = self.parent(*out.last().unwrap()) {
            out.push(p);
        }
        out
    }

    fn is_ancestor_or_self(&self, a: TenantId, t: TenantId) -> bool {
        self.up(t).contains(&a)
    }

    /// R8: `t` or one of its ancestors is suspended.
    fn suspended(&self, t: TenantId) -> bool {
        self.up(t).iter().any(|u| self.s.tenant(*u).unwrap().suspended)
    }

    /// R3: own ∩ parent's effective; the root has every non-core permission.
    fn entitlements(&self, t: TenantId) -> PermSet {
        match self.parent(t) {
            None => self.s.catalog.entitleable,
            Some(p) => self.s.tenant(t).unwrap().own_entitlements.intersect(self.entitlements(p)),
        }
    }

    fn resource_is_ancestor_or_self(&self, a: ResourceId, r: ResourceId) -> bool {
        let mut cur = Some(r);
        while let Some(c) = cur {
            if c == a {
                return true;
            }
            cur = self.s.resource(c).unwrap().parent;
        }
        false
    }

    /// R38: the live group of `owner` that holds `t`: the one it is placed in, else Default.
    fn group_holding(&self, owner: GroupOwner, t: TenantId) -> Option<GroupId> {
        let live: Vec<&Group> =
            self.s.groups().filter(|g| g.owner == owner && !g.deleted).collect();
        live.iter()
            .find(|g| !g.is_default && self.s.placed_in(g.id).contains(&t))
            .or_else(|| live.iter().find(|g| g.is_default))
            .map(|g| g.id)
    }

    fn holds(&self, bundle: Bundle, x: PermId) -> bool {
        match bundle {
            Bundle::Role(r) => self.s.catalog.role(r).permissions.contains(x),
            Bundle::Permission(p) => p == x,
        }
    }

    fn bundle_rank(&self, bundle: Bundle) -> i32 {
        match bundle {
            Bundle::Role(r) => self.s.catalog.role(r).rank,
            Bundle::Permission(_) => 0,
        }
    }

    fn target(&self, target: Target) -> (TenantId, Option<ResourceId>, Option<KindId>) {
        match target {
            Target::Tenant(t) => (t, None, None),
            Target::Resource(r) => {
                let res = self.s.resource(r).unwrap();
                (res.tenant, Some(r), res.kind)
            }
        }
    }

    /// R40, R46: a grant gives something when it and every grant it is bound to are active
    /// and unexpired; a bound grant's ceiling and kinds are those at the end of its chain.
    fn effective(&self, g: &'a Grant) -> Option<&'a Grant> {
        let mut current = g;
        let mut seen = BTreeSet::new();
        loop {
            let live = current.status == GrantStatus::Active
                && current.expires_at.is_none_or(|e| self.now < e);
            if !live || !seen.insert(current.id) {
                return None;
            }
            match current.bound_to {
                None => return Some(current),
                Some(b) => current = self.s.grant(b)?,
            }
        }
    }

    /// R41: every permission of the role is in some ceiling role, and its rank is not
    /// above the highest ceiling role's.
    fn within_ceiling(&self, bundle: Bundle, ceiling: &[RoleId]) -> bool {
        let catalog = &self.s.catalog;
        match bundle {
            Bundle::Permission(x) => {
                ceiling.iter().any(|c| catalog.role(*c).permissions.contains(x))
            }
            Bundle::Role(r) => {
                let role = catalog.role(r);
                let top = ceiling.iter().map(|c| catalog.role(*c).rank).max();
                top.is_some_and(|top| role.rank <= top)
                    && all_perms(self.s).into_iter().all(|x| {
                        !role.permissions.contains(x)
                            || ceiling.iter().any(|c| catalog.role(*c).permissions.contains(x))
                    })
            }
        }
    }

    /// R30, R45: a partner tenant's principal holding `customer-manager` there.
    fn customer_manager(&self, p: &Principal) -> bool {
        let catalog = &self.s.catalog;
        self.s.tenant(p.home).unwrap().partner
            && p.assignments.iter().any(|a| {
                a.expires_at.is_none_or(|e| self.now < e)
                    && matches!(a.bundle, Bundle::Role(r) if catalog.role(r).customer_manager)
                    && match a.scope {
                        Scope::Tenant { tenant, subtree } => {
                            tenant == p.home
                                || (subtree && self.is_ancestor_or_self(tenant, p.home))
                        }
                        _ => false,
                    }
            })
    }

    /// The grants to `p`'s home that a session switched into `client` may use on tenant
    /// `t` (R43, R47), with the tenant each comes from: from `t` itself, or from an
    /// ancestor with subtree scope; and the switched tenant must be the granter, or below
    /// it with a subtree grant. `client` must be `t` or above it.
    fn usable_grants(&self, p: &Principal, t: TenantId, client: TenantId) -> Vec<&'a Grant> {
        if !self.is_ancestor_or_self(client, t) {
            return Vec::new();
        }
        self.s
            .grants()
            .filter(|g| g.partner == p.home && self.is_ancestor_or_self(g.client, t))
            .filter(|g| g.client == t || g.subtree)
            .filter(|g| {
                g.client == client || (g.subtree && self.is_ancestor_or_self(g.client, client))
            })
            .collect()
    }

    /// Whether `p`'s assignment `a` is a role given for the client of grant `g` (R41): per
    /// client, or through the live group of its home tenant that holds the client.
    fn given_for(&self, p: &Principal, a: &Assignment, g: &Grant) -> bool {
        match a.scope {
            Scope::Client { client } => client == g.client,
            Scope::Group { group } => {
                self.group_holding(GroupOwner::Tenant(p.home), g.client) == Some(group)
            }
            _ => false,
        }
    }

    /// `check(p, x, target, ctx)`.
    fn allowed_in(&self, p: PrincipalId, x: PermId, target: Target, ctx: Context) -> bool {
        let reach = RefReach::of(ctx);
        let Some(imp) = ctx.impersonation else { return self.allowed(p, x, target, reach) };
        // Step 2 (R48, R68): unexpired, an active target, an impersonator that still holds
        // `impersonate` in the target's home in its own session at a rank not below the
        // target's (taken at home); then the target at home, never beyond the impersonator.
        let q = self.s.principal(p).unwrap();
        let impersonate = self.s.catalog.permission_id("impersonate").unwrap();
        self.now < imp.expires_at
            && q.status == Status::Active
            && self.allowed(imp.actor, impersonate, Target::Tenant(q.home), reach)
            && self.rank(imp.actor, q.home, reach) >= self.rank(p, q.home, RefReach::Home)
            && self.allowed(p, x, target, RefReach::Home)
            && self.allowed(imp.actor, x, target, reach)
    }

    /// Steps 3–9 for `p`, counting the paths `reach` allows.
    fn allowed(&self, p: PrincipalId, x: PermId, target: Target, reach: RefReach) -> bool {
        let catalog = &self.s.catalog;
        let (t, resource, kind) = self.target(target);
        let principal = self.s.principal(p).unwrap();
        let perm = catalog.permission(x);
        let checks_read = perm.name == "checks.read";
        // Step 3 (R8): nothing in a suspended subtree, nothing for its principals anywhere;
        // `checks.read` held from outside a suspended subtree still answers on it.
        if self.suspended(t) && !checks_read {
            return false;
        }
        if self.suspended(principal.home) {
            return false;
        }
        // Step 4 (R11, R36): active, and so is every owner up the chain.
        let mut chain = Some(principal);
        while let Some(q) = chain {
            if q.status != Status::Active {
                return false;
            }
            chain = q.owner().map(|o| self.s.principal(o).unwrap());
        }
        // Step 5 (R3, R31).
        if !perm.core && !self.entitlements(t).contains(x) {
            return false;
        }
        if perm.root_only && self.parent(t).is_some() {
            return false;
        }
        // A kind filter passes a resource of one of its kinds; a tenant target has no
        // kind, so only core permissions pass there (R38).
        let kind_passes = |kinds: &[KindId]| match (resource, kind) {
            (Some(_), Some(k)) => kinds.contains(&k),
            (Some(_), None) => false,
            (None, _) => perm.core,
        };
        let paths = match (&principal.delegate, principal.owner()) {
            // Step 9 (R35, R38): groups, kinds, narrowing roles, and the owner may too, in
            // the same session context.
            (Some(access), Some(owner)) => {
                let in_groups = match &access.groups {
                    GroupAccess::Full => true,
                    GroupAccess::Groups(gs) => self
                        .group_holding(GroupOwner::User(owner), t)
                        .is_some_and(|g| gs.contains(&g)),
                };
                let kind_ok = match &access.kinds {
                    KindAccess::All => true,
                    KindAccess::Kinds(ks) => kind_passes(ks),
                };
                let roles_ok = access.roles.is_empty()
                    || access.roles.iter().any(|r| self.holds(Bundle::Role(*r), x));
                in_groups && kind_ok && roles_ok && self.allowed(owner, x, target, reach)
            }
            // Steps 6–7.
            _ => {
                let direct = || {
                    // A live direct assignment holding x that covers the target (direct
                    // paths carry no kind filter).
                    principal.assignments.iter().any(|a| {
                        let (covers, scope_tenant) = match a.scope {
                            Scope::Tenant { tenant, subtree } => (
                                tenant == t || (subtree && self.is_ancestor_or_self(tenant, t)),
                                tenant,
                            ),
                            Scope::Resource { resource: r } => (
                                resource.is_some_and(|tr| self.resource_is_ancestor_or_self(r, tr)),
                                self.s.resource(r).unwrap().tenant,
                            ),
                            Scope::Client { .. } | Scope::Group { .. } => return false,
                        };
                        a.expires_at.is_none_or(|e| self.now < e)
                            && self.holds(a.bundle, x)
                            && covers
                            && !(checks_read && self.suspended(scope_tenant))
                    })
                };
                let partner = |client: TenantId| {
                    // A usable grant and a role holding x within its ceiling, given for its
                    // client or held as customer manager, passing the grant's kinds.
                    let manager = self.customer_manager(principal);
                    self.usable_grants(principal, t, client).into_iter().any(|g| {
                        if checks_read && self.suspended(g.client) {
                            return false;
                        }
                        let Some(terms) = self.effective(g) else { return false };
                        if !terms.kinds.as_deref().is_none_or(kind_passes) {
                            return false;
                        }
                        let given = principal.assignments.iter().any(|a| {
                            a.expires_at.is_none_or(|e| self.now < e)
                                && self.given_for(principal, a, g)
                                && self.within_ceiling(a.bundle, &terms.ceiling)
                                && self.holds(a.bundle, x)
                        });
                        let managed = manager
                            && terms.ceiling.iter().any(|r| self.holds(Bundle::Role(*r), x));
                        given || managed
                    })
                };
                match reach {
                    RefReach::Home => direct(),
                    RefReach::Switched(c) => partner(c),
                    // Without a session every grant that covers the target counts: as if
                    // switched into the target's tenant itself.
                    RefReach::Anywhere => direct() || partner(t),
                }
            }
        };
        // Step 8 (R26): every requirement passes these steps on the same target.
        paths && perm.requires.iter().all(|r| self.allowed(p, *r, target, reach))
    }

    /// rank(p, t) in a session (R29a): the highest rank among the roles step 6 counts for
    /// `p` in `t` (unexpired; status and kinds aside), compared by number and then by
    /// origin (from a proper ancestor's subtree assignment or a grant); a delegate's is its
    /// owner's, capped by its narrowing roles.
    fn rank(&self, p: PrincipalId, t: TenantId, reach: RefReach) -> Rank {
        let principal = self.s.principal(p).unwrap();
        if let (Some(access), Some(owner)) = (&principal.delegate, principal.owner()) {
            let owner_rank = self.rank(owner, t, reach);
            let cap = access.roles.iter().map(|r| self.s.catalog.role(*r).rank).max();
            return match cap {
                Some(cap) if cap < owner_rank.value => Rank { value: cap, from_above: false },
                _ => owner_rank,
            };
        }
        let live = |a: &&Assignment| a.expires_at.is_none_or(|e| self.now < e);
        let direct = || {
            principal
                .assignments
                .iter()
                .filter(live)
                .filter_map(|a| match a.scope {
                    Scope::Tenant { tenant, subtree }
                        if tenant == t || (subtree && self.is_ancestor_or_self(tenant, t)) =>
                    {
                        Some(Rank { value: self.bundle_rank(a.bundle), from_above: tenant != t })
                    }
                    _ => None,
                })
                .max()
                .unwrap_or(Rank::NONE)
        };
        let partner = |client: TenantId| {
            let manager = self.customer_manager(principal);
            let mut best = Rank::NONE;
            for g in self.usable_grants(principal, t, client) {
                let Some(terms) = self.effective(g) else { continue };
                for a in principal.assignments.iter().filter(live) {
                    if self.given_for(principal, a, g)
                        && self.within_ceiling(a.bundle, &terms.ceiling)
                    {
                        best =
                            best.max(Rank { value: self.bundle_rank(a.bundle), from_above: true });
                    }
                }
                if manager {
                    for r in &terms.ceiling {
                        best = best
                            .max(Rank { value: self.s.catalog.role(*r).rank, from_above: true });
                    }
                }
            }
            best
        };
        match reach {
            RefReach::Home => direct(),
            RefReach::Switched(c) => partner(c),
            RefReach::Anywhere => direct().max(partner(t)),
        }
    }
}

// ----- helpers for the properties -------------------------------------------------------------

fn all_targets(s: &State) -> Vec<Target> {
    s.tenants()
        .map(|t| Target::Tenant(t.id))
        .chain(s.resources().map(|r| Target::Resource(r.id)))
        .collect()
}

fn all_perms(s: &State) -> Vec<PermId> {
    (0..s.catalog.permissions.len() as u32).map(PermId).collect()
}

fn allowed(
    s: &State,
    p: PrincipalId,
    x: PermId,
    target: Target,
    ctx: Context,
    now: Millis,
) -> bool {
    s.check(p, x, target, ctx, now).unwrap().is_allowed()
}

/// The tenants some grant names as client: where partner users switch to.
fn grant_clients(s: &State) -> Vec<TenantId> {
    let set: BTreeSet<TenantId> = s.grants().map(|g| g.client).collect();
    set.into_iter().collect()
}

/// The contexts worth checking `p` in exhaustively: without a session (the API's default,
/// R51), at home, and switched into each grant's client when its home is a grant's
/// partner.
fn contexts(s: &State, p: PrincipalId) -> Vec<Context> {
    let home = s.principal(p).unwrap().home;
    let mut out = vec![Context::NONE, Context::HOME];
    if s.grants().any(|g| g.partner == home) {
        out.extend(grant_clients(s).into_iter().map(Context::switched));
    }
    out
}

/// A random session for a check of `p`: any of [`contexts`], switched into any tenant at
/// all, or impersonating `p` (R48) from a home, switched or session-free context, by an
/// actor that mostly holds `impersonate` in `p`'s home, live or expired.
fn random_context(s: &State, rng: &mut Rng, p: PrincipalId, now: Millis) -> Context {
    let tenants: Vec<TenantId> = s.tenants().map(|t| t.id).collect();
    let principals: Vec<PrincipalId> = s.principals().map(|q| q.id).collect();
    match rng.below(4) {
        0 => rng.choose(&contexts(s, p)),
        1 => Context::switched(rng.choose(&tenants)),
        _ => {
            let home = s.principal(p).unwrap().home;
            let impersonate = s.catalog.permission_id("impersonate").unwrap();
            let able: Vec<PrincipalId> = principals
                .iter()
                .copied()
                .filter(|a| {
                    *a != p
                        && [Context::HOME, Context::NONE]
                            .into_iter()
                            .chain(grant_clients(s).into_iter().map(Context::switched))
                            .any(|c| allowed(s, *a, impersonate, Target::Tenant(home), c, now))
                })
                .collect();
            let actor = if !able.is_empty() && rng.below(3) > 0 {
                rng.choose(&able)
            } else {
                rng.choose(&principals)
            };
            let expires_at = if rng.below(5) == 0 { now } else { now + HOUR };
            let mut ctx = match rng.below(3) {
                0 => Context::HOME,
                1 => Context::NONE,
                _ => Context::switched(rng.choose(&tenants)),
            };
            ctx.impersonation = Some(Impersonation { actor, expires_at });
            ctx
        }
    }
}

/// A caller that may name nothing: explain and check answer for it without disclosing
/// (R52, R58), which never changes the decision.
fn names_nothing(_: deputy_core::check::Entity) -> bool {
    false
}

fn describe(r: &StepRecord) -> String {
    match &r.outcome {
        Ok(d) => format!(
            "after {:?} at {} did {:?}",
            r.actor,
            r.now,
            d.events.iter().map(|e| e.action).collect::<Vec<_>>()
        ),
        Err(e) => format!("after {:?} at {} was refused: {e}", r.actor, r.now),
    }
}

// ----- the properties -------------------------------------------------------------------------

/// 48 cases per property keep the file under a minute in debug on two cores; set
/// `PROPTEST_CASES` for a deeper run. Failures are not persisted: a failing history is
/// printed, shrunk, in the test's output.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// R5: a tenant that had an active admin before a step has one after it, unless the actor
/// was a principal holding `tenants.manage` over the tenant from above (the one exemption,
/// which must be audited as `tenant.left_without_admin`); and a tenant that has an active
/// admin is marked as having had one, or R5 would not protect it later.
fn r5_tenant_keeps_an_active_admin_holds(h: &History) {
    run(h, |r, _| {
        let s = r.after();
        for t in s.tenants() {
            let admins = active_admins(s, t.id).count();
            let had_before = active_admins(&r.before, t.id).next().is_some();
            if had_before && admins == 0 {
                let exempt = match r.actor {
                    Actor::Principal { id, ctx } => {
                        let manage = r.before.catalog.permission_id("tenants.manage").unwrap();
                        r.before.check_over(id, manage, t.id, ctx, r.now).unwrap()
                    }
                    Actor::System => false,
                };
                let audited = r.outcome.as_ref().is_ok_and(|d| {
                    d.events
                        .iter()
                        .any(|e| e.action == "tenant.left_without_admin" && e.tenant == Some(t.id))
                });
                assert!(
                    exempt && audited,
                    "tenant {} had an admin and has none {} (exempt: {exempt}, audited: {audited})",
                    t.key,
                    describe(r)
                );
            }
            if admins > 0 {
                assert!(
                    t.had_admin,
                    "tenant {} has an active admin but is not marked had_admin {}",
                    t.key,
                    describe(r)
                );
            }
        }
    });
}

/// R27: every assignment created in a step by a principal (itself, or by the system on
/// its behalf: R4's admin, R19's default role) confers only permissions that principal
/// held, before the step and in its session, in every tenant the assignment covers.
/// Partner roles are governed by R41 instead and are left out.
fn r27_no_permission_given_by_someone_who_lacked_it_holds(h: &History) {
    run(h, |r, _| {
        let (Ok(d), Actor::Principal { id: actor, ctx }) = (&r.outcome, r.actor) else { return };
        let before = &r.before;
        let old: BTreeSet<AssignmentId> =
            before.principals().flat_map(|p| p.assignments.iter().map(|a| a.id)).collect();
        let reference = Reference::new(before, r.now);
        let catalog = &before.catalog;
        for p in d.next.principals() {
            for a in p.assignments.iter().filter(|a| !old.contains(&a.id) && !a.scope.is_partner())
            {
                assert!(
                    a.created_by == Author::Principal(actor) || a.created_by == Author::System,
                    "assignment {:?} authored by {:?} in a step by {actor}",
                    a.id,
                    a.created_by
                );
                let targets: Vec<Target> = match a.scope {
                    Scope::Tenant { tenant, subtree: false } => vec![Target::Tenant(tenant)],
                    Scope::Tenant { tenant, subtree: true } => before
                        .tenants()
                        .filter(|t| reference.is_ancestor_or_self(tenant, t.id))
                        .map(|t| Target::Tenant(t.id))
                        .collect(),
                    Scope::Resource { resource } => vec![Target::Resource(resource)],
                    Scope::Client { .. } | Scope::Group { .. } => unreachable!(),
                };
                let given = match a.bundle {
                    Bundle::Role(role) => catalog.role(role).permissions,
                    Bundle::Permission(x) => std::iter::once(x).collect(),
                };
                for target in targets {
                    let (t, _, _) = reference.target(target);
                    // R31: what the bundle actually confers there.
                    let mut effective =
                        given.intersect(catalog.core.union(reference.entitlements(t)));
                    if reference.parent(t).is_some() {
                        effective = effective.minus(catalog.root_only);
                    }
                    for x in effective.iter() {
                        let held = reference.allowed_in(actor, x, target, ctx);
                        assert!(
                            held,
                            "{actor} gave {:?} to {} ({:?}) conferring {} on {target:?}, which it lacked {}",
                            a.bundle,
                            p.logon,
                            a.scope,
                            catalog.perm_name(x),
                            describe(r)
                        );
                    }
                }
            }
        }
    });
}

/// The engine's `check` agrees with the reference evaluator at home: on a random sample of
/// (principal, permission, target) triples after every step, and on every triple at the
/// end of the history and on the built world.
fn engine_agrees_with_reference_evaluator_holds(h: &History) {
    let steps = h.steps.len();
    let mut n = 0;
    run(h, |r, rng| {
        let s = r.after();
        let reference = Reference::new(s, r.now);
        let principals: Vec<PrincipalId> = s.principals().map(|p| p.id).collect();
        let perms = all_perms(s);
        let targets = all_targets(s);
        // check, explain and the disclosure-safe check and explain of a caller all decide
        // as the reference does (batch is check per item on one snapshot).
        let agree = |p: PrincipalId, x: PermId, target: Target, ctx: Context| {
            let engine = allowed(s, p, x, target, ctx, r.now);
            let naive = reference.allowed_in(p, x, target, ctx);
            let why = || {
                format!(
                    "check({}, {}, {target:?}, {ctx:?}) {}",
                    s.principal(p).unwrap().logon,
                    s.catalog.perm_name(x),
                    describe(r)
                )
            };
            assert_eq!(engine, naive, "engine {engine}, reference {naive}: {}", why());
            let explained = s.explain(p, x, target, ctx, r.now).unwrap();
            assert_eq!(explained.decision.is_allowed(), engine, "explain disagrees: {}", why());
            assert_eq!(
                explained.reason.is_none(),
                engine,
                "a denial gives a reason, an allow none: {}",
                why()
            );
            let seen = s.check_as(p, x, target, ctx, r.now, &names_nothing).unwrap();
            assert_eq!(seen.is_allowed(), engine, "check_as disagrees: {}", why());
            let seen = s.explain_as(p, x, target, ctx, r.now, &names_nothing).unwrap();
            assert_eq!(seen.decision.is_allowed(), engine, "explain_as disagrees: {}", why());
        };
        if n == 0 || n == steps {
            for &p in &principals {
                for ctx in contexts(s, p) {
                    for &x in &perms {
                        for &target in &targets {
                            agree(p, x, target, ctx);
                        }
                    }
                }
            }
        } else {
            for _ in 0..150 {
                let p = rng.choose(&principals);
                let ctx = random_context(s, rng, p, r.now);
                agree(p, rng.choose(&perms), rng.choose(&targets), ctx);
            }
        }
        n += 1;
    });
}

/// R35: a delegate's access is a subset of its owner's: wherever check allows the
/// delegate, it allows the owner, in the same session context.
fn r35_delegate_access_is_subset_of_owner_holds(h: &History) {
    run(h, |r, _| {
        let s = r.after();
        let perms = all_perms(s);
        let targets = all_targets(s);
        for d in s.principals().filter(|p| p.delegate.is_some()) {
            let owner = d.owner().unwrap();
            for ctx in contexts(s, d.id) {
                for &x in &perms {
                    for &target in &targets {
                        if allowed(s, d.id, x, target, ctx, r.now) {
                            assert!(
                                allowed(s, owner, x, target, ctx, r.now),
                                "delegate {} may {} on {target:?} in {ctx:?} but its owner may not {}",
                                d.logon,
                                s.catalog.perm_name(x),
                                describe(r)
                            );
                        }
                    }
                }
            }
        }
    });
}

/// R38: for every owner of groups, every tenant sits in exactly one live group of that
/// owner (the one it is placed in, else Default), `group_of` names it, and no placement
/// points at a deleted group.
fn r38_tenant_in_exactly_one_group_per_owner_holds(h: &History) {
    run(h, |r, _| {
        let s = r.after();
        let owners: BTreeSet<GroupOwner> = s.groups().map(|g| g.owner).collect();
        for g in s.groups().filter(|g| g.deleted) {
            assert!(
                s.placed_in(g.id).is_empty(),
                "deleted group {} still holds tenants {}",
                g.id,
                describe(r)
            );
            assert!(!g.is_default, "a Default group was deleted {}", describe(r));
        }
        for owner in owners {
            let live: Vec<&Group> = s.groups().filter(|g| g.owner == owner && !g.deleted).collect();
            let defaults = live.iter().filter(|g| g.is_default).count();
            assert_eq!(defaults, 1, "{owner:?} has {defaults} live Default groups {}", describe(r));
            let listed: Vec<GroupId> = s.groups_of(owner).map(|g| g.id).collect();
            assert_eq!(listed, live.iter().map(|g| g.id).collect::<Vec<_>>());
            for t in s.tenants() {
                let holding: Vec<GroupId> = live
                    .iter()
                    .filter(|g| {
                        if g.is_default {
                            live.iter().all(|o| o.is_default || !s.placed_in(o.id).contains(&t.id))
                        } else {
                            s.placed_in(g.id).contains(&t.id)
                        }
                    })
                    .map(|g| g.id)
                    .collect();
                assert_eq!(
                    holding.len(),
                    1,
                    "tenant {} is in groups {holding:?} of {owner:?} {}",
                    t.key,
                    describe(r)
                );
                let g = s.group_of(owner, t.id);
                assert_eq!(g, Some(holding[0]), "group_of({owner:?}, {}) {}", t.key, describe(r));
                let g = s.group(holding[0]).unwrap();
                assert!(!g.deleted && g.owner == owner);
            }
        }
    });
}

/// R53: lookups agree with check on every element. `lookup_resources_all` returns
/// exactly the targets where check allows (brute force over every tenant and resource),
/// with and without a type filter; `lookup_subjects_all` lists at home exactly the
/// principals check allows at home, every partner subject it lists passes switched into
/// the tenant it names, and every principal that passes switched into some tenant above
/// the target is listed.
fn r53_lookups_agree_with_check_holds(h: &History) {
    run(h, |r, rng| {
        let s = r.after();
        let now = r.now;
        let principals: Vec<PrincipalId> = s.principals().map(|p| p.id).collect();
        let tenants: Vec<TenantId> = s.tenants().map(|t| t.id).collect();
        let perms = all_perms(s);
        let targets = all_targets(s);
        for _ in 0..6 {
            let p = rng.choose(&principals);
            let mut ctxs = contexts(s, p);
            ctxs.push(random_context(s, rng, p, now));
            for ctx in ctxs {
                for _ in 0..4 {
                    let x = rng.choose(&perms);
                    let got = s.lookup_resources_all(p, x, None, ctx, now).unwrap();
                    let want: Vec<Target> = targets
                        .iter()
                        .copied()
                        .filter(|t| allowed(s, p, x, *t, ctx, now))
                        .collect();
                    assert_eq!(
                        got,
                        want,
                        "lookup_resources({}, {}, {ctx:?}) {}",
                        s.principal(p).unwrap().logon,
                        s.catalog.perm_name(x),
                        describe(r)
                    );
                    let ty = TypeId(rng.below(2) as u32);
                    let got = s.lookup_resources_all(p, x, Some(ty), ctx, now).unwrap();
                    let want: Vec<Target> = want
                        .into_iter()
                        .filter(|t| match t {
                            Target::Resource(id) => s.resource(*id).unwrap().resource_type == ty,
                            Target::Tenant(_) => false,
                        })
                        .collect();
                    assert_eq!(got, want, "lookup_resources of type {ty:?} {}", describe(r));
                }
            }
        }
        for _ in 0..4 {
            let target = rng.choose(&targets);
            let tenant = match target {
                Target::Tenant(t) => t,
                Target::Resource(id) => s.resource(id).unwrap().tenant,
            };
            let above: Vec<TenantId> = s.tenant(tenant).unwrap().ancestors.to_vec();
            for _ in 0..4 {
                let x = rng.choose(&perms);
                let name = s.catalog.perm_name(x);
                // Every context: who passes in it is exactly who lookup-subjects lists in
                // it (an impersonation names a session, not the principals asked about).
                let asked = [Context::NONE, Context::HOME, Context::switched(rng.choose(&tenants))]
                    .into_iter()
                    .chain(grant_clients(s).into_iter().map(Context::switched));
                for ctx in asked {
                    let got = s.lookup_subjects_in(target, x, ctx, now).unwrap();
                    let listed: BTreeSet<PrincipalId> =
                        got.iter().map(|sub| sub.principal).collect();
                    let want: BTreeSet<PrincipalId> = principals
                        .iter()
                        .copied()
                        .filter(|p| allowed(s, *p, x, target, ctx, now))
                        .collect();
                    assert_eq!(
                        listed,
                        want,
                        "lookup_subjects({target:?}, {name}, {ctx:?}) {}",
                        describe(r)
                    );
                    for Subject { principal, switched } in &got {
                        // The session each is listed in passes on its own, or (without a
                        // session) none does and the check mixes paths.
                        match (ctx.switched, switched) {
                            (Some(c), listed_in) => assert_eq!(*listed_in, Some(c)),
                            (None, Some(c)) => assert!(
                                ctx.sessionless
                                    && allowed(
                                        s,
                                        *principal,
                                        x,
                                        target,
                                        Context::switched(*c),
                                        now
                                    ),
                                "{principal} listed switched into {c} for {target:?}, {name}, {ctx:?} {}",
                                describe(r)
                            ),
                            (None, None) if !ctx.sessionless => {}
                            (None, None) => assert!(
                                allowed(s, *principal, x, target, Context::HOME, now)
                                    || !tenants.iter().any(|c| {
                                        allowed(
                                            s,
                                            *principal,
                                            x,
                                            target,
                                            Context::switched(*c),
                                            now,
                                        )
                                    }),
                                "{principal} listed without a session where one alone passes {}",
                                describe(r)
                            ),
                        }
                    }
                }
                // The per-session listing: at home exactly the home passers, and every
                // switched session that passes, each passing.
                let got = s.lookup_subjects_all(target, x, now).unwrap();
                let at_home: BTreeSet<PrincipalId> = got
                    .iter()
                    .filter(|sub| sub.switched.is_none())
                    .map(|sub| sub.principal)
                    .collect();
                let want: BTreeSet<PrincipalId> = principals
                    .iter()
                    .copied()
                    .filter(|p| allowed(s, *p, x, target, Context::HOME, now))
                    .collect();
                assert_eq!(
                    at_home,
                    want,
                    "lookup_subjects({target:?}, {name}) at home {}",
                    describe(r)
                );
                for Subject { principal, switched } in &got {
                    if let Some(c) = switched {
                        assert!(
                            allowed(s, *principal, x, target, Context::switched(*c), now),
                            "lookup_subjects({target:?}, {name}) lists {principal} switched into {c}, where check denies {}",
                            describe(r)
                        );
                    }
                }
                let switched: BTreeSet<PrincipalId> = got
                    .iter()
                    .filter(|sub| sub.switched.is_some())
                    .map(|sub| sub.principal)
                    .collect();
                for &p in &principals {
                    for &c in &above {
                        if allowed(s, p, x, target, Context::switched(c), now) {
                            assert!(
                                switched.contains(&p),
                                "{p} passes {name} on {target:?} switched into {c} but lookup_subjects omits it {}",
                                describe(r)
                            );
                        }
                    }
                }
            }
        }
    });
}

/// Replay determinism: applying a decided change set to the state it was decided on
/// gives the decided state: the same entities (compared as serialized change lists), the
/// same derived tenant fields and the same index reads; and a checkpoint of it
/// (`to_changes`, `from_changes`) rebuilds the same again.
fn replaying_changes_gives_the_decided_state_holds(h: &History) {
    run(h, |r, _| {
        let Ok(d) = &r.outcome else { return };
        let mut replayed = r.before.clone();
        replayed.apply(&d.changes).unwrap();
        assert_eq!(replayed.revision, d.next.revision);
        assert_eq!(replayed.next_assignment_id(), d.next.next_assignment_id());
        assert_eq!(state_json(&replayed), state_json(&d.next), "replay differs {}", describe(r));
        assert_eq!(observable(&replayed), observable(&d.next), "replay differs {}", describe(r));
        let checkpoint = State::from_changes(&d.next.to_changes(), d.next.revision).unwrap();
        assert_eq!(state_json(&checkpoint), state_json(&d.next));
        assert_eq!(checkpoint.next_assignment_id(), d.next.next_assignment_id());
        assert_eq!(
            observable(&checkpoint),
            observable(&d.next),
            "checkpoint differs {}",
            describe(r)
        );
    });
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn r5_tenant_keeps_an_active_admin(h in history()) {
        r5_tenant_keeps_an_active_admin_holds(&h);
    }

    #[test]
    fn r27_no_permission_given_by_someone_who_lacked_it(h in history()) {
        r27_no_permission_given_by_someone_who_lacked_it_holds(&h);
    }

    #[test]
    fn engine_agrees_with_reference_evaluator(h in history()) {
        engine_agrees_with_reference_evaluator_holds(&h);
    }

    #[test]
    fn r35_delegate_access_is_subset_of_owner(h in history()) {
        r35_delegate_access_is_subset_of_owner_holds(&h);
    }

    #[test]
    fn r38_tenant_in_exactly_one_group_per_owner(h in history()) {
        r38_tenant_in_exactly_one_group_per_owner_holds(&h);
    }

    #[test]
    fn r53_lookups_agree_with_check(h in history()) {
        r53_lookups_agree_with_check_holds(&h);
    }

    #[test]
    fn replaying_changes_gives_the_decided_state(h in history()) {
        replaying_changes_gives_the_decided_state_holds(&h);
    }
}

/// Everything a state answers beyond its serialized entities: derived tenant fields and the
/// reads served by its indexes.
fn observable(s: &State) -> serde_json::Value {
    let owners: BTreeSet<GroupOwner> = s.groups().map(|g| g.owner).collect();
    let tenants: Vec<serde_json::Value> = s
        .tenants()
        .map(|t| {
            let id = t.id;
            let groups: BTreeMap<String, Option<GroupId>> =
                owners.iter().map(|o| (format!("{o:?}"), s.group_of(*o, id))).collect();
            serde_json::json!({
                "id": id,
                "ancestors": t.ancestors.to_vec(),
                "entitlements": t.entitlements.iter().collect::<Vec<_>>(),
                "blocked": t.blocked,
                "by_key": s.tenant_by_key(&t.key),
                // The order of children follows the history of moves: compared as a set.
                "children": s.children(id).collect::<BTreeSet<_>>(),
                "members": s.members(id).map(|p| p.id).collect::<Vec<_>>(),
                "holders": s.holders(id).collect::<Vec<_>>(),
                "client_holders": s.client_holders(id).collect::<Vec<_>>(),
                "resources": s.resources_of(id).collect::<Vec<_>>(),
                "grants_from": s.grants_from(id).map(|g| g.id).collect::<Vec<_>>(),
                "grants_to": s.grants_to(id).map(|g| g.id).collect::<Vec<_>>(),
                "group_of": groups,
            })
        })
        .collect();
    let principals: Vec<serde_json::Value> = s
        .principals()
        .map(|p| {
            serde_json::json!({
                "id": p.id,
                "by_logon": s.principal_by_logon(&p.logon),
                "delegates": s.delegates_of(p.id).collect::<Vec<_>>(),
            })
        })
        .collect();
    let resources: Vec<serde_json::Value> = s
        .resources()
        .map(|r| {
            serde_json::json!({
                "id": r.id,
                "by_key": s.resource_by_key(&r.key),
                "holders": s.resource_holders(r.id).collect::<Vec<_>>(),
                "children": s.resource_children(r.id).collect::<Vec<_>>(),
            })
        })
        .collect();
    let groups: Vec<serde_json::Value> = owners
        .iter()
        .map(|o| {
            serde_json::json!({
                "owner": format!("{o:?}"),
                "groups": s.groups_of(*o).map(|g| g.id).collect::<Vec<_>>(),
                "default": s.default_group(*o),
            })
        })
        .collect();
    let placed: Vec<(GroupId, Vec<TenantId>)> =
        s.groups().map(|g| (g.id, s.placed_in(g.id))).collect();
    serde_json::json!({
        "revision": s.revision,
        "root": s.root(),
        "tenants": tenants,
        "principals": principals,
        "resources": resources,
        "groups": groups,
        "placed": placed,
    })
}
