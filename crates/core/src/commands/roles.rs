//! Giving and removing assignments (R26, R27, R32, R6, R19): no escalation, requirements
//! held, and the admin role kept where R5 and R6 need it.

use crate::check::{Context, Target};
use crate::ids::*;
use crate::model::*;
use crate::perm_set::PermSet;
use crate::state::{Change, State};
use crate::tx::{Actor, CommandError, Tx};
use serde_json::json;
use std::sync::Arc;

/// A role or permission to give, where, until when.
#[derive(Debug, Clone, Copy)]
pub struct NewAssignment {
    pub principal: PrincipalId,
    pub bundle: Bundle,
    pub scope: Scope,
    pub expires_at: Option<Millis>,
}

/// The permissions a bundle gives.
pub(crate) fn bundle_perms(state: &State, bundle: Bundle) -> PermSet {
    match bundle {
        Bundle::Role(r) => state.catalog.role(r).permissions,
        Bundle::Permission(p) => std::iter::once(p).collect(),
    }
}

/// A bundle's effective permissions in a tenant (R31).
pub(crate) fn effective_in(state: &State, perms: PermSet, tenant: TenantId) -> PermSet {
    let catalog = &state.catalog;
    let Some(t) = state.tenant(tenant) else { return PermSet::EMPTY };
    let mut out = perms.intersect(catalog.core.union(t.entitlements));
    if state.root() != Some(tenant) {
        out = out.minus(catalog.root_only);
    }
    out
}

/// The permissions a principal's live direct assignments give on a target, whatever its
/// status (used for R26's "will the assignee hold the requirements").
pub(crate) fn held_perms(
    state: &State,
    principal: &Principal,
    target: Target,
    now: Millis,
) -> PermSet {
    let Ok(resolved) = state.resolve(target) else { return PermSet::EMPTY };
    let mut held = PermSet::EMPTY;
    for a in principal.assignments.iter().filter(|a| a.live(now)) {
        let covers = match a.scope {
            Scope::Tenant { tenant, subtree } => {
                tenant == resolved.tenant
                    || (subtree && state.is_ancestor_or_self(tenant, resolved.tenant))
            }
            Scope::Resource { resource } => {
                resolved.resource.is_some_and(|r| state.resource_is_ancestor_or_self(resource, r))
            }
            _ => false,
        };
        if covers {
            held = held.union(bundle_perms(state, a.bundle));
        }
    }
    effective_in(state, held, resolved.tenant)
}

impl Tx {
    /// The tenant an assignment scope sits in, and the check target it stands for.
    fn scope_target(&self, scope: Scope) -> Result<(TenantId, Target), CommandError> {
        match scope {
            Scope::Tenant { tenant, .. } => {
                self.tenant(tenant)?;
                Ok((tenant, Target::Tenant(tenant)))
            }
            Scope::Resource { resource } => {
                let r = self
                    .state
                    .resource(resource)
                    .ok_or_else(|| CommandError::not_found("resource", resource))?;
                Ok((r.tenant, Target::Resource(resource)))
            }
            Scope::Client { .. } | Scope::Group { .. } => Err(CommandError::invalid(
                "scope",
                "a partner role (for a client or a security group) is given as a partner role, not as an assignment (R41)",
            )),
        }
    }

