//! Security groups (R38, R41): named sets of tenants owned by a user (to scope its
//! delegates) or by a partner tenant (to give its users clients in bulk).

use crate::check::Target;
use crate::ids::*;
use crate::model::*;
use crate::names;
use crate::state::Change;
use crate::tx::{Actor, CommandError, Tx};
use serde_json::json;

/// The name of the group that holds every tenant not placed elsewhere.
pub const DEFAULT_GROUP: &str = "Default";

impl Tx {
    /// Who may change an owner's groups: the user itself (not a delegate acting on its own
    /// groups' owner), a manager of it (R28), or `groups.manage` in the owning tenant.
    fn require_group_owner(&self, owner: GroupOwner) -> Result<(), CommandError> {
        match owner {
            GroupOwner::User(u) => {
                let p = self.principal(u)?.clone();
                if self.actor.principal() == Some(u) || self.actor == Actor::System {
                    return Ok(());
                }
                self.require_manage(crate::perms::USERS_MODIFY, &p, "R38")
            }
            GroupOwner::Tenant(t) => {
                self.tenant(t)?;
                if self.may_directly(crate::perms::GROUPS_MANAGE, t)
                    || self.may(crate::perms::GROUPS_MANAGE, Target::Tenant(t))
                        && self.actor_ctx().is_none_or(|c| c.switched.is_none())
                {
                    Ok(())
                } else {
                    self.require(crate::perms::GROUPS_MANAGE, t, "R41")
                }
            }
        }
    }

    fn ensure_default_group(&mut self, owner: GroupOwner) -> Result<GroupId, CommandError> {
        if let Some(g) = self.state.default_group(owner) {
            return Ok(g);
        }
        let id = GroupId(self.state.n_groups() as u32);
        self.put(Change::Group(Group {
            id,
            owner,
            name: DEFAULT_GROUP.to_owned(),
            is_default: true,
            deleted: false,
        }))?;
        Ok(id)
    }

    /// Creates a group (and the owner's Default group on first use).
    pub fn create_group(
        &mut self,
        owner: GroupOwner,
        name: String,
    ) -> Result<GroupId, CommandError> {
        self.require_group_owner(owner)?;
        names::validate_name(&name).map_err(|e| CommandError::invalid("name", e.to_string()))?;
        if names::fold(&name) == names::fold(DEFAULT_GROUP)
            || self.state.groups_of(owner).any(|g| names::fold(&g.name) == names::fold(&name))
        {
            return Err(CommandError::conflict(
                Some("R38"),
                Some("name"),
                format!("a group named `{name}` exists already"),
            ));
        }
        self.ensure_default_group(owner)?;
        let id = GroupId(self.state.n_groups() as u32);
        self.log(
            "group.created",
            Some(id.to_string()),
            owner_tenant(self, owner),
            json!({"name": name}),
        );
        self.put(Change::Group(Group { id, owner, name, is_default: false, deleted: false }))?;
        Ok(id)
    }

    /// Puts a tenant in one of the owner's groups, out of its old group in the same
    /// revision (R38).
    pub fn place_in_group(&mut self, group: GroupId, tenant: TenantId) -> Result<(), CommandError> {
        let g = self.group(group)?.clone();
        self.require_group_owner(g.owner)?;
        self.tenant(tenant)?;
        self.log(
            "group.tenant_placed",
            Some(tenant.to_string()),
            Some(tenant),
            json!({"group": group.to_string(), "name": g.name}),
        );
        self.put(Change::Placement {
            owner: g.owner,
            tenant,
            group: if g.is_default { None } else { Some(group) },
        })
    }

    /// Deletes a group; its tenants go back to Default (R38). Default cannot be deleted.
    pub fn delete_group(&mut self, group: GroupId) -> Result<(), CommandError> {
        let g = self.group(group)?.clone();
        self.require_group_owner(g.owner)?;
        if g.is_default {
            return Err(CommandError::conflict(
                Some("R38"),
                Some("group"),
                "the Default group cannot be deleted",
            ));
        }
        self.log(
            "group.deleted",
            Some(group.to_string()),
            owner_tenant(self, g.owner),
            json!({"name": g.name}),
        );
        self.put(Change::Group(Group { deleted: true, ..g }))
    }
}

fn owner_tenant(tx: &Tx, owner: GroupOwner) -> Option<TenantId> {
    match owner {
        GroupOwner::Tenant(t) => Some(t),
        GroupOwner::User(u) => tx.state().principal(u).map(|p| p.home),
    }
}
