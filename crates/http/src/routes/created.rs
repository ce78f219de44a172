//! What a write answers when it creates something (R57): one schema, [`Created`], for
//! every creation, naming the new entity as every view names it.

use super::refs::{PrincipalRef, ResourceRef, TenantRef};
use super::written;
use crate::state::AppState;
use axum::Json;
use axum::http::StatusCode;
use axum::response::Response;
use deputy_core::State as Snapshot;
use deputy_service::Committed;
use serde::Serialize;
use utoipa::ToSchema;

/// What a write created (R57): its `id`, unchanged and first, so a caller that read only
/// `id` reads it still; beside it the human name of what has one, as every view names it:
/// `key` for a tenant or resource, `logon` for a principal, `name` for a group. A grant has
/// only its id. One schema for every creation, so generated clients keep one type.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Created {
    pub id: String,
    /// A new tenant's or resource's key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// A new principal's logon name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logon: Option<String>,
    /// A new security group's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Created {
    fn id(id: impl std::fmt::Display) -> Created {
        Created { id: id.to_string(), key: None, logon: None, name: None }
    }
}

/// How a created entity is named in its [`Created`] answer.
pub(crate) trait CreatedAs {
    fn view(&self, s: &Snapshot) -> Created;
}

impl CreatedAs for deputy_core::TenantId {
    fn view(&self, s: &Snapshot) -> Created {
        Created { key: Some(TenantRef::of(s, *self).key), ..Created::id(self) }
    }
}

impl CreatedAs for deputy_core::ResourceId {
    fn view(&self, s: &Snapshot) -> Created {
        Created { key: Some(ResourceRef::of(s, *self).key), ..Created::id(self) }
    }
}

impl CreatedAs for deputy_core::PrincipalId {
    fn view(&self, s: &Snapshot) -> Created {
        Created { logon: Some(PrincipalRef::of(s, *self).logon), ..Created::id(self) }
    }
}

impl CreatedAs for deputy_core::GroupId {
    fn view(&self, s: &Snapshot) -> Created {
        let name = s.group(*self).map_or_else(String::new, |g| g.name.clone());
        Created { name: Some(name), ..Created::id(self) }
    }
}

impl CreatedAs for deputy_core::GrantId {
    fn view(&self, _: &Snapshot) -> Created {
        Created::id(self)
    }
}

/// 201 with what was created, named on the state the write made (R57).
pub(crate) fn created<T: CreatedAs>(app: &AppState, committed: &Committed<T>) -> Response {
    let view = committed.output.view(&app.deputy().snapshot());
    written(committed, (StatusCode::CREATED, Json(view)))
}
