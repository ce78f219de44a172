//! Principals and their lifecycle (R4, R10, R11, R17–R20, R28, R34–R36): users,
//! delegates, service accounts, status changes with their cascades, contact persons.

use crate::check::Target;
use crate::ids::*;
use crate::model::*;
use crate::names;
use crate::state::Change;
use crate::tx::{Actor, CommandError, Tx};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a new user needs (R10).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub home: TenantId,
    pub logon: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: Option<String>,
    /// Roles in the home tenant (tenant scope), each given under R27.
    pub roles: Vec<RoleId>,
    /// `pending` (no invitation, no password), `invited`, or `active` (password set).
    pub status: Status,
}

/// What a new secondary logon needs (R34).
#[derive(Debug, Clone)]
pub struct NewDelegate {
    pub owner: PrincipalId,
    pub logon: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// `None`: Full Access.
    pub groups: Option<Vec<GroupId>>,
    /// `None`: all kinds.
    pub kinds: Option<Vec<KindId>>,
    pub roles: Vec<RoleId>,
    pub linked_password: bool,
}

/// A basic e-mail address check: one `@`, something on both sides, a dot in the domain,
/// no spaces (the portal also asks for it twice).
pub fn validate_email(email: &str) -> Result<(), CommandError> {
    let ok = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if ok {
        Ok(())
    } else {
        Err(CommandError::invalid("email", format!("`{email}` is not an e-mail address")))
    }
}

impl Tx {
    fn validate_logon(&self, logon: &str) -> Result<(), CommandError> {
        names::validate_logon(logon).map_err(|e| {
            CommandError::invalid("logon", format!("`{}` {e}", logon.escape_debug()))
        })?;
        if let Some(existing) = self.state.principal_by_logon(logon) {
            let other = &self.principal(existing)?.logon;
            let message = if names::fold(other) == names::fold(logon) {
                format!("logon name `{logon}` is taken")
            } else {
                format!("logon name `{logon}` is confusable with an existing logon name")
            };
            return Err(CommandError::conflict(Some("R10"), Some("logon"), message));
        }
        Ok(())
    }

    fn validate_person(&self, first: &str, last: &str, email: &str) -> Result<(), CommandError> {
        names::validate_name(first)
            .map_err(|e| CommandError::invalid("first_name", e.to_string()))?;
        names::validate_name(last)
            .map_err(|e| CommandError::invalid("last_name", e.to_string()))?;
        validate_email(email)
    }

    #[allow(clippy::too_many_arguments)]
    fn insert_principal(
        &mut self,
        kind: PrincipalKind,
        home: TenantId,
        logon: String,
        first: String,
        last: String,
        email: String,
        phone: Option<String>,
        status: Status,
        delegate: Option<DelegateAccess>,
    ) -> Result<PrincipalId, CommandError> {
        let id = PrincipalId(self.state.n_principals() as u32);
        let p = Principal {
            id,
            kind,
            home,
            logon_key: names::collision_key(&logon).into(),
            logon: logon.into(),
            first_name: first.into(),
            last_name: last.into(),
            email: email.into(),
            email_verified: false,
            phone: phone.map(Into::into),
            status,
            status_reason: None,
            status_serial: 0,
            description: Box::default(),
            internal_description: Box::default(),
            attributes: BTreeMap::new(),
            assignments: Arc::from([]),
            delegate: delegate.map(Box::new),
            created_at: self.now,
            created_revision: self.state.revision + 1,
        };
        self.log(
            "principal.created",
            Some(id.to_string()),
            Some(home),
            json!({"logon": p.logon, "kind": kind, "status": status}),
        );
        self.put(Change::Principal(p))?;
        self.touch(home);
        Ok(id)
    }

