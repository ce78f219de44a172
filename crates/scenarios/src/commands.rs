//! A [`Runner`] for the layers that decide with the engine's own commands: the engine on an
//! in-memory state ([`InMemory`]) and the service's `Deputy` (through [`Execute`], which the
//! service implements). Names are resolved with the state's indexes, and every write is one
//! command decided for one actor.

use crate::driver::{Answer, Explained, Outcome, PathText, Runner};
use crate::model::*;
use deputy_core::commands::partners::GrantTerms;
use deputy_core::commands::resources::NewResource;
use deputy_core::commands::roles::NewAssignment;
use deputy_core::commands::tenants::NewTenant;
use deputy_core::commands::users::{NewDelegate, NewUser, ProfileUpdate};
use deputy_core::*;
use std::sync::Arc;

/// A failure to do a command: refused by the rules, or the layer broke.
#[derive(Debug, Clone)]
pub enum Failed {
    Refused(CommandError),
    Broken(String),
}

impl From<CommandError> for Failed {
    fn from(e: CommandError) -> Self {
        Failed::Refused(e)
    }
}

/// What a layer that runs the engine's commands offers.
pub trait Execute {
    fn layer(&self) -> Layer;
    /// Decides (and, for a service, commits) one command for `actor`.
    fn execute<T>(
        &mut self,
        actor: Actor,
        command: impl Fn(&mut Tx) -> Result<T, CommandError>,
    ) -> Result<T, Failed>;
    /// The state, at least as fresh as the last write.
    fn state(&self) -> Result<Arc<State>, String>;
    fn now(&self) -> Millis;
}

/// The engine alone: commands decided on an in-memory [`State`] with a fixed clock.
#[derive(Debug, Clone)]
pub struct InMemory {
    state: Arc<State>,
    now: Millis,
}

impl InMemory {
    /// A deployment with the root tenant `root` and its first admin `operator`.
    pub fn new() -> Result<InMemory, String> {
        let mut m =
            InMemory { state: Arc::new(State::new(Catalog::shipped())), now: 1_767_225_600_000 };
        m.execute(Actor::System, |tx| {
            tx.init_deployment(catalog::SHIPPED_CATALOG, "root", "Operator").map(drop)
        })
        .map_err(|e| format!("{e:?}"))?;
        let root = m.state.root().ok_or("no root")?;
        m.execute(Actor::System, |tx| tx.create_user(operator(root)).map(drop))
            .map_err(|e| format!("{e:?}"))?;
        Ok(m)
    }
}

/// The first admin of every scenario's deployment, as the console creates it.
pub fn operator(root: TenantId) -> NewUser {
    NewUser {
        home: root,
        logon: "operator".into(),
        first_name: "Olga".into(),
        last_name: "Operator".into(),
        email: "operator@example.com".into(),
        phone: None,
        roles: vec![],
        status: Status::Active,
    }
}

impl Execute for InMemory {
    fn layer(&self) -> Layer {
        Layer::Engine
    }

    fn execute<T>(
        &mut self,
        actor: Actor,
        command: impl Fn(&mut Tx) -> Result<T, CommandError>,
    ) -> Result<T, Failed> {
        self.now += 1000;
        let decided = self.state.decide(actor, self.now, command)?;
        self.state = Arc::new(decided.next);
        Ok(decided.output)
    }

    fn state(&self) -> Result<Arc<State>, String> {
        Ok(self.state.clone())
    }

    fn now(&self) -> Millis {
        self.now
    }
}

/// Runs a scenario's names and actions as engine commands on an [`Execute`] layer.
#[derive(Debug)]
pub struct Commands<E> {
    pub layer: E,
}

impl<E: Execute> Commands<E> {
    pub fn new(layer: E) -> Self {
        Commands { layer }
    }

    fn state(&self) -> Result<Arc<State>, String> {
        self.layer.state()
    }

