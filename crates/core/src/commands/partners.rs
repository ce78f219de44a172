//! Partner grants and partner roles (R40–R45, R47): proposals, approval, narrowing,
//! revocation, roles given within the ceiling, and replacement of direct accounts.

use crate::check::Target;
use crate::commands::roles::effective_in;
use crate::ids::*;
use crate::model::*;
use crate::state::Change;
use crate::tx::{Actor, CommandError, Tx, active_admins};
use serde::Serialize;
use serde_json::json;

/// A grant's terms.
#[derive(Debug, Clone, Default)]
pub struct GrantTerms {
    pub ceiling: Vec<RoleId>,
    pub kinds: Option<Vec<KindId>>,
    pub subtree: bool,
    pub expires_at: Option<Millis>,
    pub auto_extend: bool,
}

/// What giving a partner role did beyond the role itself (R44).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PartnerRoleOutcome {
    pub assignment: Option<AssignmentId>,
    /// Accounts in the client deactivated as "replaced by partner access".
    pub replaced: Vec<PrincipalId>,
    /// Accounts kept because deactivating them would leave the client without an admin.
    pub kept_for_r5: Vec<PrincipalId>,
    /// The person's own direct assignments in the client that ended.
    pub ended_assignments: Vec<AssignmentId>,
}

impl Tx {
    /// `partners.manage` held directly in the client: permissions held only through a grant
    /// never propose, approve or change that client's grants (R43).
    fn client_side(&self, client: TenantId) -> bool {
        self.may_directly(crate::perms::PARTNERS_MANAGE, client)
    }

    fn partner_side(&self, partner: TenantId) -> bool {
        self.may_directly(crate::perms::PARTNERS_MANAGE, partner)
    }