    /// Adds a user (R10) and applies R4 (first user: contact person and admin) and R19
    /// (default role).
    pub fn create_user(&mut self, new: NewUser) -> Result<PrincipalId, CommandError> {
        let home = new.home;
        self.tenant(home)?;
        self.require(crate::perms::USERS_CREATE, home, "R10")?;
        self.validate_logon(&new.logon)?;
        self.validate_person(&new.first_name, &new.last_name, &new.email)?;
        if !matches!(new.status, Status::Pending | Status::Invited | Status::Active) {
            return Err(CommandError::invalid(
                "status",
                "a new user is pending, invited or active",
            ));
        }
        let first_user = self.tenant(home)?.contact.is_none()
            && !self.state.members(home).any(|p| matches!(p.kind, PrincipalKind::User));
        let id = self.insert_principal(
            PrincipalKind::User,
            home,
            new.logon,
            new.first_name,
            new.last_name,
            new.email,
            new.phone,
            new.status,
            None,
        )?;
        if first_user {
            // R4: contact person, and admin as broadly as the actor could give it.
            let tenant = self.tenant(home)?.clone();
            self.put(Change::Tenant(Tenant { contact: Some(id), ..tenant }))?;
            self.log(
                "tenant.contact_changed",
                Some(id.to_string()),
                Some(home),
                json!({"reason": "first user"}),
            );
            let admin = Bundle::Role(self.state.catalog.admin_role);
            for subtree in [true, false] {
                let scope = Scope::Tenant { tenant: home, subtree };
                if self.check_no_escalation(admin, scope, id).is_ok() {
                    let p = self.principal(id)?.clone();
                    self.push_assignment(&p, admin, scope, None, Author::System)?;
                    break;
                }
            }
        }
        self.give_default_role(id)?;
        for role in new.roles {
            let already = self.principal(id)?.assignments.iter().any(|a| {
                a.bundle == Bundle::Role(role)
                    && matches!(a.scope, Scope::Tenant { tenant, .. } if tenant == home)
            });
            if !already {
                self.assign(crate::commands::roles::NewAssignment {
                    principal: id,
                    bundle: Bundle::Role(role),
                    scope: Scope::Tenant { tenant: home, subtree: false },
                    expires_at: None,
                })?;
            }
        }
        Ok(id)
    }

    /// R19: the tenant's default role if the actor could give it, else `default-user`.
    fn give_default_role(&mut self, id: PrincipalId) -> Result<(), CommandError> {
        let p = self.principal(id)?.clone();
        let catalog_default = self.state.catalog.default_role;
        let wanted = self.tenant(p.home)?.default_role.unwrap_or(catalog_default);
        let scope = Scope::Tenant { tenant: p.home, subtree: false };
        let role = if self.check_no_escalation(Bundle::Role(wanted), scope, id).is_ok() {
            wanted
        } else {
            catalog_default
        };
        if p.assignments.iter().any(|a| a.bundle == Bundle::Role(role) && a.scope == scope) {
            return Ok(());
        }
        self.push_assignment(&p, Bundle::Role(role), scope, None, Author::System)?;
        Ok(())
    }

    /// Adds a service account (R24): no password, API keys only.
    pub fn create_service_account(
        &mut self,
        home: TenantId,
        name: String,
        description: String,
    ) -> Result<PrincipalId, CommandError> {
        self.tenant(home)?;
        self.require(crate::perms::USERS_CREATE, home, "R24")?;
        self.validate_logon(&name)?;
        let id = self.insert_principal(
            PrincipalKind::ServiceAccount,
            home,
            name.clone(),
            name,
            String::new(),
            String::new(),
            None,
            Status::Active,
            None,
        )?;
        let p = self.principal(id)?.clone();
        self.put(Change::Principal(Principal { description: description.into(), ..p }))?;
        self.give_default_role(id)?;
        Ok(id)
    }