    fn run<T>(
        &mut self,
        actor: Actor,
        command: impl Fn(&mut Tx) -> Result<T, CommandError>,
    ) -> Result<Result<T, Outcome>, String> {
        match self.layer.execute(actor, command) {
            Ok(t) => Ok(Ok(t)),
            Err(Failed::Refused(e)) => Ok(Err(Outcome::Refused {
                rule: e.rule.map(str::to_owned),
                message: e.message,
                status: None,
            })),
            Err(Failed::Broken(e)) => Err(e),
        }
    }

    fn actor(&self, logon: Option<&str>, session: &Session) -> Result<Actor, String> {
        let Some(logon) = logon else { return Ok(Actor::System) };
        let s = self.state()?;
        let id = principal(&s, logon)?;
        Ok(Actor::Principal { id, ctx: context(&s, session, self.layer.now())? })
    }

    fn do_action(&mut self, actor: Actor, action: &Action) -> Result<Outcome, String> {
        let s = self.state()?;
        let done = |r: Result<(), Outcome>| Ok(r.err().unwrap_or(Outcome::DONE));
        match action {
            Action::Join(u) => {
                let new = NewUser {
                    home: tenant(&s, &u.home)?,
                    logon: u.logon.clone(),
                    first_name: u.first_name.clone(),
                    last_name: u.last_name.clone(),
                    email: u.email(),
                    phone: None,
                    roles: vec![],
                    status: Status::Active,
                };
                let id = match self.run(actor, |tx| tx.create_user(new.clone()))? {
                    Ok(id) => id,
                    Err(refused) => return Ok(refused),
                };
                if u.verified {
                    done(self.run(Actor::System, |tx| tx.verify_email(id))?)
                } else {
                    Ok(Outcome::DONE)
                }
            }
            Action::CreateTenant(t) => {
                let parent = tenant(&s, &t.parent)?;
                let new =
                    NewTenant { key: t.key.clone(), name: t.name.clone(), ..Default::default() };
                let id = match self.run(actor, |tx| tx.create_tenant(parent, new.clone()))? {
                    Ok(id) => id,
                    Err(refused) => return Ok(refused),
                };
                if t.partner {
                    done(self.run(actor, |tx| tx.set_partner(id, true))?)
                } else {
                    Ok(Outcome::DONE)
                }
            }
            Action::CreateSubAccount { client, key, name } => {
                let client = tenant(&s, client)?;
                let new = NewTenant { key: key.clone(), name: name.clone(), ..Default::default() };
                done(self.run(actor, |tx| tx.create_sub_account(client, new.clone()).map(drop))?)
            }
            Action::CreateUser(u) => {
                let status = match u.status.as_str() {
                    "pending" => Status::Pending,
                    "invited" => Status::Invited,
                    "active" => Status::Active,
                    other => {
                        return Err(format!(
                            "a user is created pending, invited or active, not {other}"
                        ));
                    }
                };
                let new = NewUser {
                    home: tenant(&s, &u.home)?,
                    logon: u.logon.clone(),
                    first_name: u.first_name(),
                    last_name: u.last_name(),
                    email: u.email(),
                    phone: None,
                    roles: vec![],
                    status,
                };
                done(self.run(actor, |tx| tx.create_user(new.clone()).map(drop))?)
            }
            Action::Invite { principal: p } => {
                let p = principal(&s, p)?;
                done(self.run(actor, |tx| tx.set_status(p, Status::Invited, None))?)
            }
            Action::Assign(a) => {
                let new = NewAssignment {
                    principal: principal(&s, &a.principal)?,
                    bundle: bundle(&s, a.role.as_deref(), a.permission.as_deref())?,
                    scope: Scope::Tenant { tenant: tenant(&s, &a.tenant)?, subtree: a.subtree },
                    expires_at: None,
                };
                // An access code's redemption (R37a) gives a direct assignment; the console
                // gives the same one here.
                let actor = if a.redeemed_from.is_some() { Actor::System } else { actor };
                done(self.run(actor, |tx| tx.assign(new).map(drop))?)
            }
            Action::Unassign { principal: p, role, permission, tenant: t } => {
                let p = principal(&s, p)?;
                let bundle = bundle(&s, role.as_deref(), permission.as_deref())?;
                let in_tenant = tenant(&s, t)?;
                let found = s
                    .principal(p)
                    .and_then(|p| {
                        p.assignments.iter().find(|a| {
                            a.bundle == bundle
                                && matches!(a.scope, Scope::Tenant { tenant, .. } if tenant == in_tenant)
                        })
                    })
                    .map(|a| a.id)
                    .ok_or_else(|| format!("no such assignment of `{p}` in `{t}`"))?;
                done(self.run(actor, |tx| tx.unassign(p, found))?)
            }
            Action::CreateResource(r) => {
                let ty = s
                    .catalog
                    .type_id(&r.resource_type)
                    .ok_or_else(|| format!("no resource type `{}`", r.resource_type))?;
                let kind = match &r.kind {
                    Some(k) => {
                        Some(s.catalog.kind_id(ty, k).ok_or_else(|| format!("no kind `{k}`"))?)
                    }
                    None => None,
                };
                let new = NewResource {
                    tenant: tenant(&s, &r.tenant)?,
                    key: r.key.clone(),
                    name: r.name.clone().unwrap_or_else(|| r.key.clone()),
                    resource_type: ty,
                    kind,
                    parent: None,
                };
                done(self.run(actor, |tx| tx.create_resource(new.clone()).map(drop))?)
            }
            Action::CreateDelegate(d) => {
                let new = NewDelegate {
                    owner: principal(&s, &d.owner)?,
                    logon: d.logon.clone(),
                    first_name: d.first_name.clone(),
                    last_name: d.last_name.clone(),
                    email: d.email(),
                    groups: None,
                    kinds: None,
                    roles: vec![],
                    linked_password: false,
                };
                let id = match self.run(actor, |tx| tx.create_delegate(new.clone()))? {
                    Ok(id) => id,
                    Err(refused) => return Ok(refused),
                };
                // The delegate sets its password from the mailed link.
                done(self.run(Actor::System, |tx| tx.password_set(id))?)
            }
            Action::CreateGroup { owner, name } => {
                let owner = GroupOwner::User(principal(&s, owner)?);
                done(self.run(actor, |tx| tx.create_group(owner, name.clone()).map(drop))?)
            }
            Action::PlaceInGroup { owner, group: g, tenant: t } => {
                let g = group(&s, owner, g)?;
                let t = tenant(&s, t)?;
                done(self.run(actor, |tx| tx.place_in_group(g, t))?)
            }
            Action::SetDelegateAccess { delegate, groups, kinds } => {
                let d = principal(&s, delegate)?;
                let owner = s
                    .principal(d)
                    .and_then(|p| p.owner())
                    .ok_or_else(|| format!("`{delegate}` is not a delegate"))?;
                let owner = s.principal(owner).map(|p| p.logon.to_string()).unwrap_or_default();
                let groups = match groups {
                    Some(gs) => Some(
                        gs.iter().map(|g| group(&s, &owner, g)).collect::<Result<Vec<_>, _>>()?,
                    ),
                    None => None,
                };
                let kinds = match kinds {
                    Some(ks) => Some(
                        ks.iter()
                            .map(|k| {
                                s.catalog.kind_by_name(k).ok_or_else(|| format!("no kind `{k}`"))
                            })
                            .collect::<Result<Vec<_>, _>>()?,
                    ),
                    None => None,
                };
                done(self.run(actor, |tx| {
                    tx.set_delegate_access(d, groups.clone(), kinds.clone(), vec![])
                })?)
            }
            Action::ProposeGrant(g) => {
                let client = tenant(&s, &g.client)?;
                let partner = tenant(&s, &g.partner)?;
                let ceiling =
                    g.ceiling.iter().map(|r| role(&s, r)).collect::<Result<Vec<_>, _>>()?;
                let terms = GrantTerms { ceiling, subtree: g.subtree, ..Default::default() };
                done(
                    self.run(actor, |tx| {
                        tx.propose_grant(client, partner, terms.clone()).map(drop)
                    })?,
                )
            }
            Action::RevokeGrant { client, partner } => {
                let client = tenant(&s, client)?;
                let partner = tenant(&s, partner)?;
                let g = s
                    .grants_between(client, partner)
                    .map(|g| g.id)
                    .next()
                    .ok_or("no such grant")?;
                done(self.run(actor, |tx| tx.revoke_grant(g))?)
            }
            Action::GivePartnerRole(p) => {
                let user = principal(&s, &p.principal)?;
                let client = tenant(&s, &p.client)?;
                let r = role(&s, &p.role)?;
                let outcome = match self.run(actor, |tx| {
                    tx.give_partner_role(user, Scope::Client { client }, r, None)
                })? {
                    Ok(outcome) => outcome,
                    Err(refused) => return Ok(refused),
                };
                let s = self.state()?;
                let replaced = outcome
                    .replaced
                    .iter()
                    .filter_map(|p| s.principal(*p).map(|p| p.logon.to_string()))
                    .collect();
                Ok(Outcome::Done { replaced })
            }
            Action::SwitchTenant { tenant: t } => {
                let t = tenant(&s, t)?;
                done(self.run(actor, |tx| tx.switch_tenant(t).map(drop))?)
            }
            Action::SetStatus { principal: p, status } => {
                let p = principal(&s, p)?;
                let status = match status.as_str() {
                    "active" => Status::Active,
                    "deactivated" => Status::Deactivated,
                    "invited" => Status::Invited,
                    other => return Err(format!("no status change to `{other}` here")),
                };
                done(self.run(actor, |tx| tx.set_status(p, status, None))?)
            }
            Action::Cancel { principal: p } => {
                let p = principal(&s, p)?;
                done(self.run(actor, |tx| tx.cancel(p))?)
            }
            Action::UpdateProfile { principal: p, first_name, phone } => {
                let p = principal(&s, p)?;
                let update = ProfileUpdate {
                    first_name: first_name.clone(),
                    phone: phone.clone(),
                    ..Default::default()
                };
                done(self.run(actor, |tx| tx.update_profile(p, update.clone()))?)
            }
            Action::SetEntitlements { tenant: t, remove, add } => {
                let id = tenant(&s, t)?;
                let own = s.tenant(id).ok_or("no tenant")?.own_entitlements;
                let mut names: Vec<String> =
                    s.catalog.perm_names(own).into_iter().filter(|n| !remove.contains(n)).collect();
                names.extend(add.iter().cloned());
                done(self.run(actor, |tx| tx.set_entitlements(id, &names))?)
            }
        }
    }