    /// R27: whether the actor may give (or remove) `bundle` at `scope` to `assignee`.
    pub(crate) fn check_no_escalation(
        &self,
        bundle: Bundle,
        scope: Scope,
        assignee: PrincipalId,
    ) -> Result<(), CommandError> {
        let Actor::Principal { ctx, .. } = self.actor else { return Ok(()) };
        let (tenant, target) = self.scope_target(scope)?;
        let assignee_p = self.principal(assignee)?;
        // The assigning permission: `roles.assign` in T, or `instances.grant` on an instance.
        let on_resource = matches!(scope, Scope::Resource { .. });
        let may_assign = self.may(crate::perms::ROLES_ASSIGN, Target::Tenant(tenant))
            || (on_resource && self.may(crate::perms::INSTANCES_GRANT, target));
        if !may_assign {
            if !self.can_see(tenant) {
                return Err(CommandError::not_found("tenant", tenant));
            }
            return Err(CommandError::forbidden(
                "R27",
                format!("you need `roles.assign` in tenant `{}`", self.tenant(tenant)?.key),
            ));
        }
        // R43: grant-only permissions never give direct assignments to outsiders.
        if let Some(client) = ctx.switched
            && !self.state.is_ancestor_or_self(client, assignee_p.home)
        {
            return Err(CommandError::forbidden(
                "R43",
                "permissions held through a grant never give direct assignments to principals homed outside the client",
            ));
        }
        // Every permission the role would confer, held by the actor in every covered tenant.
        let perms = bundle_perms(&self.state, bundle);
        let covered: Vec<Target> = match scope {
            Scope::Tenant { tenant, subtree: true } => {
                self.state.subtree(tenant).into_iter().map(Target::Tenant).collect()
            }
            _ => vec![target],
        };
        for t in covered {
            let t_tenant = self.state.resolve(t).map(|r| r.tenant).unwrap_or(tenant);
            for p in effective_in(&self.state, perms, t_tenant).iter() {
                if !self.may(self.state.catalog.perm_name(p), t) {
                    return Err(CommandError::forbidden(
                        "R27",
                        format!(
                            "you cannot give `{}`: you lack `{}` in tenant `{}`",
                            self.bundle_name(bundle),
                            self.state.catalog.perm_name(p),
                            self.tenant(t_tenant)?.key
                        ),
                    ));
                }
            }
        }
        let mine = self.actor_rank(tenant);
        let rank = crate::check::bundle_rank(&self.state, bundle);
        if rank > mine.value {
            return Err(CommandError::forbidden(
                "R27",
                format!(
                    "`{}` (rank {rank}) ranks above you (rank {}) in tenant `{}`",
                    self.bundle_name(bundle),
                    mine.value,
                    self.tenant(tenant)?.key
                ),
            ));
        }
        let theirs = self.state.rank(assignee, tenant, None, self.now);
        if theirs > mine {
            return Err(CommandError::forbidden(
                "R27",
                format!(
                    "`{}` outranks you in tenant `{}`",
                    assignee_p.logon,
                    self.tenant(tenant)?.key
                ),
            ));
        }
        Ok(())
    }

    pub(crate) fn bundle_name(&self, bundle: Bundle) -> String {
        match bundle {
            Bundle::Role(r) => self.state.catalog.role_name(r).to_owned(),
            Bundle::Permission(p) => self.state.catalog.perm_name(p).to_owned(),
        }
    }

    /// Gives a role or permission (R27, R26, R32).
    pub fn assign(&mut self, new: NewAssignment) -> Result<AssignmentId, CommandError> {
        let p = self.principal(new.principal)?.clone();
        if !self.visible_principal(&p) {
            return Err(CommandError::not_found("principal", new.principal));
        }
        if p.delegate.is_some() {
            return Err(CommandError::conflict(
                Some("R35"),
                Some("principal"),
                "a secondary logon has no roles of its own: change its access instead",
            ));
        }
        if p.status == Status::Cancelled {
            return Err(CommandError::conflict(
                Some("R11"),
                Some("principal"),
                format!("`{}` is cancelled", p.logon),
            ));
        }
        self.validate_bundle(new.bundle)?;
        if let Bundle::Role(r) = new.bundle
            && self.state.catalog.role(r).customer_manager
        {
            let (tenant, _) = self.scope_target(new.scope)?;
            if !self.tenant(tenant)?.partner || !matches!(new.scope, Scope::Tenant { .. }) {
                return Err(CommandError::conflict(
                    Some("R30"),
                    Some("role"),
                    "`customer-manager` is assignable only in tenants flagged partner",
                ));
            }
        }
        if new.expires_at.is_some_and(|t| t <= self.now) {
            return Err(CommandError::invalid("expires_at", "must be in the future"));
        }
        self.check_no_escalation(new.bundle, new.scope, new.principal)?;
        if p.assignments.iter().any(|a| {
            a.bundle == new.bundle && a.scope == new.scope && a.expires_at == new.expires_at
        }) {
            return Err(CommandError::conflict(
                None,
                Some("role"),
                format!("`{}` already holds `{}` there", p.logon, self.bundle_name(new.bundle)),
            ));
        }
        let id =
            self.push_assignment(&p, new.bundle, new.scope, new.expires_at, self.actor.author())?;
        self.check_requirements_held(new.principal, new.bundle, new.scope)?;
        Ok(id)
    }

