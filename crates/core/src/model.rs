//! The entities of a deployment, as the engine stores them.
//!
//! These are domain types: storage rows and API documents are separate types with explicit
//! conversions. Fields marked `serde(skip)` are derived by [`crate::State::apply`] and never
//! travel in the change log.

use crate::ids::*;
use crate::perm_set::PermSet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// An organization (R1–R9).
///
/// `repr(C)` keeps the fields a check reads first, together in one cache line.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[repr(C)]
pub struct Tenant {
    pub id: TenantId,
    /// Itself or an ancestor is suspended (R8).
    #[serde(skip)]
    pub blocked: bool,
    /// Holds clients (R40–R47).
    pub partner: bool,
    /// Suspended by a holder of `tenants.manage` over it (R8).
    pub suspended: bool,
    /// Once true, R5 keeps an active admin.
    pub had_admin: bool,
    /// Whether users may create delegates (R34, on by default) and delegates may (off).
    pub delegates_allowed: bool,
    pub nested_delegates_allowed: bool,
    /// Root first, the tenant itself last.
    #[serde(skip)]
    pub ancestors: Arc<[TenantId]>,
    /// Own set ∩ parent's effective set; the root has every non-core permission (R3).
    #[serde(skip)]
    pub entitlements: PermSet,
    /// Unique, case-insensitive handle (`natural-health`).
    pub key: String,
    pub name: String,
    pub parent: Option<TenantId>,
    /// Visible to the tenant's users (R9).
    pub description: String,
    /// Visible only to holders of `tenants.manage` over it or in it through a grant (R9).
    pub internal_description: String,
    /// The tenant's own entitlement set; the effective one is derived (R3).
    pub own_entitlements: PermSet,
    /// At most one, and one whenever the tenant has active users (R4).
    pub contact: Option<PrincipalId>,
    /// The role new principals get (R19); `None`: the catalog's default.
    pub default_role: Option<RoleId>,
    pub created_at: Millis,
}

impl Tenant {
    #[inline]
    pub fn depth(&self) -> usize {
        self.ancestors.len().saturating_sub(1)
    }
}

/// The status machine of R11.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Invited,
    Active,
    Deactivated,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Invited => "invited",
            Status::Active => "active",
            Status::Deactivated => "deactivated",
            Status::Cancelled => "cancelled",
        }
    }
}

/// What sort of principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    User,
    /// A secondary logon acting for `owner` (R34–R39).
    Delegate {
        owner: PrincipalId,
    },
    ServiceAccount,
}

/// The groups a delegate may act for (R35).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupAccess {
    /// All the owner's groups, present and future.
    Full,
    Groups(Vec<GroupId>),
}

/// The resource kinds a delegate may act on (R38).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KindAccess {
    All,
    Kinds(Vec<KindId>),
}

/// How a delegate is limited (R35, R38, R17).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegateAccess {
    pub groups: GroupAccess,
    pub kinds: KindAccess,
    /// Narrowing roles: when non-empty, the delegate may only do what these hold.
    pub roles: Vec<RoleId>,
    /// Signs in with the owner's password (R17).
    pub linked_password: bool,
}

impl DelegateAccess {
    pub fn full() -> Self {
        DelegateAccess {
            groups: GroupAccess::Full,
            kinds: KindAccess::All,
            roles: Vec::new(),
            linked_password: false,
        }
    }
}

/// A typed custom attribute (R18).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AttributeValue {
    Bool(bool),
    Integer(i64),
    Text(String),
}

/// A user, delegate or service account.
///
/// `repr(C)` keeps the fields a check reads first, together in one or two cache lines.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[repr(C)]
pub struct Principal {
    pub id: PrincipalId,
    pub kind: PrincipalKind,
    pub home: TenantId,
    pub status: Status,
    pub email_verified: bool,
    pub assignments: Arc<[Assignment]>,
    /// Present for delegates.
    pub delegate: Option<Box<DelegateAccess>>,
    /// Unique across the deployment (R10).
    pub logon: Box<str>,
    /// The name's collision key ([`crate::names::collision_key`]), kept so a replay need
    /// not recompute it; empty means "compute it".
    #[serde(default, skip_serializing_if = "str::is_empty")]
    pub logon_key: Box<str>,
    pub first_name: Box<str>,
    pub last_name: Box<str>,
    pub email: Box<str>,
    pub phone: Option<Box<str>>,
    /// Why the status last changed, when the system changed it ("replaced by partner access").
    pub status_reason: Option<Box<str>>,
    /// How many times the status changed. Credentials made before a change carry an older
    /// number and are refused (R12, R23: sessions, invitations and resets die at any status
    /// change), whichever process or shell made the change.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub status_serial: u32,
    pub description: Box<str>,
    pub internal_description: Box<str>,
    pub attributes: BTreeMap<String, AttributeValue>,
    pub created_at: Millis,
    /// Since when the principal is an admin of its home tenant, for R4's "longest-serving".
    pub created_revision: u64,
}

