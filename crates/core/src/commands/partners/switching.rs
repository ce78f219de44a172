//! Switching a session into a client, or back home (R43).

use super::*;

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
