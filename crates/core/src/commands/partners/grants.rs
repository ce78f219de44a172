//! Partner grants (R40, R41): proposed by either side, approved, narrowed or extended by
//! the client's side within R27's exception for ceilings, revoked by either side.

use super::*;

/// A grant's terms.
#[derive(Debug, Clone, Default)]
pub struct GrantTerms {
    pub ceiling: Vec<RoleId>,
    pub kinds: Option<Vec<KindId>>,
    pub subtree: bool,
    pub expires_at: Option<Millis>,
    pub auto_extend: bool,
}

impl Tx {
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
