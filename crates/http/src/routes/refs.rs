//! How one view names another entity (R57: every view carries the object's id and its
//! human key or logon): tenants as `{id, key}`, principals as `{id, logon}`, resources
//! as `{id, key}`, and check targets as either, tagged with `type`.

use deputy_core::{PrincipalId, ResourceId, Scope, State as Snapshot, Target, TenantId};
use serde::Serialize;
use utoipa::ToSchema;

/// A tenant named by its id (`t3`) and its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TenantRef {
    pub id: String,
    pub key: String,
}

impl TenantRef {
    pub fn of(s: &Snapshot, t: TenantId) -> TenantRef {
        TenantRef {
            id: t.to_string(),
            key: s.tenant(t).map_or_else(|| t.to_string(), |t| t.key.clone()),
        }
    }
}

/// A principal named by its id (`p7`) and its logon name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PrincipalRef {
    pub id: String,
    pub logon: String,
}

impl PrincipalRef {
    pub fn of(s: &Snapshot, p: PrincipalId) -> PrincipalRef {
        PrincipalRef {
            id: p.to_string(),
            logon: s.principal(p).map_or_else(|| p.to_string(), |p| p.logon.to_string()),
        }
    }
}

/// A resource named by its id (`r4`) and its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ResourceRef {
    pub id: String,
    pub key: String,
}

impl ResourceRef {
    pub fn of(s: &Snapshot, r: ResourceId) -> ResourceRef {
        ResourceRef {
            id: r.to_string(),
            key: s.resource(r).map_or_else(|| r.to_string(), |r| r.key.to_string()),
        }
    }
}

/// A check target: a tenant or a resource, with its id and key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TargetRef {
    /// `tenant` or `resource`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    pub key: String,
}

impl TargetRef {
    pub fn of(s: &Snapshot, t: Target) -> TargetRef {
        match t {
            Target::Tenant(t) => {
                let r = TenantRef::of(s, t);
                TargetRef { kind: "tenant".to_owned(), id: r.id, key: r.key }
            }
            Target::Resource(x) => {
                let r = ResourceRef::of(s, x);
                TargetRef { kind: "resource".to_owned(), id: r.id, key: r.key }
            }
        }
    }
}

/// Where an assignment holds (R32), with the id and the key or name of what it names: a
/// tenant (and, with `subtree`, its descendants), a resource, or for a partner role (R41)
/// a client tenant or one of the partner's security groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ScopeRef {
    /// `tenant`, `resource`, `client` (partner role) or `group` (partner role).
    #[serde(rename = "type")]
    pub kind: String,
    /// `t3`, `r4` or `sg3`.
    pub id: String,
    /// A tenant's, resource's or client's key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// A security group's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A tenant scope only: whether it also holds in the tenant's descendants.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subtree: Option<bool>,
}

impl ScopeRef {
    pub fn of(s: &Snapshot, scope: Scope) -> ScopeRef {
        let keyed = |kind: &str, r: TenantRef| ScopeRef {
            kind: kind.to_owned(),
            id: r.id,
            key: Some(r.key),
            name: None,
            subtree: None,
        };
        match scope {
            Scope::Tenant { tenant, subtree } => {
                ScopeRef { subtree: Some(subtree), ..keyed("tenant", TenantRef::of(s, tenant)) }
            }
            Scope::Resource { resource } => {
                let r = ResourceRef::of(s, resource);
                keyed("resource", TenantRef { id: r.id, key: r.key })
            }
            Scope::Client { client } => keyed("client", TenantRef::of(s, client)),
            Scope::Group { group } => ScopeRef {
                kind: "group".to_owned(),
                id: group.to_string(),
                key: None,
                name: Some(s.group(group).map_or_else(|| group.to_string(), |g| g.name.clone())),
                subtree: None,
            },
        }
    }
}

/// What an activity entry names (R21, R57): tagged by `type` (`principal`, `tenant`,
/// `resource`, `grant`, `group`, `assignment`; `system` for the console, `unknown` for a
/// sign-in with a logon that names nobody), with its id and, where it has one, its logon,
/// key or name. The human name is left out when the entity no longer exists or the caller
/// may not see it (R58): the id alone says no more than the entry did before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct EntityRef {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    /// A principal's logon name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logon: Option<String>,
    /// A tenant's or resource's key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// A security group's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// What the caller may see, asked by [`EntityRef::named`] before it names anything.
pub trait MayName {
    fn principal(&self, p: PrincipalId) -> bool;
    fn tenant(&self, t: TenantId) -> bool;
    fn group(&self, owner: deputy_core::GroupOwner) -> bool;
}

impl EntityRef {
    fn bare(kind: &str, id: &str) -> EntityRef {
        EntityRef { kind: kind.to_owned(), id: id.to_owned(), logon: None, key: None, name: None }
    }

    /// The entity an activity entry's stored id names, named as far as `sight` allows.
    pub fn named(s: &Snapshot, sight: &impl MayName, stored: &str) -> EntityRef {
        use deputy_core::{AssignmentId, GrantId, GroupId};
        if let Ok(p) = stored.parse::<PrincipalId>() {
            let logon = s
                .principal(p)
                .filter(|_| sight.principal(p))
                .map(|principal| principal.logon.to_string());
            return EntityRef { logon, ..EntityRef::bare("principal", stored) };
        }
        if let Ok(t) = stored.parse::<TenantId>() {
            let key = s.tenant(t).filter(|_| sight.tenant(t)).map(|tenant| tenant.key.clone());
            return EntityRef { key, ..EntityRef::bare("tenant", stored) };
        }
        if let Ok(r) = stored.parse::<ResourceId>() {
            let key = s
                .resource(r)
                .filter(|resource| sight.tenant(resource.tenant))
                .map(|resource| resource.key.to_string());
            return EntityRef { key, ..EntityRef::bare("resource", stored) };
        }
        if let Ok(g) = stored.parse::<GroupId>() {
            let name = s.group(g).filter(|g| sight.group(g.owner)).map(|g| g.name.clone());
            return EntityRef { name, ..EntityRef::bare("group", stored) };
        }
        if stored.parse::<GrantId>().is_ok() {
            return EntityRef::bare("grant", stored);
        }
        if stored.parse::<AssignmentId>().is_ok() {
            return EntityRef::bare("assignment", stored);
        }
        match stored {
            "system" | "cli" => EntityRef::bare("system", stored),
            _ => EntityRef::bare("unknown", stored),
        }
    }
}
