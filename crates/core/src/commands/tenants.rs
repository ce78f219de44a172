//! Tenant commands (R1–R9): the root, sub-tenants, entitlements, suspension, partner flag,
//! descriptions and moves.

use crate::check::Target;
use crate::ids::*;
use crate::model::*;
use crate::names;
use crate::perm_set::PermSet;
use crate::state::Change;
use crate::tx::{Actor, CommandError, Tx};
use serde_json::json;

/// What a new tenant needs.
#[derive(Debug, Clone, Default)]
pub struct NewTenant {
    pub key: String,
    pub name: String,
    pub description: String,
    pub internal_description: String,
}

pub(crate) fn validate_key(field: &'static str, key: &str) -> Result<(), CommandError> {
    if key.is_empty() || key.len() > 64 {
        return Err(CommandError::invalid(field, "must be 1 to 64 characters"));
    }
    if !key.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
        return Err(CommandError::invalid(
            field,
            format!("`{key}` may only hold ASCII letters, digits, `-`, `_` and `.`"),
        ));
    }
    Ok(())
}

impl Tx {
    /// Creates the root tenant of an empty deployment (R60). Console only.
    pub fn create_root(&mut self, new: NewTenant) -> Result<TenantId, CommandError> {
        if self.actor != Actor::System {
            return Err(CommandError::forbidden(
                "R60",
                "only the operator's console creates the root tenant",
            ));
        }
        if self.state.root().is_some() {
            return Err(CommandError::conflict(
                None,
                None,
                "the deployment already has a root tenant",
            ));
        }
        self.insert_tenant(None, new, PermSet::EMPTY)
    }

    /// Loads the catalog and creates the root tenant of an empty deployment (R25, R60).
    pub fn init_deployment(
        &mut self,
        catalog_toml: &str,
        root_key: &str,
        root_name: &str,
    ) -> Result<TenantId, CommandError> {
        if self.state.root().is_some() {
            return Err(CommandError::conflict(
                None,
                None,
                "the deployment is initialised already",
            ));
        }
        let catalog = crate::Catalog::from_toml(catalog_toml)
            .map_err(|e| CommandError::invalid("catalog", e.to_string()))?;
        relied_on_are_defined(&catalog)?;
        self.put(Change::Catalog { toml: catalog_toml.to_owned() })?;
        self.log("catalog.loaded", None, None, json!({}));
        self.create_root(NewTenant {
            key: root_key.to_owned(),
            name: root_name.to_owned(),
            ..NewTenant::default()
        })
    }

    /// Creates a tenant under `parent` (R1): needs `tenants.manage` in the parent.
    pub fn create_tenant(
        &mut self,
        parent: TenantId,
        new: NewTenant,
    ) -> Result<TenantId, CommandError> {
        self.tenant(parent)?;
        self.require(crate::perms::TENANTS_MANAGE, parent, "R1")?;
        // R46: through a grant, a partner creates a sub-account with a bound grant.
        if self.actor_ctx().is_some_and(|c| c.switched.is_some())
            && !self.may_directly(crate::perms::TENANTS_MANAGE, parent)
        {
            return self.create_sub_account(parent, new);
        }
        // R3: a new tenant starts with the catalog's defaults ∩ its parent's.
        let entitlements =
            self.state.catalog.default_entitlements.intersect(self.tenant(parent)?.entitlements);
        self.insert_tenant(Some(parent), new, entitlements)
    }

    pub(crate) fn insert_tenant(
        &mut self,
        parent: Option<TenantId>,
        new: NewTenant,
        entitlements: PermSet,
    ) -> Result<TenantId, CommandError> {
        validate_key("key", &new.key)?;
        names::validate_name(&new.name)
            .map_err(|e| CommandError::invalid("name", e.to_string()))?;
        if let Some(existing) = self.state.tenant_by_key(&new.key) {
            return Err(CommandError::conflict(
                None,
                Some("key"),
                format!(
                    "tenant key `{}` is taken (by `{}`, keys ignore case)",
                    new.key,
                    self.tenant(existing)?.key
                ),
            ));
        }
        let id = TenantId(self.state.n_tenants() as u32);
        let tenant = Tenant {
            id,
            key: new.key,
            name: new.name,
            parent,
            description: new.description,
            internal_description: new.internal_description,
            partner: false,
            suspended: false,
            own_entitlements: entitlements,
            contact: None,
            default_role: None,
            had_admin: false,
            delegates_allowed: true,
            nested_delegates_allowed: false,
            created_at: self.now,
            ancestors: Default::default(),
            entitlements: PermSet::EMPTY,
            blocked: false,
        };
        self.log(
            "tenant.created",
            Some(id.to_string()),
            Some(id),
            json!({"key": tenant.key, "parent": parent.map(|p| p.to_string())}),
        );
        self.put(Change::Tenant(tenant))?;
        Ok(id)
    }

