//! Deciding a change: the actor, the error type, and [`Tx`], a scratch copy of the state
//! that commands change step by step and that checks the invariants before it is accepted.
//!
//! A command either returns a complete change set or an error naming what was wrong and
//! changes nothing: the scratch copy is dropped.

use crate::check::{Context, Rank, Target};
use crate::ids::*;
use crate::model::*;
use crate::state::{ApplyError, Change, State};
use serde::Serialize;
use std::collections::BTreeSet;

/// Who asks for a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// The deployment's operator at the console (bootstrap, recovery, imports). Passes every
    /// authorization; every invariant still holds.
    System,
    /// A principal in a session.
    Principal { id: PrincipalId, ctx: Context },
}

impl Actor {
    pub fn at_home(id: PrincipalId) -> Actor {
        Actor::Principal { id, ctx: Context::HOME }
    }

    pub fn author(&self) -> Author {
        match self {
            Actor::System => Author::System,
            Actor::Principal { id, ctx } => {
                Author::Principal(ctx.impersonation.map_or(*id, |i| i.actor))
            }
        }
    }

    pub fn principal(&self) -> Option<PrincipalId> {
        match self {
            Actor::System => None,
            Actor::Principal { id, .. } => Some(*id),
        }
    }
}

/// The class of a refused command, for exit codes and HTTP statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Something named does not exist, or the actor may not see it.
    NotFound,
    /// The input is malformed.
    Invalid,
    /// The actor may see it but the rules forbid the change.
    Forbidden,
    /// The change collides with existing data or would break an invariant.
    Conflict,
}

/// Why a command was refused. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct CommandError {
    pub kind: ErrorKind,
    /// The spec rule that refused it (`R27`), when one did.
    pub rule: Option<&'static str>,
    /// The input field at fault, when one is.
    pub field: Option<&'static str>,
    pub message: String,
}

impl CommandError {
    pub fn not_found(what: &str, id: impl std::fmt::Display) -> Self {
        CommandError {
            kind: ErrorKind::NotFound,
            rule: None,
            field: None,
            message: format!("{what} `{id}` not found"),
        }
    }

    /// A name the caller gave that names nothing it may see (R58: the same words for
    /// both), blaming the input field that gave it.
    pub fn unknown(field: &'static str, message: impl Into<String>) -> Self {
        CommandError {
            kind: ErrorKind::NotFound,
            rule: None,
            field: Some(field),
            message: message.into(),
        }
    }

    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        CommandError {
            kind: ErrorKind::Invalid,
            rule: None,
            field: Some(field),
            message: format!("{field}: {}", message.into()),
        }
    }

    pub fn forbidden(rule: &'static str, message: impl Into<String>) -> Self {
        CommandError {
            kind: ErrorKind::Forbidden,
            rule: Some(rule),
            field: None,
            message: format!("{} ({rule})", message.into()),
        }
    }

    pub fn conflict(
        rule: Option<&'static str>,
        field: Option<&'static str>,
        message: impl Into<String>,
    ) -> Self {
        let message = message.into();
        let message = match rule {
            Some(rule) => format!("{message} ({rule})"),
            None => message,
        };
        CommandError { kind: ErrorKind::Conflict, rule, field, message }
    }
}

impl From<ApplyError> for CommandError {
    fn from(e: ApplyError) -> Self {
        CommandError::conflict(None, None, format!("internal: {e}"))
    }
}

/// An activity entry describing what a command did (R21).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub action: &'static str,
    pub subject: Option<String>,
    pub tenant: Option<TenantId>,
    pub details: serde_json::Value,
}

/// The outcome of a decided command: the changes to commit, what to log, and the state
/// they lead to (equal to applying `changes` to the state the command saw).
#[derive(Debug, Clone)]
pub struct Decided<T> {
    pub changes: Vec<Change>,
    pub events: Vec<Event>,
    pub next: State,
    /// What the command returns (a new id, say).
    pub output: T,
}

/// A command in progress on a scratch copy of the state.
#[derive(Debug)]
pub struct Tx {
    pub(crate) state: State,
    pub(crate) actor: Actor,
    pub(crate) now: Millis,
    changes: Vec<Change>,
    events: Vec<Event>,
    /// Tenants whose admins or members changed: R4 and R5 are re-checked for them.
    touched: BTreeSet<TenantId>,
    /// The state the command started from.
    base: State,
}

impl State {
    /// Runs `command` on a scratch copy; on success returns the change set and the next
    /// state, on failure an error and no change.
    pub fn decide<T>(
        &self,
        actor: Actor,
        now: Millis,
        command: impl FnOnce(&mut Tx) -> Result<T, CommandError>,
    ) -> Result<Decided<T>, CommandError> {
        let mut tx = Tx {
            state: self.clone(),
            actor,
            now,
            changes: Vec::new(),
            events: Vec::new(),
            touched: BTreeSet::new(),
            base: self.clone(),
        };
        if let Actor::Principal { id, .. } = actor
            && tx.state.principal(id).is_none()
        {
            return Err(CommandError::not_found("actor", id));
        }
        let output = command(&mut tx)?;
        tx.finish()?;
        let Tx { mut state, changes, events, .. } = tx;
        state.revision += 1;
        Ok(Decided { changes, events, next: state, output })
    }
}

