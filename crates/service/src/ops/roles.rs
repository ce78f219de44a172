//! Direct roles and single permissions (R26, R27, R32): given in a tenant or on a
//! resource, and removed. Partner roles are [`super::partners::give_role`].

use super::{Asker, names, run};
use crate::Committed;
use crate::auth::{Auth, AuthError};
use deputy_core::commands::roles::NewAssignment;
use deputy_core::{AssignmentId, Bundle, Scope};
use deputy_store::Store;
use deputy_store::secrets::SecretStore;

/// What is given, by name.
#[derive(Debug, Clone)]
pub enum Given {
    Role(String),
    /// A single permission (R26).
    Permission(String),
}

/// Where it holds, by name (R32).
#[derive(Debug, Clone)]
pub enum Place {
    /// A tenant by key or id; with `subtree`, also its descendants (R2).
    Tenant { tenant: String, subtree: bool },
    /// A resource by key or id, and its descendants.
    Resource(String),
}

/// Gives `principal` a role or a permission (R27: the asker outranks and holds it).
pub fn assign<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    principal: &str,
    given: Given,
    place: Place,
    expires_at: Option<i64>,
) -> Result<Committed<AssignmentId>, AuthError> {
    run(ctx, by, |tx| {
        let s = tx.state();
        let principal = names::principal(s, principal, "id")?;
        let bundle = match &given {
            Given::Role(r) => Bundle::Role(
                crate::resolve::role(s, r)
                    .map_err(|e| deputy_core::CommandError::invalid("role", e.0))?,
            ),
            Given::Permission(x) => Bundle::Permission(
                crate::resolve::permission(s, x)
                    .map_err(|e| deputy_core::CommandError::invalid("permission", e.0))?,
            ),
        };
        let scope = match &place {
            Place::Tenant { tenant, subtree } => {
                Scope::Tenant { tenant: names::tenant(s, tenant, "tenant")?, subtree: *subtree }
            }
            Place::Resource(r) => Scope::Resource { resource: names::resource(s, r, "resource")? },
        };
        tx.assign(NewAssignment { principal, bundle, scope, expires_at })
    })
}

/// Removes an assignment (R27, R26, R6, R5).
pub fn unassign<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    principal: &str,
    assignment: &str,
) -> Result<Committed<()>, AuthError> {
    let a = names::assignment(assignment, "assignment").map_err(crate::ServiceError::from)?;
    run(ctx, by, |tx| {
        let p = names::principal(tx.state(), principal, "id")?;
        tx.unassign(p, a)
    })
}