    fn require_over(
        &self,
        perm: &str,
        tenant: TenantId,
        rule: &'static str,
    ) -> Result<(), CommandError> {
        if self.may_over(perm, tenant) {
            return Ok(());
        }
        if !self.can_see(tenant) {
            return Err(CommandError::not_found("tenant", tenant));
        }
        Err(CommandError::forbidden(
            rule,
            format!(
                "you need `{perm}` over tenant `{}` (from an ancestor, with subtree scope)",
                self.tenant(tenant)?.key
            ),
        ))
    }

    /// Sets a tenant's own entitlements (R3): only a holder of `entitlements.manage` over
    /// it; the root is entitled to everything.
    pub fn set_entitlements(
        &mut self,
        tenant: TenantId,
        names: &[String],
    ) -> Result<(), CommandError> {
        let t = self.tenant(tenant)?.clone();
        if t.parent.is_none() {
            return Err(CommandError::conflict(
                Some("R3"),
                Some("tenant"),
                "the root tenant is entitled to every permission",
            ));
        }
        self.require_over(crate::perms::ENTITLEMENTS_MANAGE, tenant, "R3")?;
        let mut set = PermSet::EMPTY;
        for name in names {
            let p = self.perm(name)?;
            if self.state.catalog.core.contains(p) {
                return Err(CommandError::invalid(
                    "entitlements",
                    format!("`{name}` is a core permission and needs no entitlement"),
                ));
            }
            set.insert(p);
        }
        self.log(
            "tenant.entitlements_set",
            Some(tenant.to_string()),
            Some(tenant),
            json!({"entitlements": names}),
        );
        self.put(Change::Tenant(Tenant { own_entitlements: set, ..t }))
    }

    /// Suspends a tenant or lifts the suspension (R8).
    pub fn set_suspended(&mut self, tenant: TenantId, suspended: bool) -> Result<(), CommandError> {
        let t = self.tenant(tenant)?.clone();
        if t.parent.is_none() {
            return Err(CommandError::conflict(
                Some("R8"),
                Some("tenant"),
                "the root tenant cannot be suspended",
            ));
        }
        self.require_over(crate::perms::TENANTS_MANAGE, tenant, "R8")?;
        self.log(
            if suspended { "tenant.suspended" } else { "tenant.resumed" },
            Some(tenant.to_string()),
            Some(tenant),
            json!({}),
        );
        self.put(Change::Tenant(Tenant { suspended, ..t }))
    }

    /// Flags a tenant as a partner, or not (SPEC §1): `tenants.manage` over it.
    pub fn set_partner(&mut self, tenant: TenantId, partner: bool) -> Result<(), CommandError> {
        let t = self.tenant(tenant)?.clone();
        if t.parent.is_some() {
            self.require_over(crate::perms::TENANTS_MANAGE, tenant, "R40")?;
        } else if self.actor != Actor::System {
            return Err(CommandError::forbidden(
                "R40",
                "the root tenant's partner flag is set from the console",
            ));
        }
        self.log(
            "tenant.partner_set",
            Some(tenant.to_string()),
            Some(tenant),
            json!({"partner": partner}),
        );
        self.put(Change::Tenant(Tenant { partner, ..t }))
    }

    /// Changes name and descriptions (R9): `tenants.manage` in it; the internal description
    /// only over it or through a grant.
    pub fn describe_tenant(
        &mut self,
        tenant: TenantId,
        name: Option<String>,
        description: Option<String>,
        internal: Option<String>,
    ) -> Result<(), CommandError> {
        let t = self.tenant(tenant)?.clone();
        self.require(crate::perms::TENANTS_MANAGE, tenant, "R9")?;
        if internal.is_some() && !self.may_see_internal(tenant) {
            return Err(CommandError::forbidden(
                "R9",
                "the internal description is set from above the tenant or through a grant",
            ));
        }
        if let Some(n) = &name {
            names::validate_name(n).map_err(|e| CommandError::invalid("name", e.to_string()))?;
        }
        self.log("tenant.described", Some(tenant.to_string()), Some(tenant), json!({}));
        self.put(Change::Tenant(Tenant {
            name: name.unwrap_or(t.name.clone()),
            description: description.unwrap_or(t.description.clone()),
            internal_description: internal.unwrap_or(t.internal_description.clone()),
            ..t
        }))
    }

