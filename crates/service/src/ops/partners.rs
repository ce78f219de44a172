//! Partner access (R40–R47, R70): grants proposed, approved, changed and revoked, roles
//! given to a partner's users for a client, and the upkeep of expiring grants.

use super::{Asker, names, run};
use crate::Committed;
use crate::auth::{Auth, AuthError};
use deputy_core::commands::partners::{GrantTerms, PartnerRoleOutcome};
use deputy_core::{GrantId, Scope, State};
use deputy_store::Store;
use deputy_store::secrets::SecretStore;

/// A grant's terms, by the names a caller types (R40, R70).
#[derive(Debug, Clone, Default)]
pub struct TermsSpec {
    /// The roles the partner may give in the client (its ceiling, R41).
    pub ceiling: Vec<String>,
    /// Resource kinds it reaches; none: all (R38).
    pub kinds: Option<Vec<String>>,
    /// Also the client's descendants (R42).
    pub subtree: bool,
    pub expires_at: Option<i64>,
    pub auto_extend: bool,
}

impl TermsSpec {
    pub(crate) fn resolve(&self, s: &State) -> Result<GrantTerms, deputy_core::CommandError> {
        Ok(GrantTerms {
            ceiling: names::roles(s, &self.ceiling, "ceiling")?,
            kinds: names::kinds(s, self.kinds.as_deref(), "kinds")?,
            subtree: self.subtree,
            expires_at: self.expires_at,
            auto_extend: self.auto_extend,
        })
    }
}

/// Proposes a grant of `client` to `partner` (active at once when the client proposes it).
pub fn propose<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    client: &str,
    partner: &str,
    terms: &TermsSpec,
) -> Result<Committed<GrantId>, AuthError> {
    run(ctx, by, |tx| {
        let s = tx.state();
        let (c, p) = (names::tenant(s, client, "id")?, names::tenant(s, partner, "partner")?);
        let terms = terms.resolve(s)?;
        tx.propose_grant(c, p, terms)
    })
}

/// Approves a proposed grant (R40): it becomes active.
pub fn approve<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    grant: &str,
) -> Result<Committed<()>, AuthError> {
    let g = names::grant(grant, "id").map_err(crate::ServiceError::from)?;
    run(ctx, by, |tx| tx.approve_grant(g))
}

/// Revokes a grant (R45): the partner's access through it ends at once.
pub fn revoke<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    grant: &str,
) -> Result<Committed<()>, AuthError> {
    let g = names::grant(grant, "id").map_err(crate::ServiceError::from)?;
    run(ctx, by, |tx| tx.revoke_grant(g))
}

/// Changes a grant's terms (R40, R70).
pub fn change<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    grant: &str,
    terms: &TermsSpec,
) -> Result<Committed<()>, AuthError> {
    let g = names::grant(grant, "id").map_err(crate::ServiceError::from)?;
    run(ctx, by, |tx| {
        let terms = terms.resolve(tx.state())?;
        tx.change_grant(g, terms)
    })
}

/// For which clients a partner role holds, by name.
#[derive(Debug, Clone)]
pub enum For {
    /// One client tenant, by key or id.
    Client(String),
    /// Every client in one of the partner's security groups, by id.
    Group(String),
}

/// Gives a partner's user a role for a client or a group of clients (R41). R44: accounts
/// in the client it replaces are deactivated, and so lose their sessions and links as
/// every deactivation does.
pub fn give_role<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    user: &str,
    role: &str,
    target: For,
    expires_at: Option<i64>,
) -> Result<Committed<PartnerRoleOutcome>, AuthError> {
    let committed = run(ctx, by, |tx| {
        let s = tx.state();
        let (u, r) = (names::principal(s, user, "id")?, names::role(s, role, "role")?);
        let scope = match &target {
            For::Client(c) => Scope::Client { client: names::tenant(s, c, "client")? },
            For::Group(g) => Scope::Group { group: names::group(s, g, "group")? },
        };
        tx.give_partner_role(u, scope, r, expires_at)
    })?;
    for replaced in &committed.output.replaced {
        ctx.end_secrets_after_status_change(*replaced)?;
    }
    tell_of_replacements(ctx, &committed.output)?;
    Ok(committed)
}

/// R44: the client's admins are told which of its accounts partner access replaced.
fn tell_of_replacements<S: Store + SecretStore>(
    ctx: &Auth<S>,
    outcome: &PartnerRoleOutcome,
) -> Result<(), AuthError> {
    let s = ctx.deputy().snapshot();
    let Some(first) = outcome.replaced.first().and_then(|p| s.principal(*p)) else {
        return Ok(());
    };
    let client = first.home;
    let names: Vec<String> = outcome
        .replaced
        .iter()
        .filter_map(|p| s.principal(*p))
        .map(|p| format!("{} ({})", p.display_name(), p.logon))
        .collect();
    let tenant = s.tenant(client).map_or_else(|| client.to_string(), |t| t.name.clone());
    let body = format!(
        "These accounts of {tenant} were deactivated, replaced by partner access: the same people now reach {tenant} through their partner's accounts.\n{}\n",
        names.join("\n")
    );
    for admin in crate::auth::grant_notices::tenant_admins(&s, client) {
        if !outcome.replaced.contains(&admin) {
            ctx.notify(admin, "Accounts replaced by partner access", &body)?;
        }
    }
    Ok(())
}

/// Extends grants due for auto-extension and notices the admins of those about to expire
/// (R70), by mail. Returns how many mails it queued (one per admin told).
pub fn upkeep<S: Store + SecretStore>(ctx: &Auth<S>, window_ms: i64) -> Result<usize, AuthError> {
    ctx.grant_upkeep(window_ms)
}