impl Tx {
    /// The state as changed so far.
    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn actor(&self) -> Actor {
        self.actor
    }

    pub fn now(&self) -> Millis {
        self.now
    }

    pub(crate) fn put(&mut self, mut change: Change) -> Result<(), CommandError> {
        // Every status change counts, so credentials made before it can tell (R12, R23).
        // The number is the state's, never a stale copy's.
        if let Change::Principal(new) = &mut change
            && let Some(old) = self.state.principal(new.id)
        {
            new.status_serial = old.status_serial.wrapping_add(u32::from(old.status != new.status));
        }
        self.state.apply_one(change.clone())?;
        self.changes.push(change);
        Ok(())
    }

    pub(crate) fn log(
        &mut self,
        action: &'static str,
        subject: Option<String>,
        tenant: Option<TenantId>,
        details: serde_json::Value,
    ) {
        self.events.push(Event { action, subject, tenant, details });
    }

    pub(crate) fn touch(&mut self, tenant: TenantId) {
        self.touched.insert(tenant);
    }

    // ----- lookups that fail with a clear error ------------------------------------------

    pub fn tenant(&self, id: TenantId) -> Result<&Tenant, CommandError> {
        self.state.tenant(id).ok_or_else(|| CommandError::not_found("tenant", id))
    }

    pub fn principal(&self, id: PrincipalId) -> Result<&Principal, CommandError> {
        self.state.principal(id).ok_or_else(|| CommandError::not_found("principal", id))
    }

    pub fn grant(&self, id: GrantId) -> Result<&Grant, CommandError> {
        self.state.grant(id).ok_or_else(|| CommandError::not_found("grant", id))
    }

    pub fn group(&self, id: GroupId) -> Result<&Group, CommandError> {
        self.state
            .group(id)
            .filter(|g| !g.deleted)
            .ok_or_else(|| CommandError::not_found("group", id))
    }

    pub fn perm(&self, name: &str) -> Result<PermId, CommandError> {
        self.state
            .catalog
            .permission_id(name)
            .ok_or_else(|| CommandError::not_found("permission", name))
    }

    // ----- authorization -----------------------------------------------------------------

    /// Whether the actor passes `check(actor, perm, target)` in its session.
    pub fn may(&self, perm: &str, target: Target) -> bool {
        match self.actor {
            Actor::System => true,
            Actor::Principal { id, ctx } => {
                self.state.catalog.permission_id(perm).is_some_and(|p| {
                    self.state.check(id, p, target, ctx, self.now).is_ok_and(|d| d.is_allowed())
                })
            }
        }
    }

    /// Whether the actor holds `perm` over `tenant` from above (SPEC §1).
    pub fn may_over(&self, perm: &str, tenant: TenantId) -> bool {
        match self.actor {
            Actor::System => true,
            Actor::Principal { id, ctx } => {
                self.state.catalog.permission_id(perm).is_some_and(|p| {
                    self.state.check_over(id, p, tenant, ctx, self.now).unwrap_or(false)
                })
            }
        }
    }

    /// Whether the actor held `perm` over `tenant` from above before the command.
    fn may_over_before(&self, perm: &str, tenant: TenantId) -> bool {
        match self.actor {
            Actor::System => true,
            Actor::Principal { id, ctx } => {
                self.base.catalog.permission_id(perm).is_some_and(|p| {
                    self.base.check_over(id, p, tenant, ctx, self.now).unwrap_or(false)
                })
            }
        }
    }

    /// Whether the actor holds `perm` in `tenant` through a direct assignment (not only a
    /// grant, R43).
    pub fn may_directly(&self, perm: &str, tenant: TenantId) -> bool {
        match self.actor {
            Actor::System => true,
            Actor::Principal { id, ctx } => {
                let home_ctx = Context {
                    switched: None,
                    impersonation: ctx.impersonation,
                    sessionless: false,
                };
                self.state.catalog.permission_id(perm).is_some_and(|p| {
                    self.state
                        .check(id, p, Target::Tenant(tenant), home_ctx, self.now)
                        .is_ok_and(|d| d.is_allowed())
                })
            }
        }
    }

    /// Refuses unless the actor may `perm` on `tenant`; what it may not even see is "not
    /// found" (R58).
    pub fn require(
        &self,
        perm: &str,
        tenant: TenantId,
        rule: &'static str,
    ) -> Result<(), CommandError> {
        if self.may(perm, Target::Tenant(tenant)) {
            return Ok(());
        }
        if !self.can_see(tenant) {
            return Err(CommandError::not_found("tenant", tenant));
        }
        Err(CommandError::forbidden(
            rule,
            format!("you need `{perm}` in tenant `{}`", self.tenant(tenant)?.key),
        ))
    }

