//! Resources: typed objects inside a tenant that access is checked on.

use crate::ids::*;
use crate::model::*;
use crate::names;
use crate::state::Change;
use crate::tx::{CommandError, Tx};
use serde_json::json;

/// What a new resource needs.
#[derive(Debug, Clone)]
pub struct NewResource {
    pub tenant: TenantId,
    pub key: String,
    pub name: String,
    pub resource_type: TypeId,
    pub kind: Option<KindId>,
    pub parent: Option<ResourceId>,
}

impl Tx {
    /// Creates a resource: needs `tenants.manage` in its tenant (portals usually create
    /// resources from the console or a service account).
    pub fn create_resource(&mut self, new: NewResource) -> Result<ResourceId, CommandError> {
        self.tenant(new.tenant)?;
        self.require(crate::perms::TENANTS_MANAGE, new.tenant, "R32")?;
        crate::commands::tenants::validate_key("key", &new.key)?;
        names::validate_name(&new.name)
            .map_err(|e| CommandError::invalid("name", e.to_string()))?;
        let catalog = &self.state.catalog;
        let Some(rtype) = catalog.types.get(new.resource_type.index()) else {
            return Err(CommandError::not_found("resource type", new.resource_type));
        };
        if let Some(k) = new.kind
            && !rtype.kinds.contains(&k)
        {
            return Err(CommandError::invalid(
                "kind",
                format!("`{}` is not a kind of `{}`", catalog.kind_name(k), rtype.name),
            ));
        }
        if let Some(parent) = new.parent {
            let p = self
                .state
                .resource(parent)
                .ok_or_else(|| CommandError::not_found("resource", parent))?;
            if p.tenant != new.tenant {
                return Err(CommandError::invalid(
                    "parent",
                    "a parent resource must be in the same tenant",
                ));
            }
        }
        if self.state.resource_by_key(&new.key).is_some() {
            return Err(CommandError::conflict(
                None,
                Some("key"),
                format!("resource key `{}` is taken", new.key),
            ));
        }
        let id = ResourceId(self.state.n_resources() as u32);
        self.log(
            "resource.created",
            Some(id.to_string()),
            Some(new.tenant),
            json!({"key": new.key, "type": rtype.name}),
        );
        self.put(Change::Resource(Resource {
            id,
            key: new.key.into(),
            name: new.name.into(),
            tenant: new.tenant,
            resource_type: new.resource_type,
            kind: new.kind,
            parent: new.parent,
            created_at: self.now,
        }))?;
        Ok(id)
    }
}
