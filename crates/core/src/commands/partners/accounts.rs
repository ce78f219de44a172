//! Accounts a partner creates through its grants (R46): a sub-account or a parent account
//! of a client, and a new customer; each starts with a grant to the partner and the
//! creator's partner roles in it.

use super::*;

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
