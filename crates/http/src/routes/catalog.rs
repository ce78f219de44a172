//! The catalog over HTTP (R25): read with its `ETag`, replaced only with a matching `If-Match`.

use super::{ApiJson, op};
use crate::caller::Authed;
use crate::openapi::{ErrorsOfCaller, ErrorsOfWrite};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
pub use deputy_service::ops::access::catalog_etag;
use deputy_service::ops::{self, Asker};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CatalogView {
    /// The catalog as TOML (R25).
    pub toml: String,
}

fn with_etag(mut response: Response, etag: &str) -> Response {
    if let Ok(value) = axum::http::HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// The permission catalog and roles (R25), with its `ETag` for a guarded change.
#[utoipa::path(get, path = "/v1/catalog", tag = "catalog", responses(
    (status = 200, description = "the catalog", body = CatalogView,
        headers(("ETag" = String, description = "the catalog's entity tag: send it as `If-Match` to change it"))),
    ErrorsOfCaller))]
pub async fn catalog(State(app): State<AppState>, Authed(_caller): Authed) -> Response {
    let toml = app.deputy().snapshot().catalog.source.clone();
    let etag = catalog_etag(&toml);
    with_etag(Json(CatalogView { toml }).into_response(), &etag)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogChange {
    pub toml: String,
}

/// Replaces the catalog (R25: `catalog.manage` in the root; cycles refused; existing ids
/// kept). Guarded: `If-Match` must carry the `ETag` of the catalog being replaced (or
/// `*`), else nothing changes (412; 428 without `If-Match`).
#[utoipa::path(put, path = "/v1/catalog", tag = "catalog", request_body = CatalogChange,
    params(("If-Match" = String, Header, description = "the `ETag` of the catalog this change replaces, from `GET /v1/catalog` (or `*`)")),
    responses(
    (status = 204, description = "changed", headers(("ETag" = String, description = "the new catalog's entity tag"))),
    ErrorsOfWrite,
    (status = 412, description = "`If-Match` does not hold the current catalog's `ETag`: it changed since it was read; nothing changed", body = Problem, content_type = "application/problem+json"),
    (status = 428, description = "no `If-Match`: a catalog change must name the catalog it replaces", body = Problem, content_type = "application/problem+json")))]
pub async fn change_catalog(
    State(app): State<AppState>,
    Authed(caller): Authed,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<CatalogChange>,
) -> Result<Response, ApiError> {
    let if_match = headers
        .get(header::IF_MATCH)
        .map(|v| v.to_str().map(str::to_owned))
        .transpose()
        .map_err(|_| ApiError::bad_request("`If-Match` is not visible ASCII").field("If-Match"))?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::PRECONDITION_REQUIRED,
                "precondition-required",
                "A precondition is required",
                "send `If-Match` with the `ETag` of `GET /v1/catalog`, so a change never overwrites one made since it was read",
            )
            .field("If-Match")
            .rule("R25")
        })?;
    let committed = op(&app, move |ctx| {
        ops::access::change_catalog(ctx, Asker::new(caller.actor(), None), &if_match, &body.toml)
    })
    .await
    .map_err(|e| {
        if e.status() == StatusCode::CONFLICT && e.problem().field.as_deref() == Some("If-Match") {
            ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                "The precondition failed",
                e.problem().detail,
            )
            .field("If-Match")
            .rule("R25")
        } else {
            e
        }
    })?;
    let etag = catalog_etag(&app.deputy().snapshot().catalog.source);
    Ok(with_etag(super::written(&committed, StatusCode::NO_CONTENT), &etag))
}