    pub(crate) fn validate_bundle(&self, bundle: Bundle) -> Result<(), CommandError> {
        let ok = match bundle {
            Bundle::Role(r) => r.index() < self.state.catalog.roles.len(),
            Bundle::Permission(p) => p.index() < self.state.catalog.permissions.len(),
        };
        if ok { Ok(()) } else { Err(CommandError::not_found("role", format!("{bundle:?}"))) }
    }

    /// Adds an assignment without authorization (callers decided it is allowed).
    pub(crate) fn push_assignment(
        &mut self,
        p: &Principal,
        bundle: Bundle,
        scope: Scope,
        expires_at: Option<Millis>,
        by: Author,
    ) -> Result<AssignmentId, CommandError> {
        let id = self.state.next_assignment_id();
        let mut list = p.assignments.to_vec();
        list.push(Assignment {
            id,
            bundle,
            scope,
            expires_at,
            created_by: by,
            created_at: self.now,
        });
        let tenant = match scope {
            Scope::Tenant { tenant, .. } | Scope::Client { client: tenant } => Some(tenant),
            Scope::Resource { resource } => self.state.resource(resource).map(|r| r.tenant),
            Scope::Group { .. } => None,
        };
        self.log("assignment.added", Some(p.id.to_string()), tenant, json!({"assignment": id.to_string(), "role": self.bundle_name(bundle), "scope": scope, "expires_at": expires_at}));
        self.put(Change::Principal(Principal { assignments: Arc::from(list), ..p.clone() }))?;
        self.touch(p.home);
        if let Some(t) = tenant {
            self.touch(t);
        }
        Ok(id)
    }

    /// R26: the assignee must hold, in the scope, everything the given permissions require.
    fn check_requirements_held(
        &self,
        principal: PrincipalId,
        bundle: Bundle,
        scope: Scope,
    ) -> Result<(), CommandError> {
        let (tenant, target) = self.scope_target(scope)?;
        let p = self.principal(principal)?;
        let held = held_perms(&self.state, p, target, self.now);
        let given = effective_in(&self.state, bundle_perms(&self.state, bundle), tenant);
        let mut missing = PermSet::EMPTY;
        for g in given.iter() {
            missing = missing.union(self.state.catalog.requires_closure[g.index()].minus(held));
        }
        if missing.is_empty() {
            return Ok(());
        }
        Err(CommandError::conflict(
            Some("R26"),
            Some("role"),
            format!(
                "`{}` needs {} there, which `{}` would not hold",
                self.bundle_name(bundle),
                quote_list(&self.state.catalog.perm_names(missing)),
                p.logon
            ),
        ))
    }

