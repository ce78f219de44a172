//! Partner roles (R41, R44): given to a partner's users for a client or a group of
//! clients, within the grant's ceiling; on first access, the person's direct accounts in
//! the client are replaced.

use super::*;

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
