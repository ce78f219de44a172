//! Dense numeric ids. Entities live in vectors indexed by their id, so a lookup on the
//! check path is an index, not a hash.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u32);

        impl $name {
            /// The position of the entity in its table.
            #[inline]
            pub fn index(self) -> usize {
                self.0 as usize
            }
            /// The prefix of the external form (`t12`, `p7`, …).
            pub const PREFIX: &'static str = $prefix;
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = ();
            fn from_str(text: &str) -> Result<Self, ()> {
                text.strip_prefix($prefix).and_then(|n| n.parse().ok()).map($name).ok_or(())
            }
        }
    };
}

id_type!(
    /// A tenant.
    TenantId, "t");
id_type!(
    /// A user, delegate or service account.
    PrincipalId, "p");
id_type!(
    /// A resource inside a tenant.
    ResourceId, "r");
id_type!(
    /// A partner grant.
    GrantId, "g");
id_type!(
    /// A security group.
    GroupId, "sg");
id_type!(
    /// A permission of the catalog.
    PermId, "perm");
id_type!(
    /// A role of the catalog.
    RoleId, "role");
id_type!(
    /// A resource type of the catalog.
    TypeId, "type");
id_type!(
    /// A resource kind of the catalog.
    KindId, "kind");
id_type!(
    /// An access code (R37a).
    AccessCodeId, "ac");
id_type!(
    /// An assignment (unique across the deployment, never reused).
    AssignmentId, "a");

/// Milliseconds since the Unix epoch. The engine never reads a clock: callers pass `now`.
pub type Millis = i64;