    fn resolve(
        &self,
        s: &State,
        q: &Query,
    ) -> Result<(PrincipalId, PermId, Target, Context), String> {
        let p = principal(s, &q.principal)?;
        let x = s
            .catalog
            .permission_id(&q.permission)
            .ok_or_else(|| format!("no permission `{}`", q.permission))?;
        let target = match q.target() {
            TargetName::Tenant(key) => Target::Tenant(tenant(s, key)?),
            TargetName::Resource(key) => Target::Resource(
                s.resource_by_key(key).ok_or_else(|| format!("no resource `{key}`"))?,
            ),
        };
        Ok((p, x, target, context(s, &q.session, self.layer.now())?))
    }
}

fn principal(s: &State, logon: &str) -> Result<PrincipalId, String> {
    s.principal_by_logon(logon).ok_or_else(|| format!("no principal `{logon}`"))
}

fn tenant(s: &State, key: &str) -> Result<TenantId, String> {
    s.tenant_by_key(key).ok_or_else(|| format!("no tenant `{key}`"))
}

fn role(s: &State, name: &str) -> Result<RoleId, String> {
    s.catalog.role_id(name).ok_or_else(|| format!("no role `{name}`"))
}

fn group(s: &State, owner: &str, name: &str) -> Result<GroupId, String> {
    let owner = GroupOwner::User(principal(s, owner)?);
    s.groups_of(owner)
        .find(|g| g.name == name)
        .map(|g| g.id)
        .ok_or_else(|| format!("no group `{name}`"))
}

