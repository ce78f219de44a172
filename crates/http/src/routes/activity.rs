//! The activity log over HTTP (R21), paged with an opaque cursor and filtered to what the
//! caller may see.

use super::ApiQuery;
use super::paging::{Page, PageParams};
use super::refs::EntityRef;
use crate::caller::Authed;
use crate::openapi::ErrorsOfRead;
use crate::problem::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use deputy_service::resolve;
use deputy_store::{ActivityQuery, Store};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ActivityParams {
    /// Entries about this principal (as actor or subject): the caller itself, or one in a
    /// tenant where the caller holds `activity.view`.
    pub principal: Option<String>,
    /// Entries in this tenant, for holders of `activity.view` there.
    pub tenant: Option<String>,
    /// Entries whose action starts with this (`principal.`, `auth.`).
    pub action: Option<String>,
    /// Where to continue: the `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{1,19}$")]
    pub cursor: Option<String>,
    /// Entries per page, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActivityView {
    pub seq: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<u64>,
    pub at: i64,
    pub action: String,
    /// Who did it: a principal (while impersonating, the impersonator, R49), or `system`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<EntityRef>,
    /// Whom or what it was done to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<EntityRef>,
    /// The tenant it happened in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<EntityRef>,
    /// The acting-as chain: `{"switched_into": tenant}`, `{"impersonating": principal}`,
    /// each named as `actor` is.
    #[schema(value_type = Vec<Object>)]
    pub acting_as: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// The activity log (R21), filtered to what the caller may see: its own activity, and
/// that of tenants where it holds `activity.view`. Defaults to the caller's own.
#[utoipa::path(get, path = "/v1/activity", tag = "activity", params(ActivityParams), responses(
    (status = 200, description = "a page of activity entries, oldest first", body = Page<ActivityView>), ErrorsOfRead))]
pub async fn activity(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiQuery(params): ApiQuery<ActivityParams>,
) -> Result<Json<Page<ActivityView>>, ApiError> {
    let s = app.deputy().snapshot();
    let actor = caller.actor();
    let paging = PageParams { cursor: params.cursor.clone(), limit: params.limit };
    let limit = paging.limit()?;
    let after = paging.after()?.unwrap_or(0);
    let tenant = params
        .tenant
        .as_deref()
        .map(|t| {
            resolve::tenant(&s, t)
                .map_err(|_| ApiError::not_found(format!("no tenant `{t}`")).field("tenant"))
        })
        .transpose()?;
    if let Some(t) = tenant
        && !super::holds(&app, &s, actor, deputy_core::perms::ACTIVITY_VIEW, t)
    {
        return Err(ApiError::not_found(format!("no tenant `{t}`")).field("tenant"));
    }
    let principal = match params.principal.as_deref() {
        Some(p) => {
            let id = resolve::principal(&s, p).map_err(|_| {
                ApiError::not_found(format!("no principal `{p}`")).field("principal")
            })?;
            let home = s.principal(id).map(|x| x.home);
            let own = id == caller.principal;
            if !own
                && !home.is_some_and(|h| {
                    super::holds(&app, &s, actor, deputy_core::perms::ACTIVITY_VIEW, h)
                })
            {
                return Err(ApiError::not_found(format!("no principal `{p}`")).field("principal"));
            }
            Some(id)
        }
        // Without filters: the caller's own activity.
        None if tenant.is_none() => Some(caller.principal),
        None => None,
    };
    let query = ActivityQuery {
        after_seq: after,
        limit: limit + 1,
        principal: principal.map(|p| p.to_string()),
        tenant: tenant.map(|t| t.to_string()),
        action_prefix: params.action.clone(),
    };
    let worker = app.clone();
    let mut entries = super::blocking(move || {
        worker.deputy().store().activity(&query).map_err(ApiError::internal)
    })
    .await?;
    let more = entries.len() > limit;
    entries.truncate(limit);
    let next_cursor = if more { entries.last().map(|e| e.seq.to_string()) } else { None };
    // Named only as far as the caller may see (R58): the stored ids stay, names are added.
    let sight = super::checks::Sight::new(&app, &s, &caller);
    let name = |stored: &str| EntityRef::named(&s, &sight, stored);
    let items = entries
        .into_iter()
        .map(|e| ActivityView {
            seq: e.seq,
            revision: e.revision,
            at: e.entry.at_ms,
            action: e.entry.action,
            actor: e.entry.actor.as_deref().map(name),
            subject: e.entry.subject.as_deref().map(name),
            tenant: e.entry.tenant.as_deref().map(name),
            acting_as: named_chain(&e.entry.acting_as, &name),
            source: e.entry.source,
            details: serde_json::from_str(&e.entry.details).unwrap_or(serde_json::Value::Null),
        })
        .collect();
    Ok(Json(Page { items, next_cursor }))
}

/// The stored acting-as chain (`[{"switched_into": "t3"}, {"impersonating": "p7"}]`) with
/// each id named as an [`EntityRef`].
fn named_chain(stored: &str, name: &impl Fn(&str) -> EntityRef) -> serde_json::Value {
    let mut chain: serde_json::Value =
        serde_json::from_str(stored).unwrap_or(serde_json::Value::Null);
    for link in chain.as_array_mut().into_iter().flatten() {
        for value in link.as_object_mut().into_iter().flat_map(|o| o.values_mut()) {
            if let Some(id) = value.as_str() {
                *value = serde_json::to_value(name(id)).unwrap_or(serde_json::Value::Null);
            }
        }
    }
    chain
}
