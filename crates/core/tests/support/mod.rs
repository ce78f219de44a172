//! A small world builder for engine tests: a root, tenants, users, roles.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use deputy_core::commands::roles::NewAssignment;
use deputy_core::commands::tenants::NewTenant;
use deputy_core::commands::users::{NewDelegate, NewUser};
use deputy_core::*;

pub const NOW: i64 = 1_700_000_000_000;

pub struct World {
    pub s: State,
    pub now: i64,
    pub root: TenantId,
    pub operator: PrincipalId,
}

impl World {
    pub fn new() -> World {
        let s = State::new(Catalog::shipped());
        let mut w = World { s, now: NOW, root: TenantId(0), operator: PrincipalId(0) };
        let toml = deputy_core::catalog::SHIPPED_CATALOG.to_owned();
        w.root = w.sys(|tx| tx.init_deployment(&toml, "root", "Operator"));
        w.operator = w.user(w.root, "operator");
        w
    }

    /// Runs a command as `actor`; on success the world moves to the next state.
    pub fn run<T>(
        &mut self,
        actor: Actor,
        f: impl FnOnce(&mut Tx) -> Result<T, CommandError>,
    ) -> Result<T, CommandError> {
        let decided = self.s.decide(actor, self.now, f)?;
        // The change set replays to the same state.
        let mut replayed = self.s.clone();
        replayed.apply(&decided.changes).unwrap();
        assert_eq!(replayed.revision, decided.next.revision);
        self.s = decided.next;
        Ok(decided.output)
    }

    pub fn sys<T>(&mut self, f: impl FnOnce(&mut Tx) -> Result<T, CommandError>) -> T {
        self.run(Actor::System, f).unwrap()
    }

    pub fn tenant(&mut self, parent: TenantId, key: &str) -> TenantId {
        let key = key.to_owned();
        self.sys(|tx| {
            tx.create_tenant(parent, NewTenant { name: key.clone(), key, ..Default::default() })
        })
    }

    pub fn new_user(home: TenantId, logon: &str, status: Status) -> NewUser {
        NewUser {
            home,
            logon: logon.to_owned(),
            first_name: logon.to_owned(),
            last_name: "Test".to_owned(),
            email: format!("{logon}@example.com"),
            phone: None,
            roles: vec![],
            status,
        }
    }

    /// An active user created by the console (the first of a tenant becomes its admin).
    pub fn user(&mut self, home: TenantId, logon: &str) -> PrincipalId {
        let new = Self::new_user(home, logon, Status::Active);
        self.sys(|tx| tx.create_user(new))
    }

    pub fn delegate(&mut self, owner: PrincipalId, logon: &str) -> PrincipalId {
        let new = NewDelegate {
            owner,
            logon: logon.to_owned(),
            first_name: logon.to_owned(),
            last_name: "Test".to_owned(),
            email: format!("{logon}@example.com"),
            groups: None,
            kinds: None,
            roles: vec![],
            linked_password: true,
        };
        self.run(Actor::at_home(owner), |tx| tx.create_delegate(new)).unwrap()
    }

    pub fn role(&self, name: &str) -> RoleId {
        self.s.catalog.role_id(name).unwrap()
    }

    pub fn perm(&self, name: &str) -> PermId {
        self.s.catalog.permission_id(name).unwrap()
    }

    pub fn give(
        &mut self,
        p: PrincipalId,
        role: &str,
        tenant: TenantId,
        subtree: bool,
    ) -> AssignmentId {
        let bundle = Bundle::Role(self.role(role));
        self.sys(|tx| {
            tx.assign(NewAssignment {
                principal: p,
                bundle,
                scope: Scope::Tenant { tenant, subtree },
                expires_at: None,
            })
        })
    }

    pub fn give_as(
        &mut self,
        actor: PrincipalId,
        p: PrincipalId,
        role: &str,
        tenant: TenantId,
    ) -> Result<AssignmentId, CommandError> {
        let bundle = Bundle::Role(self.role(role));
        self.run(Actor::at_home(actor), |tx| {
            tx.assign(NewAssignment {
                principal: p,
                bundle,
                scope: Scope::Tenant { tenant, subtree: false },
                expires_at: None,
            })
        })
    }

    pub fn check_in(&self, p: PrincipalId, perm: &str, target: Target, ctx: Context) -> bool {
        self.s.check(p, self.perm(perm), target, ctx, self.now).unwrap().is_allowed()
    }

    pub fn can(&self, p: PrincipalId, perm: &str, tenant: TenantId) -> bool {
        self.check_in(p, perm, Target::Tenant(tenant), Context::HOME)
    }

    pub fn why(&self, p: PrincipalId, perm: &str, target: Target, ctx: Context) -> Explanation {
        self.s.explain(p, self.perm(perm), target, ctx, self.now).unwrap()
    }

    pub fn status(&self, p: PrincipalId) -> Status {
        self.s.principal(p).unwrap().status
    }

    pub fn assignment_of(&self, p: PrincipalId, role: &str, tenant: TenantId) -> AssignmentId {
        let r = self.role(role);
        self.s
            .principal(p)
            .unwrap()
            .assignments
            .iter()
            .find(|a| {
                a.bundle == Bundle::Role(r)
                    && matches!(a.scope, Scope::Tenant { tenant: t, .. } if t == tenant)
            })
            .unwrap()
            .id
    }
}

/// Asserts a command was refused citing `rule`.
#[track_caller]
pub fn refused<T: std::fmt::Debug>(result: Result<T, CommandError>, rule: &str) -> CommandError {
    match result {
        Ok(v) => panic!("expected refusal citing {rule}, got Ok({v:?})"),
        Err(e) => {
            assert_eq!(e.rule, Some(rule), "wrong rule in: {e}");
            e
        }
    }
}
