//! A principal's profile over HTTP (R18, R28): names, contact, descriptions and typed
//! custom attributes.

use crate::caller::{Authed, Source};
use crate::openapi::ErrorsOfWrite;
use crate::problem::ApiError;
use crate::routes::{ApiJson, op, written};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use deputy_service::ops::{self, Asker};
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileRequest {
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Only for those who manage the principal (R18).
    #[serde(default)]
    pub internal_description: Option<String>,
    /// Typed custom attributes (R18); `null` removes one.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

impl ProfileRequest {
    /// The engine's profile update: attributes typed (R18), a value of no attribute type
    /// refused naming `attributes`.
    pub fn into_update(self) -> Result<deputy_core::commands::users::ProfileUpdate, ApiError> {
        use deputy_core::AttributeValue;
        let attributes = self
            .attributes
            .into_iter()
            .map(|(k, v)| {
                let value = match v {
                    serde_json::Value::Null => None,
                    serde_json::Value::Bool(b) => Some(AttributeValue::Bool(b)),
                    serde_json::Value::Number(n) if n.is_i64() => {
                        n.as_i64().map(AttributeValue::Integer)
                    }
                    serde_json::Value::String(t) => Some(AttributeValue::Text(t)),
                    _ => {
                        return Err(ApiError::new(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "invalid",
                            "The request is not valid",
                            format!("attribute `{k}`: a boolean, an integer, text or null"),
                        )
                        .field("attributes"));
                    }
                };
                Ok((k, value))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let update = deputy_core::commands::users::ProfileUpdate {
            first_name: self.first_name,
            last_name: self.last_name,
            email: self.email,
            phone: self.phone,
            description: self.description,
            internal_description: self.internal_description,
            attributes,
        };
        Ok(update)
    }
}

/// Changes a principal's profile: its own, or one it manages (R18, R28).
#[utoipa::path(patch, path = "/v1/principals/{id}", tag = "principals", request_body = ProfileRequest,
    params(("id" = String, Path, description = "principal id or logon name")),
    responses((status = 204, description = "changed"), ErrorsOfWrite))]
pub async fn update_profile(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ProfileRequest>,
) -> Result<Response, ApiError> {
    let update = body.into_update()?;
    let committed = op(&app, move |ctx| {
        ops::users::update_profile(ctx, Asker::new(caller.actor(), source.as_deref()), &id, update)
    })
    .await?;
    Ok(written(&committed, StatusCode::NO_CONTENT))
}
