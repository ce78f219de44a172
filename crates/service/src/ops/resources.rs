//! Resources (R29–R33): created in a tenant, typed by the catalog.

use super::{Asker, names, run};
use crate::Committed;
use crate::auth::{Auth, AuthError};
use deputy_core::ResourceId;
use deputy_core::commands::resources::NewResource;
use deputy_store::Store;
use deputy_store::secrets::SecretStore;

/// A new resource, by the names a caller types.
#[derive(Debug, Clone)]
pub struct ResourceSpec {
    /// Unique across the deployment, case-insensitive.
    pub key: String,
    pub name: String,
    /// A resource type of the catalog (`tax-account`).
    pub resource_type: String,
    pub kind: Option<String>,
    /// A parent resource, by key or id.
    pub parent: Option<String>,
}

/// Creates a resource in `tenant`.
pub fn create<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    tenant: &str,
    spec: ResourceSpec,
) -> Result<Committed<ResourceId>, AuthError> {
    run(ctx, by, |tx| {
        let s = tx.state();
        let new = NewResource {
            tenant: names::tenant(s, tenant, "id")?,
            key: spec.key.clone(),
            name: spec.name.clone(),
            resource_type: names::resource_type(s, &spec.resource_type, "type")?,
            kind: spec.kind.as_deref().map(|k| names::kind(s, k, "kind")).transpose()?,
            parent: spec.parent.as_deref().map(|p| names::resource(s, p, "parent")).transpose()?,
        };
        tx.create_resource(new)
    })
}