fn bundle(s: &State, role_name: Option<&str>, permission: Option<&str>) -> Result<Bundle, String> {
    match (role_name, permission) {
        (Some(r), None) => Ok(Bundle::Role(role(s, r)?)),
        (None, Some(p)) => Ok(Bundle::Permission(
            s.catalog.permission_id(p).ok_or_else(|| format!("no permission `{p}`"))?,
        )),
        _ => Err("give `role` or `permission`".into()),
    }
}

fn context(s: &State, session: &Session, now: Millis) -> Result<Context, String> {
    let switched = match &session.switched_into {
        Some(key) => Some(tenant(s, key)?),
        None => None,
    };
    let impersonation = match &session.impersonator {
        Some(logon) => {
            Some(Impersonation { actor: principal(s, logon)?, expires_at: now + 60 * 60 * 1000 })
        }
        None => None,
    };
    Ok(Context { switched, impersonation, sessionless: session.sessionless })
}

impl<E: Execute> Runner for Commands<E> {
    fn layer(&self) -> Layer {
        self.layer.layer()
    }

    fn write(
        &mut self,
        actor: Option<&str>,
        session: &Session,
        action: &Action,
    ) -> Result<Outcome, String> {
        let actor = self.actor(actor, session)?;
        self.do_action(actor, action)
    }