    /// Removes an assignment (R27, R26, R6, R5).
    pub fn unassign(
        &mut self,
        principal: PrincipalId,
        assignment: AssignmentId,
    ) -> Result<(), CommandError> {
        let p = self.principal(principal)?.clone();
        if !self.visible_principal(&p) {
            return Err(CommandError::not_found("principal", principal));
        }
        let Some(a) = p.assignments.iter().find(|a| a.id == assignment).cloned() else {
            return Err(CommandError::not_found("assignment", assignment));
        };
        if a.scope.is_partner() {
            self.check_partner_giver(&p, a.bundle, a.scope)?;
        } else {
            if self.actor.principal() == Some(principal)
                && a.bundle == Bundle::Role(self.state.catalog.admin_role)
            {
                return Err(CommandError::forbidden("R6", "you cannot remove your own admin role"));
            }
            self.check_no_escalation(a.bundle, a.scope, principal)?;
        }
        let before = if a.scope.is_partner() {
            PermSet::EMPTY
        } else {
            held_perms(&self.state, &p, self.scope_target(a.scope)?.1, self.now)
        };
        self.remove_assignment(&p, assignment)?;
        if !a.scope.is_partner() {
            let target = self.scope_target(a.scope)?.1;
            let after_p = self.principal(principal)?.clone();
            let after = held_perms(&self.state, &after_p, target, self.now);
            let lost = before.minus(after);
            for q in after.iter() {
                let needed = self.state.catalog.requires_closure[q.index()].intersect(lost);
                if !needed.is_empty() {
                    return Err(CommandError::conflict(
                        Some("R26"),
                        Some("assignment"),
                        format!(
                            "`{}` is required by `{}`, which `{}` still holds there",
                            quote_list(&self.state.catalog.perm_names(needed)),
                            self.state.catalog.perm_name(q),
                            p.logon
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    pub(crate) fn remove_assignment(
        &mut self,
        p: &Principal,
        assignment: AssignmentId,
    ) -> Result<(), CommandError> {
        let list: Vec<Assignment> =
            p.assignments.iter().filter(|a| a.id != assignment).cloned().collect();
        self.log(
            "assignment.removed",
            Some(p.id.to_string()),
            Some(p.home),
            json!({"assignment": assignment.to_string()}),
        );
        self.put(Change::Principal(Principal { assignments: Arc::from(list), ..p.clone() }))?;
        self.touch(p.home);
        Ok(())
    }

    /// Sets a tenant's default role (R19): needs what R27 needs to give it there.
    pub fn set_default_role(&mut self, tenant: TenantId, role: RoleId) -> Result<(), CommandError> {
        let t = self.tenant(tenant)?.clone();
        self.validate_bundle(Bundle::Role(role))?;
        if let Actor::Principal { id, .. } = self.actor {
            self.check_no_escalation(
                Bundle::Role(role),
                Scope::Tenant { tenant, subtree: false },
                id,
            )?;
        }
        self.log(
            "tenant.default_role_set",
            Some(tenant.to_string()),
            Some(tenant),
            json!({"role": self.state.catalog.role_name(role)}),
        );
        self.put(Change::Tenant(Tenant { default_role: Some(role), ..t }))
    }

    /// Whether the actor may see a principal at all (R58: otherwise "not found").
    pub fn visible_principal(&self, p: &Principal) -> bool {
        match self.actor {
            Actor::System => true,
            Actor::Principal { id, .. } => {
                id == p.id
                    || p.owner() == Some(id)
                    || self.in_owner_chain(id, p.id)
                    || self.may(crate::perms::USERS_VIEW, Target::Tenant(p.home))
                    || self.can_see_via_assignment(p)
            }
        }
    }

    /// Whether `owner` is above `principal` in its owner chain (a delegate sees its owners).
    fn in_owner_chain(&self, principal: PrincipalId, owner: PrincipalId) -> bool {
        let mut current = self.state.principal(principal).and_then(|p| p.owner());
        for _ in 0..64 {
            match current {
                Some(o) if o == owner => return true,
                Some(o) => current = self.state.principal(o).and_then(|p| p.owner()),
                None => return false,
            }
        }
        false
    }

    /// A principal homed elsewhere but holding roles in a tenant the actor manages (S1: the
    /// client's admin sees Jane's assignment in the client).
    fn can_see_via_assignment(&self, p: &Principal) -> bool {
        p.assignments.iter().any(|a| match a.scope {
            Scope::Tenant { tenant, .. } => {
                self.may(crate::perms::USERS_VIEW, Target::Tenant(tenant))
            }
            Scope::Resource { resource } => self
                .state
                .resource(resource)
                .is_some_and(|r| self.may(crate::perms::USERS_VIEW, Target::Tenant(r.tenant))),
            _ => false,
        })
    }

    /// The actor's session context, if it is a principal.
    pub fn actor_ctx(&self) -> Option<Context> {
        match self.actor {
            Actor::System => None,
            Actor::Principal { ctx, .. } => Some(ctx),
        }
    }
}

pub(crate) fn quote_list(names: &[String]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}