    /// Creates a secondary logon (R34, R17): by its owner, or by a holder of `users.create`
    /// in the home tenant who outranks the owner.
    pub fn create_delegate(&mut self, new: NewDelegate) -> Result<PrincipalId, CommandError> {
        // Visibility first (R58): the impersonation refusal must not reveal the owner.
        let owner = self.principal(new.owner)?.clone();
        if !self.visible_principal(&owner) {
            return Err(CommandError::not_found("principal", new.owner));
        }
        self.refuse_when_impersonating(owner.id, "create secondary logons")?;
        if !matches!(owner.kind, PrincipalKind::User | PrincipalKind::Delegate { .. }) {
            return Err(CommandError::conflict(
                Some("R34"),
                Some("owner"),
                "service accounts have no secondary logons",
            ));
        }
        if !owner.is_active() {
            return Err(CommandError::conflict(
                Some("R34"),
                Some("owner"),
                format!("owner `{}` is not active", owner.logon),
            ));
        }
        let tenant = self.tenant(owner.home)?.clone();
        let allowed = if owner.delegate.is_some() {
            tenant.nested_delegates_allowed
        } else {
            tenant.delegates_allowed
        };
        if !allowed {
            let what = if owner.delegate.is_some() {
                "secondary logons creating secondary logons"
            } else {
                "secondary logons"
            };
            return Err(CommandError::forbidden(
                "R34",
                format!("tenant `{}` does not allow {what}", tenant.key),
            ));
        }
        if self.actor.principal() != Some(owner.id) {
            self.require_manage(crate::perms::USERS_CREATE, &owner, "R34")?;
        }
        self.validate_logon(&new.logon)?;
        self.validate_person(&new.first_name, &new.last_name, &new.email)?;
        let access = self.validate_delegate_access(
            &owner,
            new.groups,
            new.kinds,
            new.roles,
            new.linked_password,
        )?;
        // R17: a linked delegate is active from creation; others wait for their e-mail.
        let status = if new.linked_password { Status::Active } else { Status::Invited };
        self.insert_principal(
            PrincipalKind::Delegate { owner: owner.id },
            owner.home,
            new.logon,
            new.first_name,
            new.last_name,
            new.email,
            None,
            status,
            Some(access),
        )
    }

    /// Checks groups, kinds and roles an owner may give its delegate (R34).
    fn validate_delegate_access(
        &self,
        owner: &Principal,
        groups: Option<Vec<GroupId>>,
        kinds: Option<Vec<KindId>>,
        roles: Vec<RoleId>,
        linked_password: bool,
    ) -> Result<DelegateAccess, CommandError> {
        let groups = match groups {
            None => GroupAccess::Full,
            Some(list) => {
                for g in &list {
                    let group = self.group(*g)?;
                    if group.owner != GroupOwner::User(owner.id) {
                        return Err(CommandError::forbidden(
                            "R34",
                            format!("group `{}` is not a group of `{}`", group.name, owner.logon),
                        ));
                    }
                }
                GroupAccess::Groups(dedup(list))
            }
        };
        let kinds = match kinds {
            None => KindAccess::All,
            Some(list) => {
                if let Some(k) = list.iter().find(|k| k.index() >= self.state.catalog.kinds.len()) {
                    return Err(CommandError::not_found("kind", k));
                }
                KindAccess::Kinds(dedup(list))
            }
        };
        for r in &roles {
            self.validate_bundle(Bundle::Role(*r))?;
            if !self.principal_holds_role(owner, *r) {
                return Err(CommandError::forbidden(
                    "R34",
                    format!(
                        "`{}` does not hold `{}` and so cannot give it",
                        owner.logon,
                        self.state.catalog.role_name(*r)
                    ),
                ));
            }
        }
        Ok(DelegateAccess { groups, kinds, roles: dedup(roles), linked_password })
    }

    /// Whether `p` holds role `r` itself (a delegate: within its narrowing roles, or its
    /// owner holds it).
    fn principal_holds_role(&self, p: &Principal, r: RoleId) -> bool {
        match &p.delegate {
            Some(access) if !access.roles.is_empty() => access.roles.contains(&r),
            Some(_) => p
                .owner()
                .and_then(|o| self.state.principal(o))
                .is_some_and(|o| self.principal_holds_role(o, r)),
            None => p.assignments.iter().any(|a| a.live(self.now) && a.bundle == Bundle::Role(r)),
        }
    }

