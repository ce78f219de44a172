//! The permission catalog, roles and resource types (R25–R31), loaded from TOML.
//!
//! The catalog is data: it is parsed once, validated (unknown names, duplicates,
//! requirement cycles), and turned into dense ids and precomputed sets so that the check
//! path never looks up a name.

use crate::ids::{KindId, PermId, RoleId, TypeId};
use crate::perm_set::{MAX_PERMISSIONS, PermSet};
use serde::Deserialize;
use std::collections::HashMap;

/// The catalog shipped with Deputy (SPEC §13).
pub const SHIPPED_CATALOG: &str = include_str!("../catalog.toml");

/// The permission that answers the check endpoints; it keeps working on suspended tenants
/// when held from outside them (R8).
pub const CHECKS_READ: &str = crate::perms::CHECKS_READ;

/// Why a catalog was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("catalog is not valid TOML: {0}")]
    Syntax(String),
    #[error("catalog defines `{0}` twice")]
    Duplicate(String),
    #[error("`{referrer}` names unknown permission `{name}`")]
    UnknownPermission { referrer: String, name: String },
    #[error("permission requirements form a cycle: {0}")]
    Cycle(String),
    #[error("catalog defines {0} permissions; at most {MAX_PERMISSIONS} are supported")]
    TooManyPermissions(usize),
    #[error("default role `{0}` is not defined")]
    UnknownDefaultRole(String),
    #[error("catalog needs exactly one role with `admin = true`, found {0}")]
    AdminRole(usize),
    #[error("name `{0}` is not allowed: use lowercase letters, digits, `.`, `-` and `_`")]
    BadName(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    default_role: String,
    #[serde(default)]
    permission: Vec<RawPermission>,
    #[serde(default)]
    role: Vec<RawRole>,
    #[serde(default)]
    resource_type: Vec<RawType>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPermission {
    name: String,
    #[serde(default)]
    core: bool,
    #[serde(default)]
    root_only: bool,
    #[serde(default = "yes")]
    default: bool,
    #[serde(default)]
    requires: Vec<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    name: String,
    rank: i32,
    permissions: Vec<String>,
    #[serde(default)]
    admin: bool,
    #[serde(default)]
    customer_manager: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawType {
    name: String,
    #[serde(default)]
    kinds: Vec<String>,
}

/// A permission of the catalog.
#[derive(Debug, Clone)]
pub struct Permission {
    pub name: String,
    pub core: bool,
    pub root_only: bool,
    pub default_entitled: bool,
    /// The permissions it directly requires (R26).
    pub requires: Vec<PermId>,
}

/// A role of the catalog.
#[derive(Debug, Clone)]
pub struct Role {
    pub name: String,
    pub rank: i32,
    pub permissions: PermSet,
    /// The role shown with a crown (R7) and kept by R5.
    pub admin: bool,
    /// Counts in each client as every role of the grant's ceiling (R30, R45).
    pub customer_manager: bool,
}

/// A resource type and the kinds it allows.
#[derive(Debug, Clone)]
pub struct ResourceType {
    pub name: String,
    pub kinds: Vec<KindId>,
}

/// A resource kind ("Withholding"), belonging to one type.
#[derive(Debug, Clone)]
pub struct Kind {
    pub name: String,
    pub resource_type: TypeId,
}

/// A validated catalog.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// The TOML it was built from, kept so the change log can replay it.
    pub source: String,
    pub permissions: Vec<Permission>,
    pub roles: Vec<Role>,
    pub types: Vec<ResourceType>,
    pub kinds: Vec<Kind>,
    perm_by_name: HashMap<String, PermId>,
    role_by_name: HashMap<String, RoleId>,
    type_by_name: HashMap<String, TypeId>,
    /// Permissions that need no entitlement.
    pub core: PermSet,
    pub root_only: PermSet,
    /// Every non-core permission: the root's entitlements.
    pub entitleable: PermSet,
    /// Non-core permissions that new tenants start with.
    pub default_entitlements: PermSet,
    /// For each permission, every permission it requires, transitively.
    pub requires_closure: Vec<PermSet>,
    pub default_role: RoleId,
    pub admin_role: RoleId,
    checks_read: Option<PermId>,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
}

impl Catalog {
    /// The catalog shipped with Deputy.
    pub fn shipped() -> Catalog {
        // The shipped catalog is tested to parse; fall back to an empty-but-valid one
        // rather than panic if a build ever breaks that.
        Catalog::from_toml(SHIPPED_CATALOG).unwrap_or_else(|_| Catalog::minimal())
    }

    fn minimal() -> Catalog {
        let text = "default_role = \"admin\"\n[[role]]\nname = \"admin\"\nrank = 100\npermissions = [\"*\"]\nadmin = true\n";
        #[allow(clippy::unwrap_used)]
        Catalog::from_toml(text).unwrap()
    }

    /// Parses and validates a catalog (R25): refuses unknown names, duplicates and
    /// requirement cycles.
    pub fn from_toml(text: &str) -> Result<Catalog, CatalogError> {
        let raw: RawCatalog =
            toml::from_str(text).map_err(|e| CatalogError::Syntax(e.to_string()))?;
        if raw.permission.len() > MAX_PERMISSIONS {
            return Err(CatalogError::TooManyPermissions(raw.permission.len()));
        }
        let mut perm_by_name = HashMap::new();
        for (i, p) in raw.permission.iter().enumerate() {
            if !valid_name(&p.name) {
                return Err(CatalogError::BadName(p.name.clone()));
            }
            if perm_by_name.insert(p.name.clone(), PermId(i as u32)).is_some() {
                return Err(CatalogError::Duplicate(p.name.clone()));
            }
        }
        let lookup = |referrer: &str, name: &str| {
            perm_by_name.get(name).copied().ok_or_else(|| CatalogError::UnknownPermission {
                referrer: referrer.to_owned(),
                name: name.to_owned(),
            })
        };
        let mut permissions = Vec::with_capacity(raw.permission.len());
        for p in &raw.permission {
            let requires =
                p.requires.iter().map(|r| lookup(&p.name, r)).collect::<Result<Vec<_>, _>>()?;
            permissions.push(Permission {
                name: p.name.clone(),
                core: p.core,
                root_only: p.root_only,
                default_entitled: !p.core && p.default,
                requires,
            });
        }
        let requires_closure = requirement_closure(&permissions)?;
        let all: PermSet = (0..permissions.len() as u32).map(PermId).collect();

        let mut role_by_name = HashMap::new();
        let mut roles = Vec::with_capacity(raw.role.len());
        for (i, r) in raw.role.iter().enumerate() {
            if !valid_name(&r.name) {
                return Err(CatalogError::BadName(r.name.clone()));
            }
            if perm_by_name.contains_key(&r.name)
                || role_by_name.insert(r.name.clone(), RoleId(i as u32)).is_some()
            {
                return Err(CatalogError::Duplicate(r.name.clone()));
            }
            let mut set = PermSet::EMPTY;
            for name in &r.permissions {
                if name == "*" {
                    set = all;
                } else if let Some(prefix) = name.strip_suffix(".*") {
                    let mut any = false;
                    for (j, p) in permissions.iter().enumerate() {
                        if p.name.split('.').next() == Some(prefix) {
                            set.insert(PermId(j as u32));
                            any = true;
                        }
                    }
                    if !any {
                        return Err(CatalogError::UnknownPermission {
                            referrer: r.name.clone(),
                            name: name.clone(),
                        });
                    }
                } else {
                    set.insert(lookup(&r.name, name)?);
                }
            }
            roles.push(Role {
                name: r.name.clone(),
                rank: r.rank,
                permissions: set,
                admin: r.admin,
                customer_manager: r.customer_manager,
            });
        }
        let admins: Vec<_> = roles.iter().enumerate().filter(|(_, r)| r.admin).collect();
        if admins.len() != 1 {
            return Err(CatalogError::AdminRole(admins.len()));
        }
        let admin_role = RoleId(admins[0].0 as u32);
        let default_role = *role_by_name
            .get(&raw.default_role)
            .ok_or_else(|| CatalogError::UnknownDefaultRole(raw.default_role.clone()))?;

        let mut types = Vec::new();
        let mut kinds = Vec::new();
        let mut type_by_name = HashMap::new();
        for (i, t) in raw.resource_type.iter().enumerate() {
            if !valid_name(&t.name) {
                return Err(CatalogError::BadName(t.name.clone()));
            }
            if type_by_name.insert(t.name.clone(), TypeId(i as u32)).is_some() {
                return Err(CatalogError::Duplicate(t.name.clone()));
            }
            let mut ids = Vec::new();
            for k in &t.kinds {
                if ids.iter().any(|id: &KindId| kinds_name_eq(&kinds, *id, k)) {
                    return Err(CatalogError::Duplicate(format!("{}/{}", t.name, k)));
                }
                ids.push(KindId(kinds.len() as u32));
                kinds.push(Kind { name: k.clone(), resource_type: TypeId(i as u32) });
            }
            types.push(ResourceType { name: t.name.clone(), kinds: ids });
        }

        let core: PermSet = permissions
            .iter()
            .enumerate()
            .filter(|(_, p)| p.core)
            .map(|(i, _)| PermId(i as u32))
            .collect();
        let root_only = permissions
            .iter()
            .enumerate()
            .filter(|(_, p)| p.root_only)
            .map(|(i, _)| PermId(i as u32))
            .collect();
        let default_entitlements = permissions
            .iter()
            .enumerate()
            .filter(|(_, p)| p.default_entitled)
            .map(|(i, _)| PermId(i as u32))
            .collect();
        let checks_read = perm_by_name.get(CHECKS_READ).copied();
        Ok(Catalog {
            source: text.to_owned(),
            entitleable: all.minus(core),
            permissions,
            roles,
            types,
            kinds,
            perm_by_name,
            role_by_name,
            type_by_name,
            core,
            root_only,
            default_entitlements,
            requires_closure,
            default_role,
            admin_role,
            checks_read,
        })
    }

    /// The permissions Deputy's rules rely on ([`crate::perms::RELIED_ON`]) that this
    /// catalog does not define: a deployment's catalog must leave none out.
    pub fn missing_relied_on(&self) -> Vec<&'static str> {
        crate::perms::RELIED_ON.into_iter().filter(|p| self.permission_id(p).is_none()).collect()
    }

    pub fn permission_id(&self, name: &str) -> Option<PermId> {
        self.perm_by_name.get(name).copied()
    }

    pub fn role_id(&self, name: &str) -> Option<RoleId> {
        self.role_by_name.get(name).copied()
    }

    pub fn type_id(&self, name: &str) -> Option<TypeId> {
        self.type_by_name.get(name).copied()
    }

    /// The kind named `name` of type `resource_type`.
    pub fn kind_id(&self, resource_type: TypeId, name: &str) -> Option<KindId> {
        self.types
            .get(resource_type.index())?
            .kinds
            .iter()
            .copied()
            .find(|k| self.kinds[k.index()].name.eq_ignore_ascii_case(name))
    }

    /// A kind of any type by name (kinds are usually unique across types).
    pub fn kind_by_name(&self, name: &str) -> Option<KindId> {
        self.kinds.iter().position(|k| k.name.eq_ignore_ascii_case(name)).map(|i| KindId(i as u32))
    }

    #[inline]
    pub fn permission(&self, id: PermId) -> &Permission {
        &self.permissions[id.index()]
    }

    #[inline]
    pub fn role(&self, id: RoleId) -> &Role {
        &self.roles[id.index()]
    }

    pub fn is_checks_read(&self, perm: PermId) -> bool {
        self.checks_read == Some(perm)
    }

    pub fn perm_name(&self, id: PermId) -> &str {
        self.permissions.get(id.index()).map_or("?", |p| &p.name)
    }

    pub fn role_name(&self, id: RoleId) -> &str {
        self.roles.get(id.index()).map_or("?", |r| &r.name)
    }

    pub fn kind_name(&self, id: KindId) -> &str {
        self.kinds.get(id.index()).map_or("?", |k| &k.name)
    }

    /// Names of a set of permissions, for messages.
    pub fn perm_names(&self, set: PermSet) -> Vec<String> {
        set.iter().map(|p| self.perm_name(p).to_owned()).collect()
    }
}