    /// Whether the actor may see a tenant at all: its home, or any tenant where it holds
    /// `tenants.view` or `users.view`.
    pub fn can_see(&self, tenant: TenantId) -> bool {
        match self.actor {
            Actor::System => true,
            Actor::Principal { id, .. } => {
                self.state.principal(id).is_some_and(|p| p.home == tenant)
                    || self.may(crate::perms::TENANTS_VIEW, Target::Tenant(tenant))
                    || self.may(crate::perms::USERS_VIEW, Target::Tenant(tenant))
            }
        }
    }

    /// The actor's rank in `tenant` in its session (R29a).
    pub fn actor_rank(&self, tenant: TenantId) -> Rank {
        match self.actor {
            Actor::System => Rank { value: i32::MAX, from_above: true },
            Actor::Principal { id, ctx } => match ctx.impersonation {
                None => self.state.rank(id, tenant, ctx.switched, self.now),
                // Acting as the target, never above the impersonator (R48).
                Some(imp) => self.state.rank(id, tenant, None, self.now).min(self.state.rank(
                    imp.actor,
                    tenant,
                    ctx.switched,
                    self.now,
                )),
            },
        }
    }

    /// A target's rank in its home session, in its home tenant (R29a).
    pub fn target_rank(&self, target: PrincipalId) -> Rank {
        let home = self.state.principal(target).map(|p| p.home);
        home.map_or(Rank::NONE, |h| self.state.rank(target, h, None, self.now))
    }

    // ----- invariants --------------------------------------------------------------------

    /// Whether `tenant` has an active admin as R5 defines one.
    pub fn has_active_admin(&self, tenant: TenantId) -> bool {
        active_admins(&self.state, tenant).next().is_some()
    }

    fn finish(&mut self) -> Result<(), CommandError> {
        let touched: Vec<TenantId> = std::mem::take(&mut self.touched).into_iter().collect();
        for t in touched {
            self.settle_contact(t)?;
            let has_admin = self.has_active_admin(t);
            let tenant = self.tenant(t)?.clone();
            if has_admin && !tenant.had_admin {
                self.put(Change::Tenant(Tenant { had_admin: true, ..tenant }))?;
            } else if !has_admin && active_admins(&self.base, t).next().is_some() {
                // R5: only a holder of `tenants.manage` over T (a principal, deliberately)
                // may leave it without an admin; the console may not.
                let exempt = matches!(self.actor, Actor::Principal { .. })
                    && self.may_over_before(crate::perms::TENANTS_MANAGE, t);
                if !exempt {
                    return Err(CommandError::conflict(
                        Some("R5"),
                        None,
                        format!("tenant `{}` must keep at least one active admin", tenant.key),
                    ));
                }
                self.log("tenant.left_without_admin", None, Some(t), serde_json::json!({}));
            }
        }
        Ok(())
    }

    /// R4: when the contact person is gone, the longest-serving active admin, else the
    /// longest-serving active user, takes over.
    fn settle_contact(&mut self, t: TenantId) -> Result<(), CommandError> {
        let tenant = self.tenant(t)?.clone();
        let current_ok = tenant
            .contact
            .and_then(|c| self.state.principal(c))
            .is_some_and(|c| !matches!(c.status, Status::Deactivated | Status::Cancelled));
        if current_ok {
            return Ok(());
        }
        let admin = active_admins(&self.state, t)
            .filter_map(|p| earliest_admin_assignment(&self.state, p, t).map(|a| (a, p.id)))
            .min()
            .map(|(_, p)| p);
        let successor = admin.or_else(|| {
            self.state
                .members(t)
                .find(|p| p.is_active() && matches!(p.kind, PrincipalKind::User))
                .map(|p| p.id)
        });
        if successor.is_none() && tenant.contact.is_some() {
            return Ok(());
        }
        if successor != tenant.contact {
            let subject = successor.map(|p| p.to_string());
            self.put(Change::Tenant(Tenant { contact: successor, ..tenant }))?;
            self.log(
                "tenant.contact_changed",
                subject,
                Some(t),
                serde_json::json!({"reason": "previous contact person left"}),
            );
        }
        Ok(())
    }
}

/// Active admins of `tenant` as R5 counts them: active users (not delegates or service
/// accounts) homed there, holding the admin role there by an unexpiring direct assignment.
pub fn active_admins(state: &State, tenant: TenantId) -> impl Iterator<Item = &Principal> + '_ {
    let admin = state.catalog.admin_role;
    state.members(tenant).filter(move |p| {
        p.is_active()
            && matches!(p.kind, PrincipalKind::User)
            && p.assignments.iter().any(|a| {
                a.expires_at.is_none()
                    && a.bundle == Bundle::Role(admin)
                    && matches!(a.scope, Scope::Tenant { tenant: at, subtree } if at == tenant || (subtree && state.is_ancestor_or_self(at, tenant)))
            })
    })
}

fn earliest_admin_assignment(
    state: &State,
    p: &Principal,
    tenant: TenantId,
) -> Option<AssignmentId> {
    let admin = state.catalog.admin_role;
    p.assignments
        .iter()
        .filter(|a| a.bundle == Bundle::Role(admin) && matches!(a.scope, Scope::Tenant { tenant: at, .. } if state.is_ancestor_or_self(at, tenant)))
        .map(|a| a.id)
        .min()
}
