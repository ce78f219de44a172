//! A service account's API keys (R24): created (the key shown once), listed by id, newest
//! first, and revoked.

use crate::caller::Authed;
use crate::openapi::{ErrorsOfRead, ErrorsOfWrite};
use crate::problem::{ApiError, Problem};
use crate::routes::{ApiJson, ApiQuery, blocking, holds, op, page_limit};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use deputy_core::{PrincipalId, State as Snapshot};
use deputy_service::auth::Caller;
use deputy_service::ops::{self, Asker};
use deputy_service::resolve;
use deputy_store::secrets::{SecretKind, SecretStore};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// A name to recognise the key by.
    pub name: String,
    /// Milliseconds since the Unix epoch; none: no expiry.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKeyCreated {
    /// Shown once; stored only as a hash (R24).
    pub key: String,
}

/// Creates an API key for a service account (R24); needs `keys.manage` in its home tenant.
#[utoipa::path(post, path = "/v1/principals/{id}/api-keys", tag = "principals", request_body = NewApiKey,
    params(("id" = String, Path, description = "service account id or name")),
    responses(
    (status = 201, description = "the new key, shown this once", body = ApiKeyCreated),
    ErrorsOfWrite))]
pub async fn create_api_key(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewApiKey>,
) -> Result<Response, ApiError> {
    let key = op(&app, move |ctx| {
        let by = Asker::new(caller.actor(), None);
        ops::users::create_api_key(ctx, by, &id, &body.name, body.expires_at)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(ApiKeyCreated { key })).into_response())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKeyView {
    /// A handle for revoking it (not the key).
    pub id: String,
    pub name: String,
    pub created_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

fn may_manage_keys(app: &AppState, s: &Snapshot, caller: &Caller, account: PrincipalId) -> bool {
    s.principal(account)
        .is_some_and(|p| holds(app, s, caller.actor(), deputy_core::perms::KEYS_MANAGE, p.home))
}

/// A service account's API keys, with their last use (R24).
#[utoipa::path(get, path = "/v1/principals/{id}/api-keys", tag = "principals",
    params(("id" = String, Path, description = "service account id or name"), ApiKeyParams),
    responses((status = 200, description = "a page of the account's keys, newest first", body = ApiKeyPage),
    ErrorsOfRead,
    (status = 400, description = "`limit` out of range", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "`cursor` is no key of this list (now)", body = Problem, content_type = "application/problem+json")))]
pub async fn list_api_keys(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<ApiKeyParams>,
) -> Result<Json<ApiKeyPage>, ApiError> {
    let limit = page_limit(params.limit)?;
    let s = app.deputy().snapshot();
    let not_found = || ApiError::not_found(format!("no principal `{id}`"));
    let account = resolve::principal(&s, &id).map_err(|_| not_found())?;
    if !may_manage_keys(&app, &s, &caller, account) {
        return Err(not_found());
    }
    let worker = app.clone();
    let rows = blocking(move || {
        worker
            .deputy()
            .store()
            .secrets_of(account.0, SecretKind::ApiKey)
            .map_err(ApiError::internal)
    })
    .await?;
    let views: Vec<ApiKeyView> = rows
        .into_iter()
        .map(|r| {
            let data: deputy_service::auth::SessionData =
                serde_json::from_str(&r.data).unwrap_or_default();
            ApiKeyView {
                id: r.hash.chars().take(16).collect(),
                name: data.name.unwrap_or_default(),
                created_at: r.created_ms,
                last_used_at: r.last_used_ms,
                expires_at: r.expires_ms,
            }
        })
        .collect();
    // The cursor is the id of the last key of the previous page (newest first).
    let start = match params.cursor.as_deref() {
        None => 0,
        // A key id that is not (or no longer) in the list: well-formed, so 422, not 400.
        Some(c) => views.iter().position(|k| k.id == c).map(|i| i + 1).ok_or_else(|| {
            ApiError::invalid("cursor", format!("`{c}` is not a cursor of this list"))
        })?,
    };
    let end = (start + limit).min(views.len());
    let next_cursor = (end < views.len()).then(|| views[end - 1].id.clone());
    Ok(Json(ApiKeyPage { items: views[start..end].to_vec(), next_cursor }))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKeyPage {
    pub items: Vec<ApiKeyView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Revokes an API key at once (R24).
#[utoipa::path(delete, path = "/v1/principals/{id}/api-keys/{key}", tag = "principals",
    params(("id" = String, Path, description = "service account id or name"), ("key" = String, Path, description = "the key's id from the list")),
    responses((status = 204, description = "revoked"), ErrorsOfRead))]
pub async fn revoke_api_key(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Path((id, key)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    op(&app, move |ctx| {
        ops::users::revoke_api_key(ctx, Asker::new(caller.actor(), None), &id, &key)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A page of a service account's keys: after the key whose id is the cursor.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyParams {
    /// Where to continue: the `next_cursor` of the previous page (a key's id).
    #[param(pattern = "^[0-9a-f]{16}$")]
    pub cursor: Option<String>,
    /// Keys per page, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}