    /// Changes a delegate's groups, kinds and narrowing roles (R34, R35): by its owner or a
    /// holder of `users.modify` who outranks it; never by itself (R29a).
    pub fn set_delegate_access(
        &mut self,
        delegate: PrincipalId,
        groups: Option<Vec<GroupId>>,
        kinds: Option<Vec<KindId>>,
        roles: Vec<RoleId>,
    ) -> Result<(), CommandError> {
        let d = self.principal(delegate)?.clone();
        if !self.visible_principal(&d) {
            return Err(CommandError::not_found("principal", delegate));
        }
        self.refuse_when_impersonating(delegate, "change the secondary logons")?;
        let (Some(owner_id), Some(current)) = (d.owner(), d.delegate.clone()) else {
            return Err(CommandError::invalid(
                "principal",
                format!("`{}` is not a secondary logon", d.logon),
            ));
        };
        if self.actor.principal() == Some(delegate) {
            return Err(CommandError::forbidden(
                "R29a",
                "a secondary logon never changes its own groups, kinds or roles",
            ));
        }
        if self.actor.principal() != Some(owner_id) {
            self.require_manage(crate::perms::USERS_MODIFY, &d, "R34")?;
        }
        let owner = self.principal(owner_id)?.clone();
        let access =
            self.validate_delegate_access(&owner, groups, kinds, roles, current.linked_password)?;
        self.log(
            "delegate.access_changed",
            Some(delegate.to_string()),
            Some(d.home),
            json!({"groups": access.groups, "kinds": access.kinds, "roles": access.roles}),
        );
        self.put(Change::Principal(Principal { delegate: Some(Box::new(access)), ..d }))
    }

    /// R48: what an impersonator may never do as the target.
    pub(crate) fn refuse_when_impersonating(
        &self,
        concerning: PrincipalId,
        what: &str,
    ) -> Result<(), CommandError> {
        // While impersonating, the actor's principal is the impersonated target: R48 fences
        // off the target and its secondary logons, nobody else.
        let impersonating = self.actor_ctx().is_some_and(|c| c.impersonation.is_some());
        let Some(target) = self.actor.principal().filter(|_| impersonating) else {
            return Ok(());
        };
        let mut next = Some(concerning);
        while let Some(id) = next {
            if id == target {
                return Err(CommandError::forbidden(
                    "R48",
                    format!("an impersonator cannot {what} of the impersonated principal"),
                ));
            }
            next = self.state.principal(id).and_then(|p| p.owner());
        }
        Ok(())
    }

    /// R28 (and R29a's delegate limits): the actor may act on `target` with `perm`.
    pub fn require_manage(
        &self,
        perm: &str,
        target: &Principal,
        rule: &'static str,
    ) -> Result<(), CommandError> {
        let Actor::Principal { id, .. } = self.actor else { return Ok(()) };
        if !self.visible_principal(target) {
            return Err(CommandError::not_found("principal", target.id));
        }
        // An owner manages its own delegates (R34).
        if target.owner() == Some(id) && perm != crate::perms::IMPERSONATE {
            return Ok(());
        }
        // A delegate never manages its own owner chain (R29a).
        let mut chain = self.state.principal(id).and_then(|p| p.owner());
        while let Some(o) = chain {
            if o == target.id {
                return Err(CommandError::forbidden(
                    "R29a",
                    "a secondary logon never manages its own owner chain",
                ));
            }
            chain = self.state.principal(o).and_then(|p| p.owner());
        }
        if !self.may(perm, Target::Tenant(target.home)) {
            return Err(CommandError::forbidden(
                rule,
                format!("you need `{perm}` in tenant `{}`", self.tenant(target.home)?.key),
            ));
        }
        let (mine, theirs) = (self.actor_rank(target.home), self.target_rank(target.id));
        if theirs > mine {
            return Err(CommandError::forbidden(
                "R28",
                format!(
                    "`{}` (rank {}) outranks you (rank {}) in tenant `{}`",
                    target.logon,
                    theirs.value,
                    mine.value,
                    self.tenant(target.home)?.key
                ),
            ));
        }
        Ok(())
    }

