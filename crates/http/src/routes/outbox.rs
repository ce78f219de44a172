//! The mail outbox (R61) for holders of `outbox.view` in the root.

use super::{ApiQuery, blocking, holds, page_limit};
use crate::caller::Authed;
use crate::openapi::ErrorsOfRead;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use deputy_store::secrets::SecretStore;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Where a page starts and how long it is, in the query.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OutboxParams {
    /// Where to continue: the `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{1,19}$")]
    pub cursor: Option<String>,
    /// Items per page, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MailView {
    pub id: i64,
    pub created_at: i64,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<i64>,
    pub attempts: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MailPage {
    pub items: Vec<MailView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The mail outbox (R61), for holders of `outbox.view` in the root.
#[utoipa::path(get, path = "/v1/outbox", tag = "operations", params(OutboxParams),
    responses((status = 200, description = "a page of mails, oldest first", body = MailPage),
    ErrorsOfRead,
    (status = 400, description = "`limit` out of range, or a `cursor` not of this list", body = Problem, content_type = "application/problem+json")))]
pub async fn outbox(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiQuery(params): ApiQuery<OutboxParams>,
) -> Result<Json<MailPage>, ApiError> {
    let s = app.deputy().snapshot();
    let root = s.root().ok_or_else(|| ApiError::not_found("no outbox"))?;
    if !holds(&app, &s, caller.actor(), deputy_core::perms::OUTBOX_VIEW, root) {
        return Err(ApiError::not_found("no outbox"));
    }
    let limit = page_limit(params.limit)?;
    let after = super::parse_cursor(params.cursor.as_deref())?
        .map_or(0, |a| i64::try_from(a).unwrap_or(i64::MAX));
    let worker = app.clone();
    let mut rows = blocking(move || {
        worker.deputy().store().outbox(after, limit + 1).map_err(ApiError::internal)
    })
    .await?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = if more { rows.last().map(|r| r.id.to_string()) } else { None };
    let items = rows
        .into_iter()
        .map(|r| MailView {
            id: r.id,
            created_at: r.created_ms,
            recipient: r.recipient,
            subject: r.subject,
            body: r.body,
            sent_at: r.sent_ms,
            attempts: r.attempts,
            last_error: r.last_error,
        })
        .collect();
    Ok(Json(MailPage { items, next_cursor }))
}
