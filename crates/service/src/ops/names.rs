//! The names an operation is given, resolved on the state it decides on, each refusal
//! naming the input field that was wrong (R57).

use crate::resolve::{self, NotFound};
use deputy_core::{
    AssignmentId, CommandError, GrantId, GroupId, KindId, PrincipalId, ResourceId, RoleId, State,
    TenantId, TypeId,
};

fn unknown(field: &'static str) -> impl Fn(NotFound) -> CommandError {
    move |e| CommandError::unknown(field, e.0)
}

pub fn tenant(s: &State, name: &str, field: &'static str) -> Result<TenantId, CommandError> {
    resolve::tenant(s, name).map_err(unknown(field))
}

pub fn principal(s: &State, name: &str, field: &'static str) -> Result<PrincipalId, CommandError> {
    resolve::principal(s, name).map_err(unknown(field))
}

pub fn resource(s: &State, name: &str, field: &'static str) -> Result<ResourceId, CommandError> {
    resolve::resource(s, name).map_err(unknown(field))
}

pub fn group(s: &State, name: &str, field: &'static str) -> Result<GroupId, CommandError> {
    resolve::group(s, name).map_err(unknown(field))
}

pub fn role(s: &State, name: &str, field: &'static str) -> Result<RoleId, CommandError> {
    resolve::role(s, name).map_err(unknown(field))
}

pub fn roles(
    s: &State,
    names: &[String],
    field: &'static str,
) -> Result<Vec<RoleId>, CommandError> {
    names.iter().map(|r| role(s, r, field)).collect()
}

/// A resource kind by name (R38); whether it fits a resource's type, the engine decides.
pub fn kind(s: &State, name: &str, field: &'static str) -> Result<KindId, CommandError> {
    s.catalog
        .kind_by_name(name)
        .ok_or_else(|| CommandError::unknown(field, format!("no kind named `{name}`")))
}

/// Kinds by name (R38); none given: all kinds.
pub fn kinds(
    s: &State,
    names: Option<&[String]>,
    field: &'static str,
) -> Result<Option<Vec<KindId>>, CommandError> {
    names.map(|ks| ks.iter().map(|k| kind(s, k, field)).collect()).transpose()
}

/// Groups by id (R35); none given: Full Access.
pub fn groups(
    s: &State,
    names: Option<&[String]>,
    field: &'static str,
) -> Result<Option<Vec<GroupId>>, CommandError> {
    names.map(|gs| gs.iter().map(|g| group(s, g, field)).collect()).transpose()
}

pub fn resource_type(s: &State, name: &str, field: &'static str) -> Result<TypeId, CommandError> {
    s.catalog
        .type_id(name)
        .ok_or_else(|| CommandError::unknown(field, format!("no resource type `{name}`")))
}

pub fn grant(text: &str, field: &'static str) -> Result<GrantId, CommandError> {
    text.parse().map_err(|_| CommandError::unknown(field, format!("no grant `{text}`")))
}

pub fn assignment(text: &str, field: &'static str) -> Result<AssignmentId, CommandError> {
    text.parse().map_err(|_| CommandError::unknown(field, format!("no assignment `{text}`")))
}