    /// R27's exception for ceilings: the client's actor may put in a ceiling only roles
    /// whose effective permissions it holds in every covered tenant, at a rank not above its
    /// own.
    fn check_ceiling(&self, client: TenantId, terms: &GrantTerms) -> Result<(), CommandError> {
        if terms.ceiling.is_empty() {
            return Err(CommandError::invalid("ceiling", "a grant needs at least one role"));
        }
        for r in &terms.ceiling {
            self.validate_bundle(Bundle::Role(*r))?;
        }
        if let Some(kinds) = &terms.kinds
            && let Some(k) = kinds.iter().find(|k| k.index() >= self.state.catalog.kinds.len())
        {
            return Err(CommandError::not_found("kind", k));
        }
        if terms.expires_at.is_some_and(|t| t <= self.now) {
            return Err(CommandError::invalid("expires_at", "must be in the future"));
        }
        if self.actor == Actor::System {
            return Ok(());
        }
        let covered = if terms.subtree { self.state.subtree(client) } else { vec![client] };
        let my_rank = self.actor_rank(client);
        for r in &terms.ceiling {
            let role = self.state.catalog.role(*r);
            if role.rank > my_rank.value {
                return Err(CommandError::forbidden(
                    "R27",
                    format!("ceiling role `{}` ranks above you in the client", role.name),
                ));
            }
            for t in &covered {
                for p in effective_in(&self.state, role.permissions, *t).iter() {
                    if !self.may(self.state.catalog.perm_name(p), Target::Tenant(*t)) {
                        return Err(CommandError::forbidden(
                            "R27",
                            format!(
                                "ceiling role `{}` confers `{}`, which you lack in `{}`",
                                role.name,
                                self.state.catalog.perm_name(p),
                                self.tenant(*t)?.key
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Proposes a grant from `client` to `partner` (R40). Proposed by the client's side it
    /// is active at once (the proposer approves it); by the partner's side it waits.
    pub fn propose_grant(
        &mut self,
        client: TenantId,
        partner: TenantId,
        terms: GrantTerms,
    ) -> Result<GrantId, CommandError> {
        self.tenant(client)?;
        let p = self.tenant(partner)?.clone();
        if client == partner {
            return Err(CommandError::invalid("partner", "a tenant cannot grant itself"));
        }
        if !p.partner {
            return Err(CommandError::conflict(
                Some("R40"),
                Some("partner"),
                format!("tenant `{}` is not flagged partner", p.key),
            ));
        }
        let by_client = self.client_side(client);
        if !by_client && !self.partner_side(partner) {
            // R58: a client the actor cannot see does not exist for it, even when it can
            // see the partner (its own tenant, say).
            if !self.can_see(client) {
                return Err(CommandError::not_found("tenant", client));
            }
            return Err(CommandError::forbidden(
                "R40",
                "you need `partners.manage` in the client or the partner (held directly)",
            ));
        }
        if self
            .state
            .grants_from(client)
            .any(|g| g.partner == partner && g.status != GrantStatus::Revoked)
        {
            return Err(CommandError::conflict(
                Some("R40"),
                None,
                "a grant between these tenants exists already: change it instead",
            ));
        }
        if by_client {
            self.check_ceiling(client, &terms)?;
        } else {
            // The partner's side proposes; the client's approver checks the ceiling.
            let mut system_terms = terms.clone();
            system_terms.ceiling.retain(|r| r.index() < self.state.catalog.roles.len());
            if system_terms.ceiling.len() != terms.ceiling.len() || terms.ceiling.is_empty() {
                return Err(CommandError::invalid("ceiling", "unknown role or empty ceiling"));
            }
        }
        let id = GrantId(self.state.n_grants() as u32);
        let author = self.actor.author();
        let grant = Grant {
            id,
            client,
            partner,
            ceiling: terms.ceiling,
            kinds: terms.kinds,
            subtree: terms.subtree,
            expires_at: terms.expires_at,
            auto_extend: terms.auto_extend,
            status: if by_client { GrantStatus::Active } else { GrantStatus::Proposed },
            bound_to: None,
            proposed_by: author.clone(),
            approved_by: by_client.then_some(author),
            created_at: self.now,
            approved_at: by_client.then_some(self.now),
            expiry_noticed: None,
            revoked_at: None,
        };
        self.log(
            "grant.proposed",
            Some(id.to_string()),
            Some(client),
            json!({"partner": partner.to_string(), "status": grant.status}),
        );
        self.put(Change::Grant(grant))?;
        Ok(id)
    }

    /// Approves a proposed grant (R40): `partners.manage` in the client.
    pub fn approve_grant(&mut self, grant: GrantId) -> Result<(), CommandError> {
        let g = self.grant(grant)?.clone();
        if !self.client_side(g.client) {
            return Err(self.grant_refusal(
                &g,
                "approving a grant needs `partners.manage` in the client (R40, R43)",
            ));
        }
        if g.status != GrantStatus::Proposed {
            return Err(CommandError::conflict(
                Some("R40"),
                Some("grant"),
                "only a proposed grant can be approved",
            ));
        }
        self.check_ceiling(g.client, &terms_of(&g))?;
        self.log("grant.approved", Some(grant.to_string()), Some(g.client), json!({}));
        self.put(Change::Grant(Grant {
            status: GrantStatus::Active,
            approved_by: Some(self.actor.author()),
            approved_at: Some(self.now),
            ..g
        }))
    }

    fn grant_refusal(&self, g: &Grant, message: &str) -> CommandError {
        if self.can_see(g.client) || self.can_see(g.partner) {
            CommandError::forbidden("R40", message)
        } else {
            CommandError::not_found("grant", g.id)
        }
    }

    /// Narrows or extends a grant (R40, R41): the client's side. Roles given to partner
    /// users that fall outside a narrowed ceiling become inert, and revive if it widens.
    pub fn change_grant(&mut self, grant: GrantId, terms: GrantTerms) -> Result<(), CommandError> {
        let g = self.grant(grant)?.clone();
        if !self.client_side(g.client) {
            return Err(self.grant_refusal(
                &g,
                "changing a grant needs `partners.manage` in the client (R40, R43)",
            ));
        }
        if g.status == GrantStatus::Revoked {
            return Err(CommandError::conflict(Some("R40"), Some("grant"), "the grant is revoked"));
        }
        if g.bound_to.is_some() {
            return Err(CommandError::conflict(
                Some("R46"),
                Some("grant"),
                "this grant follows the grant it is bound to: change that one",
            ));
        }
        self.check_ceiling(g.client, &terms)?;
        self.log("grant.changed", Some(grant.to_string()), Some(g.client), json!({"ceiling": terms.ceiling, "subtree": terms.subtree, "expires_at": terms.expires_at}));
        self.put(Change::Grant(Grant {
            ceiling: terms.ceiling,
            kinds: terms.kinds,
            subtree: terms.subtree,
            expires_at: terms.expires_at,
            auto_extend: terms.auto_extend,
            ..g
        }))
    }

    /// Revokes a grant (R40): either side; effective for every user of the partner in the
    /// same revision. Roles given for that client end with it.
    pub fn revoke_grant(&mut self, grant: GrantId) -> Result<(), CommandError> {
        let g = self.grant(grant)?.clone();
        if !self.client_side(g.client) && !self.partner_side(g.partner) {
            return Err(self.grant_refusal(
                &g,
                "revoking a grant needs `partners.manage` in the client or the partner",
            ));
        }
        if g.status == GrantStatus::Revoked {
            return Err(CommandError::conflict(
                Some("R40"),
                Some("grant"),
                "the grant is revoked already",
            ));
        }
        self.log(
            "grant.revoked",
            Some(grant.to_string()),
            Some(g.client),
            json!({"partner": g.partner.to_string()}),
        );
        self.put(Change::Grant(Grant {
            status: GrantStatus::Revoked,
            revoked_at: Some(self.now),
            ..g.clone()
        }))?;
        let holders: Vec<PrincipalId> = self.state.client_holders(g.client).collect();
        for h in holders {
            let p = self.principal(h)?.clone();
            if p.home != g.partner {
                continue;
            }
            let kept: Vec<Assignment> = p
                .assignments
                .iter()
                .filter(|a| a.scope != Scope::Client { client: g.client })
                .cloned()
                .collect();
            self.put(Change::Principal(Principal { assignments: kept.into(), ..p }))?;
        }
        Ok(())
    }

    /// R41: the actor gives partner roles with `partners.manage` in the user's (partner)
    /// tenant, never above its own rank there.
    pub(crate) fn check_partner_giver(
        &self,
        user: &Principal,
        bundle: Bundle,
        _scope: Scope,
    ) -> Result<(), CommandError> {
        if self.actor == Actor::System {
            return Ok(());
        }
        if !self.partner_side(user.home) {
            if !self.can_see(user.home) {
                return Err(CommandError::not_found("principal", user.id));
            }
            return Err(CommandError::forbidden(
                "R41",
                format!("you need `partners.manage` in `{}`", self.tenant(user.home)?.key),
            ));
        }
        let rank = crate::check::bundle_rank(&self.state, bundle);
        let mine = self.actor_rank(user.home);
        if rank > mine.value {
            return Err(CommandError::forbidden(
                "R41",
                format!(
                    "`{}` ranks above you in `{}`",
                    self.bundle_name(bundle),
                    self.tenant(user.home)?.key
                ),
            ));
        }
        Ok(())
    }

    /// Gives a partner user a role for a client, or for every client of one of the
    /// partner's groups (R41), applying R44 on first access.
    pub fn give_partner_role(
        &mut self,
        user: PrincipalId,
        scope: Scope,
        role: RoleId,
        expires_at: Option<Millis>,
    ) -> Result<PartnerRoleOutcome, CommandError> {
        let u = self.principal(user)?.clone();
        if !matches!(u.kind, PrincipalKind::User) {
            return Err(CommandError::invalid(
                "principal",
                "partner roles are given to users (a secondary logon reaches clients through its owner)",
            ));
        }
        self.validate_bundle(Bundle::Role(role))?;
        self.check_partner_giver(&u, Bundle::Role(role), scope)?;
        let clients: Vec<TenantId> = match scope {
            Scope::Client { client } => vec![client],
            Scope::Group { group } => {
                let g = self.group(group)?;
                if g.owner != GroupOwner::Tenant(u.home) {
                    return Err(CommandError::invalid(
                        "group",
                        "the group must belong to the user's tenant",
                    ));
                }
                self.state
                    .grants_to(u.home)
                    .filter(|gr| {
                        gr.status == GrantStatus::Active
                            && self.state.group_of(g.owner, gr.client) == Some(group)
                    })
                    .map(|gr| gr.client)
                    .collect()
            }
            _ => {
                return Err(CommandError::invalid(
                    "scope",
                    "a partner role is given for a client or a group",
                ));
            }
        };
        for c in &clients {
            let Some(g) = self
                .state
                .grants_from(*c)
                .find(|g| g.partner == u.home && self.state.effective_grant(g, self.now).is_some())
            else {
                return Err(CommandError::conflict(
                    Some("R41"),
                    Some("client"),
                    format!(
                        "`{}` has no active grant to `{}`",
                        self.tenant(*c)?.key,
                        self.tenant(u.home)?.key
                    ),
                ));
            };
            let ceiling = self
                .state
                .effective_grant(g, self.now)
                .map(|(c, _)| c.to_vec())
                .unwrap_or_default();
            if !self.state.within_ceiling(role, &ceiling) {
                return Err(CommandError::conflict(
                    Some("R41"),
                    Some("role"),
                    format!(
                        "`{}` is not within the ceiling of `{}`'s grant",
                        self.state.catalog.role_name(role),
                        self.tenant(*c)?.key
                    ),
                ));
            }
        }
        if u.assignments.iter().any(|a| a.bundle == Bundle::Role(role) && a.scope == scope) {
            return Err(CommandError::conflict(
                None,
                Some("role"),
                "the user holds that role for it already",
            ));
        }
        let first_access: Vec<TenantId> =
            clients.iter().copied().filter(|c| !self.has_partner_access(&u, *c)).collect();
        let mut outcome = PartnerRoleOutcome {
            assignment: Some(self.push_assignment(
                &u,
                Bundle::Role(role),
                scope,
                expires_at,
                self.actor.author(),
            )?),
            ..Default::default()
        };
        for c in first_access {
            self.replace_direct_accounts(user, c, &mut outcome)?;
        }
        Ok(outcome)
    }

    fn has_partner_access(&self, u: &Principal, client: TenantId) -> bool {
        u.assignments.iter().any(|a| match a.scope {
            Scope::Client { client: c } => c == client,
            Scope::Group { group } => {
                self.state.group_of(GroupOwner::Tenant(u.home), client) == Some(group)
            }
            _ => false,
        })
    }

    /// R44: the person's direct accounts in the client are deactivated (unless that breaks
    /// R5) and its own direct assignments there end. Only with a verified e-mail.
    fn replace_direct_accounts(
        &mut self,
        user: PrincipalId,
        client: TenantId,
        outcome: &mut PartnerRoleOutcome,
    ) -> Result<(), CommandError> {
        let u = self.principal(user)?.clone();
        if !u.email_verified {
            return Ok(());
        }
        let email = u.email.to_lowercase();
        let twins: Vec<PrincipalId> = self
            .state
            .members(client)
            .filter(|p| {
                p.email_verified
                    && p.email.to_lowercase() == email
                    && matches!(p.status, Status::Active | Status::Invited | Status::Pending)
            })
            .map(|p| p.id)
            .collect();
        for twin in twins {
            let p = self.principal(twin)?.clone();
            let would_break = active_admins(&self.state, client).all(|a| a.id == twin)
                && active_admins(&self.state, client).any(|a| a.id == twin);
            if would_break {
                outcome.kept_for_r5.push(twin);
                continue;
            }
            self.log(
                "principal.replaced_by_partner_access",
                Some(twin.to_string()),
                Some(client),
                json!({"partner_user": user.to_string()}),
            );
            self.put(Change::Principal(Principal {
                status: Status::Deactivated,
                status_reason: Some("replaced by partner access".into()),
                ..p
            }))?;
            self.touch(client);
            outcome.replaced.push(twin);
        }
        let ending: Vec<AssignmentId> = u
            .assignments
            .iter()
            .filter(|a| match a.scope {
                Scope::Tenant { tenant, .. } => tenant == client,
                Scope::Resource { resource } => {
                    self.state.resource(resource).is_some_and(|r| r.tenant == client)
                }
                _ => false,
            })
            .map(|a| a.id)
            .collect();
        if !ending.is_empty() {
            let kept: Vec<Assignment> =
                u.assignments.iter().filter(|a| !ending.contains(&a.id)).cloned().collect();
            self.put(Change::Principal(Principal { assignments: kept.into(), ..u }))?;
            outcome.ended_assignments = ending;
        }
        self.log("client.admins_notified", None, Some(client), json!({"partner_user": user.to_string(), "replaced": outcome.replaced.iter().map(|p| p.to_string()).collect::<Vec<_>>()}));
        Ok(())
    }
}

fn terms_of(g: &Grant) -> GrantTerms {
    GrantTerms {
        ceiling: g.ceiling.clone(),
        kinds: g.kinds.clone(),
        subtree: g.subtree,
        expires_at: None,
        auto_extend: g.auto_extend,
    }
}

impl Tx {
    /// The grant through which the (switched) actor acts in `client`, with its partner.
    fn acting_grant(&self, client: TenantId) -> Result<(Grant, PrincipalId), CommandError> {
        let Actor::Principal { id, ctx } = self.actor else {
            return Err(CommandError::invalid(
                "actor",
                "only a partner's user acts through a grant",
            ));
        };
        let home = self.principal(id)?.home;
        let ok = ctx.switched.is_some_and(|c| self.state.is_ancestor_or_self(c, client));
        let grant = self
            .state
            .grants_from(client)
            .find(|g| g.partner == home && self.state.effective_grant(g, self.now).is_some())
            .cloned();
        match grant {
            Some(g) if ok => Ok((g, id)),
            _ => Err(CommandError::forbidden(
                "R46",
                "switch into the client first: it needs an active grant to your tenant",
            )),
        }
    }

    /// Gives the creator, for `new`, the partner roles it was given for `client` (R46).
    fn copy_partner_roles(
        &mut self,
        creator: PrincipalId,
        client: TenantId,
        new: TenantId,
    ) -> Result<(), CommandError> {
        let p = self.principal(creator)?.clone();
        let roles: Vec<(Bundle, Option<Millis>)> = p
            .assignments
            .iter()
            .filter(|a| a.scope == Scope::Client { client } && a.live(self.now))
            .map(|a| (a.bundle, a.expires_at))
            .collect();
        for (bundle, expires_at) in roles {
            let current = self.principal(creator)?.clone();
            self.push_assignment(
                &current,
                bundle,
                Scope::Client { client: new },
                expires_at,
                Author::System,
            )?;
        }
        Ok(())
    }

    /// Records a grant that R46 makes active at once (audited by the caller).
    fn system_grant(
        &mut self,
        client: TenantId,
        partner: TenantId,
        ceiling: Vec<RoleId>,
        kinds: Option<Vec<KindId>>,
        subtree: bool,
        bound_to: Option<GrantId>,
    ) -> Result<GrantId, CommandError> {
        let id = GrantId(self.state.n_grants() as u32);
        self.put(Change::Grant(Grant {
            id,
            client,
            partner,
            ceiling,
            kinds,
            subtree,
            expires_at: None,
            auto_extend: false,
            status: GrantStatus::Active,
            bound_to,
            proposed_by: self.actor.author(),
            approved_by: Some(Author::System),
            created_at: self.now,
            approved_at: Some(self.now),
            expiry_noticed: None,
            revoked_at: None,
        }))?;
        Ok(id)
    }

    fn bound_grant(&mut self, client: TenantId, from: &Grant) -> Result<GrantId, CommandError> {
        self.system_grant(
            client,
            from.partner,
            from.ceiling.clone(),
            from.kinds.clone(),
            false,
            Some(from.id),
        )
    }

    /// R46: a sub-account of client `client`, created through the grant; it starts with a
    /// grant bound to the one from `client`, and the creator keeps its roles there.
    pub fn create_sub_account(
        &mut self,
        client: TenantId,
        new: crate::commands::tenants::NewTenant,
    ) -> Result<TenantId, CommandError> {
        self.require(crate::perms::TENANTS_MANAGE, client, "R46")?;
        let (grant, creator) = self.acting_grant(client)?;
        let entitlements =
            self.state.catalog.default_entitlements.intersect(self.tenant(client)?.entitlements);
        let id = self.insert_tenant(Some(client), new, entitlements)?;
        let g = self.bound_grant(id, &grant)?;
        self.copy_partner_roles(creator, grant.client, id)?;
        self.log(
            "tenant.created_by_partner",
            Some(id.to_string()),
            Some(id),
            json!({"kind": "sub-account", "of": client.to_string(), "grant": g.to_string()}),
        );
        Ok(id)
    }

    /// R46: a parent account of client `client`: a new tenant under the client's former
    /// parent with the client moved beneath it; its entitlements are that parent's.
    pub fn create_parent_account(
        &mut self,
        client: TenantId,
        new: crate::commands::tenants::NewTenant,
    ) -> Result<TenantId, CommandError> {
        self.require(crate::perms::TENANTS_MANAGE, client, "R46")?;
        let (grant, creator) = self.acting_grant(client)?;
        let c = self.tenant(client)?.clone();
        let Some(former_parent) = c.parent else {
            return Err(CommandError::conflict(
                Some("R46"),
                Some("client"),
                "the root has no parent account",
            ));
        };
        let entitlements = self.tenant(former_parent)?.entitlements;
        let id = self.insert_tenant(Some(former_parent), new, entitlements)?;
        self.put(Change::Tenant(Tenant { parent: Some(id), ..c }))?;
        let g = self.bound_grant(id, &grant)?;
        self.copy_partner_roles(creator, grant.client, id)?;
        self.touch(client);
        self.log(
            "tenant.created_by_partner",
            Some(id.to_string()),
            Some(id),
            json!({"kind": "parent-account", "of": client.to_string(), "grant": g.to_string()}),
        );
        Ok(id)
    }

    /// R46: "New account for a new customer": a tenant under the root with an active
    /// `admin`-ceiling grant to partner `partner`; the creator gets its own roles in the
    /// partner that are within that ceiling, for the new customer.
    pub fn create_customer(
        &mut self,
        partner: TenantId,
        new: crate::commands::tenants::NewTenant,
    ) -> Result<TenantId, CommandError> {
        let p = self.tenant(partner)?.clone();
        if !p.partner {
            return Err(CommandError::conflict(
                Some("R46"),
                Some("partner"),
                format!("tenant `{}` is not flagged partner", p.key),
            ));
        }
        if !self.may_directly(crate::perms::TENANTS_MANAGE, partner) {
            return Err(CommandError::forbidden(
                "R46",
                format!("you need `tenants.manage` in `{}`", p.key),
            ));
        }
        let root = self.state.root().ok_or_else(|| CommandError::not_found("tenant", "root"))?;
        let entitlements =
            self.state.catalog.default_entitlements.intersect(self.tenant(root)?.entitlements);
        let id = self.insert_tenant(Some(root), new, entitlements)?;
        let admin = self.state.catalog.admin_role;
        let gid = self.system_grant(id, partner, vec![admin], None, true, None)?;
        if let Actor::Principal { id: creator, .. } = self.actor {
            let me = self.principal(creator)?.clone();
            let mine: Vec<RoleId> = me
                .assignments
                .iter()
                .filter(|a| a.live(self.now) && matches!(a.scope, Scope::Tenant { tenant, .. } if self.state.is_ancestor_or_self(tenant, partner)))
                .filter_map(|a| match a.bundle {
                    Bundle::Role(r) if !self.state.catalog.role(r).customer_manager && self.state.within_ceiling(r, &[admin]) => Some(r),
                    _ => None,
                })
                .collect();
            for r in mine {
                let current = self.principal(creator)?.clone();
                self.push_assignment(
                    &current,
                    Bundle::Role(r),
                    Scope::Client { client: id },
                    None,
                    Author::System,
                )?;
            }
        }
        self.log("tenant.created_by_partner", Some(id.to_string()), Some(id), json!({"kind": "new-customer", "partner": partner.to_string(), "grant": gid.to_string()}));
        Ok(id)
    }
}

/// What grant upkeep did to one grant (R70).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum GrantUpkeep {
    /// An auto-extending grant got a new expiry.
    Extended { grant: GrantId, client: TenantId, partner: TenantId, expires_at: Millis },
    /// Both tenants' admins are to be told that the grant expires soon.
    ExpiryNotice { grant: GrantId, client: TenantId, partner: TenantId, expires_at: Millis },
}

impl Tx {
    /// R70: extends auto-extending grants that expire within `window_ms` by their term, and
    /// records a notice (once per expiry) for the others. Run periodically by the server.
    pub fn grant_upkeep(&mut self, window_ms: Millis) -> Result<Vec<GrantUpkeep>, CommandError> {
        if self.actor != Actor::System {
            return Err(CommandError::forbidden(
                "R70",
                "grant upkeep is run by the deployment itself",
            ));
        }
        let due: Vec<Grant> = self
            .state
            .grants()
            .filter(|g| g.status == GrantStatus::Active && g.bound_to.is_none())
            .filter(|g| g.expires_at.is_some_and(|t| t > self.now && t - self.now <= window_ms))
            .cloned()
            .collect();
        let mut done = Vec::new();
        for g in due {
            let Some(expires_at) = g.expires_at else { continue };
            if g.auto_extend {
                const DAY: Millis = 24 * 60 * 60 * 1000;
                let term = (expires_at - g.approved_at.unwrap_or(g.created_at)).max(DAY);
                let next = expires_at + term;
                self.log(
                    "grant.extended",
                    Some(g.id.to_string()),
                    Some(g.client),
                    json!({"partner": g.partner.to_string(), "from": expires_at, "to": next}),
                );
                done.push(GrantUpkeep::Extended {
                    grant: g.id,
                    client: g.client,
                    partner: g.partner,
                    expires_at: next,
                });
                self.put(Change::Grant(Grant {
                    expires_at: Some(next),
                    expiry_noticed: None,
                    revoked_at: None,
                    ..g
                }))?;
            } else if g.expiry_noticed != Some(expires_at) {
                self.log(
                    "grant.expiry_notice",
                    Some(g.id.to_string()),
                    Some(g.client),
                    json!({"partner": g.partner.to_string(), "expires_at": expires_at}),
                );
                done.push(GrantUpkeep::ExpiryNotice {
                    grant: g.id,
                    client: g.client,
                    partner: g.partner,
                    expires_at,
                });
                self.put(Change::Grant(Grant { expiry_noticed: Some(expires_at), ..g }))?;
            }
        }
        Ok(done)
    }
}

impl Tx {
    /// Switches the actor's session into client `client`, or home when `client` is its home
    /// tenant (R43). Needs an active grant from the client (or from an ancestor, with
    /// subtree) to the actor's tenant and some role there through it. Audited; returns the
    /// session context to use from now on.
    pub fn switch_tenant(
        &mut self,
        client: TenantId,
    ) -> Result<crate::check::Context, CommandError> {
        let Actor::Principal { id, ctx } = self.actor else {
            return Err(CommandError::invalid("actor", "a principal switches tenants"));
        };
        let p = self.principal(id)?.clone();
        self.tenant(client)?;
        // R58: a tenant the session could never switch into is not found, before any
        // other refusal tells that it exists.
        if client != p.home && !self.state.may_switch_into(id, client, self.now) {
            return Err(CommandError::not_found("tenant", client));
        }
        if ctx.impersonation.is_some() {
            return Err(CommandError::forbidden(
                "R48",
                "stop impersonating before switching tenants",
            ));
        }
        if client == p.home {
            self.log("session.switched_home", Some(id.to_string()), Some(p.home), json!({}));
            return Ok(crate::check::Context::HOME);
        }
        let switched = crate::check::Context::switched(client);
        self.log(
            "session.switched",
            Some(id.to_string()),
            Some(client),
            json!({"home": p.home.to_string()}),
        );
        Ok(switched)
    }
}
