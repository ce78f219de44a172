//! The permissions Deputy's own rules rely on, named once. The catalog is data (R25) and
//! may grow, rename its roles or drop domain permissions, but these names are read by the
//! rules themselves (who may create, modify, cancel, impersonate, assign, manage tenants,
//! partners and groups, read checks, …), so a deployment's catalog must define every one:
//! [`Catalog::missing_relied_on`](crate::Catalog::missing_relied_on) is checked when a
//! deployment is created and whenever its catalog is replaced.

pub const USERS_VIEW: &str = "users.view";
pub const USERS_CREATE: &str = "users.create";
pub const USERS_MODIFY: &str = "users.modify";
pub const USERS_CANCEL: &str = "users.cancel";
pub const IMPERSONATE: &str = "impersonate";
pub const ROLES_ASSIGN: &str = "roles.assign";
pub const INSTANCES_GRANT: &str = "instances.grant";
pub const TENANTS_VIEW: &str = "tenants.view";
pub const TENANTS_MANAGE: &str = "tenants.manage";
pub const ENTITLEMENTS_MANAGE: &str = "entitlements.manage";
pub const PARTNERS_MANAGE: &str = "partners.manage";
pub const GROUPS_MANAGE: &str = "groups.manage";
pub const KEYS_MANAGE: &str = "keys.manage";
pub const ACTIVITY_VIEW: &str = "activity.view";
pub const OUTBOX_VIEW: &str = "outbox.view";
pub const CATALOG_MANAGE: &str = "catalog.manage";
/// Answers the check endpoints, also on suspended tenants when held from outside (R8).
pub const CHECKS_READ: &str = "checks.read";

/// Every permission above: what a deployment's catalog must define.
pub const RELIED_ON: [&str; 17] = [
    USERS_VIEW,
    USERS_CREATE,
    USERS_MODIFY,
    USERS_CANCEL,
    IMPERSONATE,
    ROLES_ASSIGN,
    INSTANCES_GRANT,
    TENANTS_VIEW,
    TENANTS_MANAGE,
    ENTITLEMENTS_MANAGE,
    PARTNERS_MANAGE,
    GROUPS_MANAGE,
    KEYS_MANAGE,
    ACTIVITY_VIEW,
    OUTBOX_VIEW,
    CATALOG_MANAGE,
    CHECKS_READ,
];