    fn check(&mut self, query: &Query) -> Result<Answer, String> {
        let s = self.state()?;
        let (p, x, target, ctx) = self.resolve(&s, query)?;
        let decision = s.check(p, x, target, ctx, self.layer.now()).map_err(|e| e.to_string())?;
        Ok(answer(decision))
    }

    fn explain(&mut self, query: &Query) -> Result<Explained, String> {
        let s = self.state()?;
        let (p, x, target, ctx) = self.resolve(&s, query)?;
        let ex = s.explain(p, x, target, ctx, self.layer.now()).map_err(|e| e.to_string())?;
        let logon =
            |p: PrincipalId| s.principal(p).map_or_else(|| p.to_string(), |p| p.logon.to_string());
        let paths = ex
            .paths
            .iter()
            .map(|path| PathText {
                origin: path.origin.to_owned(),
                holder: logon(path.holder),
                through_delegates: path.through_delegates.iter().map(|d| logon(*d)).collect(),
                holds: match (path.role, path.permission) {
                    (Some(r), _) => format!("role `{}`", s.catalog.role_name(r)),
                    (None, Some(x)) => format!("permission `{}`", s.catalog.perm_name(x)),
                    (None, None) => "nothing named".into(),
                },
            })
            .collect();
        let a = answer(ex.decision);
        Ok(Explained { allowed: a.allowed, failed_step: a.failed_step, reason: ex.reason, paths })
    }

    fn status(&mut self, logon: &str) -> Result<String, String> {
        let s = self.state()?;
        let p = s.principal(principal(&s, logon)?).ok_or("gone")?;
        Ok(p.status.as_str().to_owned())
    }

    fn contact(&mut self, key: &str) -> Result<Option<String>, String> {
        let s = self.state()?;
        let t = s.tenant(tenant(&s, key)?).ok_or("gone")?;
        Ok(t.contact.and_then(|c| s.principal(c)).map(|p| p.logon.to_string()))
    }

    fn is_admin(&mut self, logon: &str) -> Result<bool, String> {
        let s = self.state()?;
        let admin = role(&s, "admin")?;
        let p = s.principal(principal(&s, logon)?).ok_or("gone")?;
        Ok(p.assignments.iter().any(|a| {
            a.bundle == Bundle::Role(admin)
                && matches!(a.scope, Scope::Tenant { tenant, .. } if tenant == p.home)
        }))
    }
}

fn answer(decision: Decision) -> Answer {
    match decision {
        Decision::Allowed => Answer { allowed: true, failed_step: None },
        Decision::Denied(step) => {
            Answer { allowed: false, failed_step: Some(serde_plain_step(step)) }
        }
    }
}

/// A step's name as the API words it (`entitlement`, `paths`, …).
fn serde_plain_step(step: deputy_core::check::Step) -> String {
    format!("{step:?}").to_lowercase()
}
