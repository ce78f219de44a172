//! How one view names another entity (R57: every view carries the object's id and its
//! human key or logon): tenants as `{id, key}`, principals as `{id, logon}`, resources
//! as `{id, key}`, and check targets as either, tagged with `type`.

use deputy_core::{PrincipalId, ResourceId, State as Snapshot, Target, TenantId};
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