    /// Moves a principal along the status machine (R11): invited, active, deactivated.
    /// Cancelling has its own command.
    pub fn set_status(
        &mut self,
        principal: PrincipalId,
        status: Status,
        reason: Option<String>,
    ) -> Result<(), CommandError> {
        let p = self.principal(principal)?.clone();
        if !self.visible_principal(&p) {
            return Err(CommandError::not_found("principal", principal));
        }
        use Status::*;
        if matches!(p.status, Pending | Invited) && status == Active {
            // R11: only a password makes it active ([`Tx::password_set`]); an administrator
            // cannot activate a principal that has none.
            return Err(CommandError::conflict(
                Some("R11"),
                Some("status"),
                format!(
                    "`{}` is {} and becomes active only when a password is set (by its invitation link, or by the administrator who creates it with a password)",
                    p.logon,
                    p.status.as_str()
                ),
            ));
        }
        let allowed = matches!(
            (p.status, status),
            (Pending | Invited, Invited) | (Active, Deactivated) | (Deactivated, Active)
        );
        if !allowed {
            return Err(CommandError::conflict(
                Some("R11"),
                Some("status"),
                format!(
                    "`{}` is {} and cannot become {}",
                    p.logon,
                    p.status.as_str(),
                    status.as_str()
                ),
            ));
        }
        if status == Invited
            && matches!(p.delegate.as_deref(), Some(DelegateAccess { linked_password: true, .. }))
        {
            return Err(CommandError::conflict(
                Some("R17"),
                Some("status"),
                "a secondary logon with a linked password gets no invitation",
            ));
        }
        if self.actor.principal() == Some(principal) && status == Deactivated {
            return Err(CommandError::forbidden("R28", "you cannot deactivate yourself"));
        }
        let perm = if matches!(status, Invited) && matches!(p.status, Pending) {
            crate::perms::USERS_CREATE
        } else {
            crate::perms::USERS_MODIFY
        };
        if !(perm == crate::perms::USERS_CREATE
            && self.may(crate::perms::USERS_CREATE, Target::Tenant(p.home)))
        {
            self.require_manage(crate::perms::USERS_MODIFY, &p, "R28")?;
        }
        self.log(
            "principal.status_changed",
            Some(principal.to_string()),
            Some(p.home),
            json!({"from": p.status, "to": status, "reason": reason}),
        );
        self.put(Change::Principal(Principal {
            status,
            status_reason: reason.map(Into::into),
            ..p.clone()
        }))?;
        self.touch(p.home);
        Ok(())
    }

    /// A password was set for a pending or invited principal (R11): it becomes active. Only
    /// the service calls this, once the password is durable; the actor is the system.
    pub fn password_set(&mut self, principal: PrincipalId) -> Result<(), CommandError> {
        if self.actor != Actor::System {
            return Err(CommandError::forbidden(
                "R11",
                "a principal becomes active by its password",
            ));
        }
        let p = self.principal(principal)?.clone();
        if !matches!(p.status, Status::Pending | Status::Invited) {
            return Err(CommandError::conflict(
                Some("R11"),
                Some("status"),
                format!("`{}` is {}, not waiting for a password", p.logon, p.status.as_str()),
            ));
        }
        self.log(
            "principal.status_changed",
            Some(principal.to_string()),
            Some(p.home),
            json!({"from": p.status, "to": Status::Active, "reason": "password set"}),
        );
        self.put(Change::Principal(Principal { status: Status::Active, ..p.clone() }))?;
        self.touch(p.home);
        Ok(())
    }

    /// Cancels a principal (R11, R20): terminal; its delegates are cancelled in the same
    /// revision (R36).
    pub fn cancel(&mut self, principal: PrincipalId) -> Result<(), CommandError> {
        let p = self.principal(principal)?.clone();
        if !self.visible_principal(&p) {
            return Err(CommandError::not_found("principal", principal));
        }
        if p.status == Status::Cancelled {
            return Err(CommandError::conflict(
                Some("R11"),
                Some("status"),
                format!("`{}` is already cancelled", p.logon),
            ));
        }
        if self.actor.principal() == Some(principal) {
            return Err(CommandError::forbidden("R28", "you cannot cancel yourself"));
        }
        self.require_manage(crate::perms::USERS_CANCEL, &p, "R28")?;
        self.cancel_cascade(principal, None)
    }

    fn cancel_cascade(
        &mut self,
        principal: PrincipalId,
        cause: Option<PrincipalId>,
    ) -> Result<(), CommandError> {
        let p = self.principal(principal)?.clone();
        if p.status == Status::Cancelled {
            return Ok(());
        }
        self.log(
            "principal.cancelled",
            Some(principal.to_string()),
            Some(p.home),
            json!({"because_owner_cancelled": cause.map(|c| c.to_string())}),
        );
        self.put(Change::Principal(Principal { status: Status::Cancelled, ..p.clone() }))?;
        // R20: its unused access codes die with it.
        let codes: Vec<AccessCode> = self
            .state
            .access_codes()
            .filter(|c| {
                c.created_by == Author::Principal(principal)
                    && c.redeemed_by.is_none()
                    && !c.revoked
            })
            .cloned()
            .collect();
        for code in codes {
            self.put(Change::AccessCode(AccessCode { revoked: true, ..code }))?;
        }
        self.touch(p.home);
        let delegates: Vec<PrincipalId> = self.state.delegates_of(principal).collect();
        for d in delegates {
            self.cancel_cascade(d, Some(principal))?;
        }
        Ok(())
    }

