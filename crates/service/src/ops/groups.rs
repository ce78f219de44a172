//! Security groups (R38): created by a user (to scope its delegates) or a partner tenant
//! (to give its users clients in bulk), tenants placed in them, deleted.

use super::{Asker, names, run};
use crate::Committed;
use crate::auth::{Auth, AuthError};
use deputy_core::{GroupId, GroupOwner};
use deputy_store::Store;
use deputy_store::secrets::SecretStore;

/// Who owns a new group, by name.
#[derive(Debug, Clone)]
pub enum Owner {
    /// A user, by logon or id.
    User(String),
    /// A partner tenant, by key or id.
    Tenant(String),
}

pub fn create<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    owner: Owner,
    name: &str,
) -> Result<Committed<GroupId>, AuthError> {
    run(ctx, by, |tx| {
        let owner = match &owner {
            Owner::User(p) => GroupOwner::User(names::principal(tx.state(), p, "owner_principal")?),
            Owner::Tenant(t) => GroupOwner::Tenant(names::tenant(tx.state(), t, "owner_tenant")?),
        };
        tx.create_group(owner, name.to_owned())
    })
}

/// Moves a tenant into a group (out of its old group of the same owner).
pub fn place<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    group: &str,
    tenant: &str,
) -> Result<Committed<()>, AuthError> {
    run(ctx, by, |tx| {
        let g = names::group(tx.state(), group, "id")?;
        let t = names::tenant(tx.state(), tenant, "tenant")?;
        tx.place_in_group(g, t)
    })
}

/// Deletes a group; its tenants go back to Default.
pub fn delete<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    group: &str,
) -> Result<Committed<()>, AuthError> {
    run(ctx, by, |tx| {
        let g = names::group(tx.state(), group, "id")?;
        tx.delete_group(g)
    })
}