    /// R9: `tenants.manage` over it, or in it through a grant.
    pub fn may_see_internal(&self, tenant: TenantId) -> bool {
        match self.actor {
            Actor::System => true,
            Actor::Principal { ctx, .. } => {
                self.may_over(crate::perms::TENANTS_MANAGE, tenant)
                    || (ctx.switched.is_some()
                        && self.may(crate::perms::TENANTS_MANAGE, Target::Tenant(tenant)))
            }
        }
    }

    /// Sets whether the tenant's users may create delegates, and delegates delegates (R34).
    pub fn set_delegation(
        &mut self,
        tenant: TenantId,
        allowed: bool,
        nested: bool,
    ) -> Result<(), CommandError> {
        let t = self.tenant(tenant)?.clone();
        self.require(crate::perms::TENANTS_MANAGE, tenant, "R34")?;
        self.log(
            "tenant.delegation_set",
            Some(tenant.to_string()),
            Some(tenant),
            json!({"allowed": allowed, "nested": nested}),
        );
        self.put(Change::Tenant(Tenant {
            delegates_allowed: allowed,
            nested_delegates_allowed: nested,
            ..t
        }))
    }

    /// Moves a tenant under a new parent (R1).
    pub fn move_tenant(
        &mut self,
        tenant: TenantId,
        new_parent: TenantId,
    ) -> Result<(), CommandError> {
        let t = self.tenant(tenant)?.clone();
        self.tenant(new_parent)?;
        if t.parent.is_none() {
            return Err(CommandError::conflict(
                Some("R1"),
                Some("tenant"),
                "the root tenant cannot be moved",
            ));
        }
        if self.state.is_ancestor_or_self(tenant, new_parent) {
            return Err(CommandError::conflict(
                Some("R1"),
                Some("parent"),
                format!("tenant `{}` cannot move under its own subtree", t.key),
            ));
        }
        if t.parent == Some(new_parent) {
            return Ok(());
        }
        self.require_over(crate::perms::TENANTS_MANAGE, tenant, "R1")?;
        self.require(crate::perms::TENANTS_MANAGE, new_parent, "R1")?;
        let subtree = self.state.subtree(tenant);
        let before: Vec<_> = subtree
            .iter()
            .map(|s| {
                (
                    self.actor_rank(*s),
                    self.actor_permissions(*s),
                    self.state.tenant(*s).map(|t| t.entitlements).unwrap_or_default(),
                )
            })
            .collect();
        self.log(
            "tenant.moved",
            Some(tenant.to_string()),
            Some(tenant),
            json!({"from": t.parent.map(|p| p.to_string()), "to": new_parent.to_string()}),
        );
        self.put(Change::Tenant(Tenant { parent: Some(new_parent), ..t }))?;
        for (s, (rank, perms, ents)) in subtree.iter().zip(before) {
            if self.actor_rank(*s) > rank || !self.actor_permissions(*s).is_subset_of(&perms) {
                return Err(CommandError::forbidden(
                    "R1",
                    format!(
                        "the move would give you more permissions or rank over tenant `{}`",
                        self.tenant(*s)?.key
                    ),
                ));
            }
            if !self.tenant(*s)?.entitlements.is_subset_of(&ents)
                && !self.may_over(crate::perms::ENTITLEMENTS_MANAGE, *s)
            {
                return Err(CommandError::forbidden(
                    "R1",
                    format!(
                        "the move would grow the entitlements of `{}`, which needs `entitlements.manage` over it",
                        self.tenant(*s)?.key
                    ),
                ));
            }
            self.touch(*s);
        }
        Ok(())
    }

    /// Every permission the actor has on `tenant` in its session.
    pub(crate) fn actor_permissions(&self, tenant: TenantId) -> PermSet {
        let n = self.state.catalog.permissions.len() as u32;
        (0..n)
            .map(PermId)
            .filter(|p| self.may(self.state.catalog.perm_name(*p), Target::Tenant(tenant)))
            .collect()
    }
}

/// A deployment's catalog defines every permission Deputy's own rules read
/// ([`crate::perms::RELIED_ON`]): without one, a rule would refuse everyone for good.
pub(crate) fn relied_on_are_defined(catalog: &crate::Catalog) -> Result<(), CommandError> {
    let missing = catalog.missing_relied_on();
    if missing.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = missing.iter().map(|p| format!("`{p}`")).collect();
    Err(CommandError::invalid(
        "catalog",
        format!(
            "the catalog must define {}: Deputy's own rules rely on them (R25)",
            list.join(", ")
        ),
    ))
}