    /// Makes another active user of the tenant its contact person (R4).
    pub fn set_contact_person(
        &mut self,
        tenant: TenantId,
        principal: PrincipalId,
    ) -> Result<(), CommandError> {
        let t = self.tenant(tenant)?.clone();
        self.require(crate::perms::ROLES_ASSIGN, tenant, "R4")?;
        let p = self.principal(principal)?;
        if p.home != tenant || !p.is_active() || !matches!(p.kind, PrincipalKind::User) {
            return Err(CommandError::conflict(
                Some("R4"),
                Some("principal"),
                format!("`{}` is not an active user of `{}`", p.logon, t.key),
            ));
        }
        self.log(
            "tenant.contact_changed",
            Some(principal.to_string()),
            Some(tenant),
            json!({"reason": "set by an admin"}),
        );
        self.put(Change::Tenant(Tenant { contact: Some(principal), ..t }))
    }

    /// Changes profile fields (R18): the principal itself or a manager (R28).
    pub fn update_profile(
        &mut self,
        principal: PrincipalId,
        update: ProfileUpdate,
    ) -> Result<(), CommandError> {
        let p = self.principal(principal)?.clone();
        if !self.visible_principal(&p) {
            return Err(CommandError::not_found("principal", principal));
        }
        let is_self = self.actor.principal() == Some(principal);
        if !is_self {
            self.require_manage(crate::perms::USERS_MODIFY, &p, "R28")?;
        }
        if update.internal_description.is_some() && is_self && self.actor != Actor::System {
            return Err(CommandError::forbidden(
                "R18",
                "the internal description is set by those who manage you",
            ));
        }
        let mut next = p.clone();
        if let Some(v) = update.first_name {
            names::validate_name(&v)
                .map_err(|e| CommandError::invalid("first_name", e.to_string()))?;
            next.first_name = v.into();
        }
        if let Some(v) = update.last_name {
            names::validate_name(&v)
                .map_err(|e| CommandError::invalid("last_name", e.to_string()))?;
            next.last_name = v.into();
        }
        if let Some(v) = update.email {
            if *v != *next.email {
                self.refuse_when_impersonating(p.id, "change the e-mail address")?;
            }
            validate_email(&v)?;
            if *v != *next.email {
                next.email_verified = false;
            }
            next.email = v.into();
        }
        if let Some(v) = update.phone {
            next.phone = Some(v).filter(|s| !s.is_empty()).map(Into::into);
        }
        if let Some(v) = update.description {
            next.description = v.into();
        }
        if let Some(v) = update.internal_description {
            next.internal_description = v.into();
        }
        for (k, v) in update.attributes {
            match v {
                Some(v) => next.attributes.insert(k, v),
                None => next.attributes.remove(&k),
            };
        }
        self.log("principal.updated", Some(principal.to_string()), Some(p.home), json!({}));
        self.put(Change::Principal(next))
    }

    /// Marks a principal's e-mail verified (a mailed link was used, R12).
    pub fn verify_email(&mut self, principal: PrincipalId) -> Result<(), CommandError> {
        let p = self.principal(principal)?.clone();
        self.log("principal.email_verified", Some(principal.to_string()), Some(p.home), json!({}));
        self.put(Change::Principal(Principal { email_verified: true, ..p }))
    }
}

/// Profile fields to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub description: Option<String>,
    pub internal_description: Option<String>,
    /// `None` as a value removes the attribute.
    pub attributes: Vec<(String, Option<AttributeValue>)>,
}

fn dedup<T: Ord>(mut list: Vec<T>) -> Vec<T> {
    list.sort();
    list.dedup();
    list
}
