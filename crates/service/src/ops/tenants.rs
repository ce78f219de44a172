//! Tenants (R1–R9, R19, R34, R46): created, changed, suspended, flagged as partners.

use super::{Asker, names, run};
use crate::Committed;
use crate::auth::{Auth, AuthError};
use deputy_core::commands::tenants::NewTenant;
use deputy_core::{CommandError, TenantId, Tx, perms};
use deputy_store::Store;
use deputy_store::secrets::SecretStore;

/// Creates a sub-tenant of `parent` (R1: `tenants.manage` there).
pub fn create<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    parent: &str,
    new: NewTenant,
) -> Result<Committed<TenantId>, AuthError> {
    run(ctx, by, |tx| {
        let parent = names::tenant(tx.state(), parent, "id")?;
        tx.create_tenant(parent, new.clone())
    })
}

/// Which partner wizard (R46).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wizard {
    /// "New account for a new customer": a tenant under the root that starts with an
    /// active `admin` grant to the partner `tenant`.
    Customer,
    /// A sub-account of the client `tenant`, by its partner through the grant.
    SubAccount,
    /// A parent account above the client `tenant`, by its partner through the grant.
    ParentAccount,
}

/// Runs a partner wizard (R46) from `tenant`. R58: a tenant the asker cannot see answers
/// exactly as a missing one, before any rule may refuse or conflict about it.
pub fn create_account<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    tenant: &str,
    which: Wizard,
    new: NewTenant,
) -> Result<Committed<TenantId>, AuthError> {
    run(ctx, by, |tx| {
        let t = names::tenant(tx.state(), tenant, "id")
            .ok()
            .filter(|t| sees_tenant(tx, *t))
            .ok_or_else(|| CommandError::unknown("id", format!("no tenant with key `{tenant}`")))?;
        match which {
            Wizard::Customer => tx.create_customer(t, new.clone()),
            Wizard::SubAccount => tx.create_sub_account(t, new.clone()),
            Wizard::ParentAccount => tx.create_parent_account(t, new.clone()),
        }
    })
}

/// Whether the asker may see `tenant` at all (R58): it reads checks there, or the rules
/// let it see the tenant.
pub fn sees_tenant(tx: &Tx, tenant: TenantId) -> bool {
    tx.may(perms::CHECKS_READ, deputy_core::Target::Tenant(tenant)) || tx.can_see(tenant)
}

/// Sets a tenant's own entitlements (R3: `entitlements.manage` over it).
pub fn set_entitlements<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    tenant: &str,
    permissions: &[String],
) -> Result<Committed<()>, AuthError> {
    run(ctx, by, |tx| {
        let t = names::tenant(tx.state(), tenant, "id")?;
        tx.set_entitlements(t, permissions)
    })
}

/// Suspends a tenant or lifts its suspension (R8).
pub fn set_suspended<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    tenant: &str,
    suspended: bool,
) -> Result<Committed<()>, AuthError> {
    run(ctx, by, |tx| {
        let t = names::tenant(tx.state(), tenant, "id")?;
        tx.set_suspended(t, suspended)
    })
}

/// Flags a tenant as a partner, or not.
pub fn set_partner<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    tenant: &str,
    partner: bool,
) -> Result<Committed<()>, AuthError> {
    run(ctx, by, |tx| {
        let t = names::tenant(tx.state(), tenant, "id")?;
        tx.set_partner(t, partner)
    })
}

/// What a change of a tenant changes; what is `None` stays as it is.
#[derive(Debug, Clone, Default)]
pub struct TenantChange {
    pub name: Option<String>,
    /// Visible to the tenant's users (R9).
    pub description: Option<String>,
    /// Visible only to holders of `tenants.manage` over it (R9).
    pub internal_description: Option<String>,
    /// A new parent (R1), by key or id.
    pub parent: Option<String>,
    /// The role new principals get (R19).
    pub default_role: Option<String>,
    /// Users may create secondary logons (R34).
    pub delegates_allowed: Option<bool>,
    /// Secondary logons may create their own (R34).
    pub nested_delegates_allowed: Option<bool>,
    /// An active user of the tenant to be its contact person (R4), by logon or id.
    pub contact: Option<String>,
}

/// Changes a tenant: names and descriptions (R9), parent (R1), default role (R19),
/// delegation (R34), contact person (R4), all in one revision, or nothing.
pub fn change<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    tenant: &str,
    change: TenantChange,
) -> Result<Committed<()>, AuthError> {
    run(ctx, by, |tx| {
        let s = tx.state();
        let t = names::tenant(s, tenant, "id")?;
        let parent = change.parent.as_deref().map(|p| names::tenant(s, p, "parent")).transpose()?;
        let role = change
            .default_role
            .as_deref()
            .map(|r| names::role(s, r, "default_role"))
            .transpose()?;
        let contact =
            change.contact.as_deref().map(|c| names::principal(s, c, "contact")).transpose()?;
        let current = tx.tenant(t)?;
        let delegation = match (change.delegates_allowed, change.nested_delegates_allowed) {
            (None, None) => None,
            (a, n) => Some((
                a.unwrap_or(current.delegates_allowed),
                n.unwrap_or(current.nested_delegates_allowed),
            )),
        };
        let TenantChange { name, description, internal_description, .. } = &change;
        if name.is_some() || description.is_some() || internal_description.is_some() {
            tx.describe_tenant(t, name.clone(), description.clone(), internal_description.clone())?;
        }
        if let Some(p) = parent {
            tx.move_tenant(t, p)?;
        }
        if let Some(r) = role {
            tx.set_default_role(t, r)?;
        }
        if let Some((allowed, nested)) = delegation {
            tx.set_delegation(t, allowed, nested)?;
        }
        if let Some(c) = contact {
            tx.set_contact_person(t, c)?;
        }
        Ok(())
    })
}
