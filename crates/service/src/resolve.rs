//! Turning the names people type (tenant keys, logon names, role names) into engine ids,
//! with errors that say which argument was wrong.

use deputy_core::{
    GroupId, KindId, PermId, PrincipalId, ResourceId, RoleId, State, Target, TenantId,
};

/// An argument that names nothing.
#[derive(Debug)]
pub struct NotFound(pub String);

impl std::fmt::Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotFound {}

pub fn tenant(s: &State, key: &str) -> Result<TenantId, NotFound> {
    s.tenant_by_key(key)
        .or_else(|| key.parse().ok().filter(|t: &TenantId| s.tenant(*t).is_some()))
        .ok_or_else(|| NotFound(format!("no tenant with key `{key}`")))
}

pub fn principal(s: &State, logon: &str) -> Result<PrincipalId, NotFound> {
    s.principal_by_logon(logon)
        .filter(|p| {
            s.principal(*p).is_some_and(|x| {
                deputy_core::names::fold(&x.logon) == deputy_core::names::fold(logon)
            })
        })
        .or_else(|| logon.parse().ok().filter(|p: &PrincipalId| s.principal(*p).is_some()))
        .ok_or_else(|| NotFound(format!("no principal with logon name `{logon}`")))
}

pub fn role(s: &State, name: &str) -> Result<RoleId, NotFound> {
    s.catalog.role_id(name).ok_or_else(|| NotFound(format!("no role named `{name}`")))
}

pub fn permission(s: &State, name: &str) -> Result<PermId, NotFound> {
    s.catalog.permission_id(name).ok_or_else(|| NotFound(format!("no permission named `{name}`")))
}

pub fn resource(s: &State, key: &str) -> Result<ResourceId, NotFound> {
    s.resource_by_key(key)
        .or_else(|| key.parse().ok().filter(|r: &ResourceId| s.resource(*r).is_some()))
        .ok_or_else(|| NotFound(format!("no resource with key `{key}`")))
}

pub fn group(s: &State, id: &str) -> Result<GroupId, NotFound> {
    id.parse()
        .ok()
        .filter(|g: &GroupId| s.group(*g).is_some_and(|g| !g.deleted))
        .ok_or_else(|| NotFound(format!("no group `{id}` (groups are named by id, like `sg3`)")))
}

/// `tenant:KEY`, `resource:KEY`, or a bare key (a tenant first, then a resource).
pub fn target(s: &State, text: &str) -> Result<Target, NotFound> {
    if let Some(key) = text.strip_prefix("tenant:") {
        return tenant(s, key).map(Target::Tenant);
    }
    if let Some(key) = text.strip_prefix("resource:") {
        return resource(s, key).map(Target::Resource);
    }
    tenant(s, text)
        .map(Target::Tenant)
        .or_else(|_| resource(s, text).map(Target::Resource))
        .map_err(|_| NotFound(format!("no tenant or resource `{text}`")))
}

/// The display form of a target.
pub fn target_name(s: &State, t: Target) -> String {
    match t {
        Target::Tenant(id) => s.tenant(id).map_or(id.to_string(), |t| format!("tenant:{}", t.key)),
        Target::Resource(id) => {
            s.resource(id).map_or(id.to_string(), |r| format!("resource:{}", r.key))
        }
    }
}

/// A delegate's groups (none given: Full Access), kinds (none: all) and narrowing roles.
#[allow(clippy::type_complexity)]
pub fn delegate_access(
    s: &State,
    groups: &[String],
    kinds: &[String],
    roles: &[String],
) -> Result<(Option<Vec<GroupId>>, Option<Vec<KindId>>, Vec<RoleId>), NotFound> {
    let groups = (!groups.is_empty())
        .then(|| groups.iter().map(|g| group(s, g)).collect::<Result<Vec<_>, _>>())
        .transpose()?;
    let kinds = (!kinds.is_empty())
        .then(|| {
            kinds
                .iter()
                .map(|k| {
                    s.catalog
                        .kind_by_name(k)
                        .ok_or_else(|| NotFound(format!("no kind named `{k}`")))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let roles = roles.iter().map(|r| role(s, r)).collect::<Result<Vec<_>, _>>()?;
    Ok((groups, kinds, roles))
}