fn kinds_name_eq(kinds: &[Kind], id: KindId, name: &str) -> bool {
    kinds[id.index()].name.eq_ignore_ascii_case(name)
}

/// Transitive requirements of each permission; refuses cycles, naming one.
fn requirement_closure(perms: &[Permission]) -> Result<Vec<PermSet>, CatalogError> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    fn visit(
        i: usize,
        perms: &[Permission],
        marks: &mut [Mark],
        closure: &mut [PermSet],
        path: &mut Vec<usize>,
    ) -> Result<(), CatalogError> {
        match marks[i] {
            Mark::Done => return Ok(()),
            Mark::Active => {
                let start = path.iter().position(|p| *p == i).unwrap_or(0);
                let mut names: Vec<&str> =
                    path[start..].iter().map(|p| perms[*p].name.as_str()).collect();
                names.push(&perms[i].name);
                return Err(CatalogError::Cycle(names.join(" → ")));
            }
            Mark::New => {}
        }
        marks[i] = Mark::Active;
        path.push(i);
        let mut set = PermSet::EMPTY;
        for req in &perms[i].requires {
            visit(req.index(), perms, marks, closure, path)?;
            set.insert(*req);
            set = set.union(closure[req.index()]);
        }
        path.pop();
        marks[i] = Mark::Done;
        closure[i] = set;
        Ok(())
    }
    let mut marks = vec![Mark::New; perms.len()];
    let mut closure = vec![PermSet::EMPTY; perms.len()];
    let mut path = Vec::new();
    for i in 0..perms.len() {
        visit(i, perms, &mut marks, &mut closure, &mut path)?;
    }
    Ok(closure)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn r29_shipped_catalog_parses_with_the_backup_portal_ladder() {
        let c = Catalog::from_toml(SHIPPED_CATALOG).unwrap();
        let rank = |n: &str| c.role(c.role_id(n).unwrap()).rank;
        assert_eq!(rank("admin"), 100);
        assert!(rank("senior-manager") > rank("senior-it-manager"));
        assert!(rank("senior-it-manager") > rank("senior-customer-service"));
        assert!(rank("customer-service") > rank("read-only"));
        assert!(rank("read-only") > rank("api"));
        assert!(rank("api") > rank("power-user"));
        assert!(rank("power-user") > rank("default-user"));
        assert_eq!(c.role_name(c.default_role), "default-user");
        assert_eq!(c.role_name(c.admin_role), "admin");
        assert_eq!(c.missing_relied_on(), Vec::<&str>::new(), "the shipped catalog has them all");
        let api = c.permission_id("api.access").unwrap();
        assert!(!c.default_entitlements.contains(api));
        assert!(c.root_only.contains(c.permission_id(crate::perms::CATALOG_MANAGE).unwrap()));
    }

    #[test]
    fn r25_requirement_cycle_is_refused_naming_it() {
        let text = "default_role = \"a\"\n[[permission]]\nname = \"x\"\nrequires = [\"y\"]\n[[permission]]\nname = \"y\"\nrequires = [\"x\"]\n[[role]]\nname = \"a\"\nrank = 1\npermissions = [\"*\"]\nadmin = true\n";
        let err = Catalog::from_toml(text).unwrap_err();
        assert!(matches!(err, CatalogError::Cycle(ref s) if s.contains("x → y → x")), "{err}");
    }

    #[test]
    fn r25_unknown_permission_in_role_is_refused() {
        let text = "default_role = \"a\"\n[[role]]\nname = \"a\"\nrank = 1\npermissions = [\"nope\"]\nadmin = true\n";
        let err = Catalog::from_toml(text).unwrap_err();
        assert_eq!(
            err,
            CatalogError::UnknownPermission { referrer: "a".into(), name: "nope".into() }
        );
    }

    #[test]
    fn r26_requirements_are_transitive() {
        let text = "default_role = \"a\"\n[[permission]]\nname = \"x\"\nrequires = [\"y\"]\n[[permission]]\nname = \"y\"\nrequires = [\"z\"]\n[[permission]]\nname = \"z\"\n[[role]]\nname = \"a\"\nrank = 1\npermissions = [\"*\"]\nadmin = true\n";
        let c = Catalog::from_toml(text).unwrap();
        let x = c.permission_id("x").unwrap();
        assert_eq!(c.requires_closure[x.index()].len(), 2);
    }
}