impl Principal {
    pub fn owner(&self) -> Option<PrincipalId> {
        match self.kind {
            PrincipalKind::Delegate { owner } => Some(owner),
            _ => None,
        }
    }

    pub fn is_active(&self) -> bool {
        self.status == Status::Active
    }

    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name).trim().to_owned()
    }
}

/// What an assignment gives: a role, or one permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bundle {
    Role(RoleId),
    Permission(PermId),
}

/// Where an assignment holds (R32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// A direct role in a tenant; with `subtree`, also in its descendants (R2).
    Tenant { tenant: TenantId, subtree: bool },
    /// A direct role on one resource and its descendant resources.
    Resource { resource: ResourceId },
    /// A partner role for one client (R41), counted only when switched into it.
    Client { client: TenantId },
    /// A partner role for every client in one of the partner tenant's groups (R41).
    Group { group: GroupId },
}

impl Scope {
    /// Partner-given (R41) rather than direct.
    pub fn is_partner(&self) -> bool {
        matches!(self, Scope::Client { .. } | Scope::Group { .. })
    }
}

/// Who made a change, for provenance (R69).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    /// The deployment itself (bootstrap, the CLI operator, R4/R19 system assignments).
    System,
    Principal(PrincipalId),
}

/// A role or permission given to a principal (R32).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub id: AssignmentId,
    pub bundle: Bundle,
    pub scope: Scope,
    pub expires_at: Option<Millis>,
    pub created_by: Author,
    pub created_at: Millis,
}

impl Assignment {
    #[inline]
    pub fn live(&self, now: Millis) -> bool {
        self.expires_at.is_none_or(|t| now < t)
    }
}

/// A resource: something inside a tenant that access is checked on.
///
/// `repr(C)`: the fields a check reads come first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[repr(C)]
pub struct Resource {
    pub id: ResourceId,
    pub tenant: TenantId,
    pub kind: Option<KindId>,
    pub parent: Option<ResourceId>,
    pub resource_type: TypeId,
    /// Unique across the deployment, case-insensitive (`nh-withholding`).
    pub key: Box<str>,
    pub name: Box<str>,
    pub created_at: Millis,
}

/// The state of a partner grant (R40).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantStatus {
    /// Waiting for the client's approval.
    Proposed,
    Active,
    Revoked,
}

/// A client C letting partner P act in C (R40–R47).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Grant {
    pub id: GrantId,
    pub client: TenantId,
    pub partner: TenantId,
    /// The roles P's users may be given in C.
    pub ceiling: Vec<RoleId>,
    /// When set, only resources of these kinds (R38, R41).
    pub kinds: Option<Vec<KindId>>,
    /// Reaches C's descendants too (R47).
    pub subtree: bool,
    pub expires_at: Option<Millis>,
    pub auto_extend: bool,
    pub status: GrantStatus,
    /// For tenants a partner created under a client (R46): ceiling, expiry and revocation
    /// follow this grant.
    pub bound_to: Option<GrantId>,
    pub proposed_by: Author,
    pub approved_by: Option<Author>,
    pub created_at: Millis,
    pub approved_at: Option<Millis>,
    /// The expiry that both sides were last told about (R70), so they are told once.
    #[serde(default)]
    pub expiry_noticed: Option<Millis>,
    /// When it was revoked (R52: explain says since when).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Millis>,
}

/// Who owns a security group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupOwner {
    /// A user, to scope its delegates.
    User(PrincipalId),
    /// A partner tenant, to give its users access to clients in bulk.
    Tenant(TenantId),
}

/// A named set of tenants (R38). Membership lives in the state's placement map, so a
/// tenant is in exactly one group of each owner by construction.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    pub id: GroupId,
    pub owner: GroupOwner,
    pub name: String,
    /// The group named `Default`, which holds every tenant not placed elsewhere.
    pub is_default: bool,
    pub deleted: bool,
}

/// "Add Access to Another Business" (R37a): a single-use code for tenant `tenant` carrying
/// roles. Only the token's hash is kept; the token itself is shown once to its issuer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessCode {
    pub id: AccessCodeId,
    pub tenant: TenantId,
    pub roles: Vec<RoleId>,
    /// The hash of the token (computed by the service; the engine never sees the token).
    pub token_hash: String,
    pub expires_at: Millis,
    pub created_by: Author,
    pub created_at: Millis,
    /// The issuer held what it needed only through a grant (R43): the code then serves
    /// principals homed in the client's subtree alone.
    pub issued_via_grant: bool,
    pub redeemed_by: Option<PrincipalId>,
    pub revoked: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}
