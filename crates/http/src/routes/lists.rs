//! Lists, each paged with an opaque cursor (R57, R73): a page says where the next one
//! starts, and the last page says it is the last. Nothing is cut off silently.

use super::ApiQuery;
use super::principals::PrincipalView;
use super::refs::{EntityRef, TenantRef};
use crate::caller::Authed;
use crate::openapi::ErrorsOfRead;
use crate::problem::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use deputy_core::{Actor, PrincipalId, State as Snapshot, TenantId};
use deputy_service::resolve;
use deputy_store::{ActivityQuery, Store};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Where a page starts and how long it is, in the query.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// Where to continue: the `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{1,19}$")]
    pub cursor: Option<String>,
    /// Items per page, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

impl PageParams {
    pub(crate) fn limit(&self) -> Result<usize, ApiError> {
        super::page_limit(self.limit)
    }

    /// The cursor as the last id of the previous page.
    pub(crate) fn after(&self) -> Result<Option<u64>, ApiError> {
        super::parse_cursor(self.cursor.as_deref())
    }
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Present when more items follow: pass it as `cursor` for the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Pages `candidates` (ascending ids) after the cursor, keeping those `keep` accepts.
pub(crate) fn page<T>(
    candidates: impl Iterator<Item = u32>,
    params: &PageParams,
    mut keep: impl FnMut(u32) -> Option<T>,
) -> Result<Page<T>, ApiError> {
    let (after, limit) = (params.after()?, params.limit()?);
    let mut items = Vec::new();
    let mut last = None;
    let mut more = false;
    for id in candidates.filter(|id| after.is_none_or(|a| u64::from(*id) > a)) {
        if items.len() == limit {
            more = true;
            break;
        }
        if let Some(item) = keep(id) {
            items.push(item);
            last = Some(id);
        }
    }
    Ok(Page { items, next_cursor: if more { last.map(|l| l.to_string()) } else { None } })
}

/// The principals whose home is a tenant, for holders of `users.view` there (R58).
#[utoipa::path(get, path = "/v1/tenants/{id}/principals", tag = "principals",
    params(("id" = String, Path, description = "tenant id or key"), PageParams),
    responses((status = 200, description = "a page of the tenant's principals", body = Page<PrincipalView>), ErrorsOfRead))]
pub async fn tenant_principals(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<Page<PrincipalView>>, ApiError> {
    let s = app.deputy().snapshot();
    let not_found = || ApiError::not_found(format!("no tenant `{id}`"));
    let tenant = resolve::tenant(&s, &id).map_err(|_| not_found())?;
    if !super::holds(&app, &s, caller.actor(), deputy_core::perms::USERS_VIEW, tenant) {
        return Err(not_found());
    }
    let manages = super::holds(&app, &s, caller.actor(), deputy_core::perms::USERS_MODIFY, tenant);
    let mut ids: Vec<u32> = s.members(tenant).map(|p| p.id.0).collect();
    ids.sort_unstable();
    let page = page(ids.into_iter(), &params, |id| {
        s.principal(PrincipalId(id)).map(|p| PrincipalView::of(&s, p, manages))
    })?;
    Ok(Json(page))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TenantSummary {
    pub id: String,
    pub key: String,
    pub name: String,
    pub partner: bool,
    pub suspended: bool,
}

/// A tenant's sub-tenants the caller may view (`tenants.view`).
#[utoipa::path(get, path = "/v1/tenants/{id}/children", tag = "tenants",
    params(("id" = String, Path, description = "tenant id or key"), PageParams),
    responses((status = 200, description = "a page of the sub-tenants the caller may view", body = Page<TenantSummary>), ErrorsOfRead))]
pub async fn tenant_children(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<Page<TenantSummary>>, ApiError> {
    let s = app.deputy().snapshot();
    let not_found = || ApiError::not_found(format!("no tenant `{id}`"));
    let tenant = resolve::tenant(&s, &id).map_err(|_| not_found())?;
    let actor = caller.actor();
    let home = match actor {
        Actor::Principal { id, .. } => s.principal(id).map(|p| p.home),
        Actor::System => None,
    };
    if home != Some(tenant)
        && !super::holds(&app, &s, actor, deputy_core::perms::TENANTS_VIEW, tenant)
    {
        return Err(not_found());
    }
    let mut ids: Vec<u32> = s.children(tenant).map(|t| t.0).collect();
    ids.sort_unstable();
    let page = page(ids.into_iter(), &params, |id| {
        let t = s.tenant(TenantId(id))?;
        super::holds(&app, &s, actor, deputy_core::perms::TENANTS_VIEW, t.id).then(|| {
            TenantSummary {
                id: t.id.to_string(),
                key: t.key.clone(),
                name: t.name.clone(),
                partner: t.partner,
                suspended: t.suspended,
            }
        })
    })?;
    Ok(Json(page))
}

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

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GrantView {
    pub id: String,
    pub client: TenantRef,
    pub partner: TenantRef,
    /// `proposed`, `active`, `expired` (active, past its end) or `revoked`.
    pub status: String,
    pub ceiling: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<String>>,
    pub subtree: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    pub auto_extend: bool,
}

impl GrantView {
    pub fn of(s: &Snapshot, g: &deputy_core::Grant, now: deputy_core::Millis) -> GrantView {
        GrantView {
            id: g.id.to_string(),
            client: TenantRef::of(s, g.client),
            partner: TenantRef::of(s, g.partner),
            // An active grant past its end has ended by itself (R40, R52).
            status: match g.status {
                deputy_core::GrantStatus::Proposed => "proposed",
                deputy_core::GrantStatus::Active if g.expires_at.is_some_and(|t| now >= t) => {
                    "expired"
                }
                deputy_core::GrantStatus::Active => "active",
                deputy_core::GrantStatus::Revoked => "revoked",
            }
            .to_owned(),
            ceiling: g.ceiling.iter().map(|r| s.catalog.role_name(*r).to_owned()).collect(),
            kinds: g
                .kinds
                .as_ref()
                .map(|ks| ks.iter().map(|k| s.catalog.kind_name(*k).to_owned()).collect()),
            subtree: g.subtree,
            expires_at: g.expires_at,
            auto_extend: g.auto_extend,
        }
    }
}

/// One grant (R57: every entity a list names can be read on its own), for holders of
/// `partners.manage` or `tenants.view` in its client or its partner; for anyone else it
/// does not exist (R58).
#[utoipa::path(get, path = "/v1/grants/{id}", tag = "partners",
    params(("id" = String, Path, description = "grant id (`g3`)")),
    responses((status = 200, description = "the grant", body = GrantView), ErrorsOfRead))]
pub async fn grant(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<GrantView>, ApiError> {
    let s = app.deputy().snapshot();
    let not_found = || ApiError::not_found(format!("no grant `{id}`")).field("id");
    let g =
        id.parse::<deputy_core::GrantId>().ok().and_then(|g| s.grant(g)).ok_or_else(not_found)?;
    let actor = caller.actor();
    let sees = |t: TenantId| {
        super::holds(&app, &s, actor, deputy_core::perms::PARTNERS_MANAGE, t)
            || super::holds(&app, &s, actor, deputy_core::perms::TENANTS_VIEW, t)
    };
    if !sees(g.client) && !sees(g.partner) {
        return Err(not_found());
    }
    Ok(Json(GrantView::of(&s, g, app.deputy().now())))
}

/// The grants a tenant gave (R42 "Grant Access") and received ("Access Received"), for
/// holders of `partners.manage` or `tenants.view` there.
#[utoipa::path(get, path = "/v1/tenants/{id}/grants", tag = "partners",
    params(("id" = String, Path, description = "tenant id or key"), PageParams),
    responses((status = 200, description = "a page of the grants the tenant gave and received", body = Page<GrantView>), ErrorsOfRead))]
pub async fn tenant_grants(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<Page<GrantView>>, ApiError> {
    let s = app.deputy().snapshot();
    let not_found = || ApiError::not_found(format!("no tenant `{id}`"));
    let tenant = resolve::tenant(&s, &id).map_err(|_| not_found())?;
    let actor = caller.actor();
    if !super::holds(&app, &s, actor, deputy_core::perms::PARTNERS_MANAGE, tenant)
        && !super::holds(&app, &s, actor, deputy_core::perms::TENANTS_VIEW, tenant)
    {
        return Err(not_found());
    }
    let mut ids: Vec<u32> =
        s.grants_from(tenant).chain(s.grants_to(tenant)).map(|g| g.id.0).collect();
    ids.sort_unstable();
    ids.dedup();
    let now = app.deputy().now();
    let page = page(ids.into_iter(), &params, |id| {
        s.grant(deputy_core::GrantId(id)).map(|g| GrantView::of(&s, g, now))
    })?;
    Ok(Json(page))
}

/// A principal's secondary logons (R39: logon, name, e-mail, access type), for those who
/// may see the principal.
#[utoipa::path(get, path = "/v1/principals/{id}/delegates", tag = "delegates",
    params(("id" = String, Path, description = "the owner"), PageParams),
    responses((status = 200, description = "a page of the principal's secondary logons", body = Page<PrincipalView>), ErrorsOfRead))]
pub async fn delegates(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<Page<PrincipalView>>, ApiError> {
    let s = app.deputy().snapshot();
    let not_found = || ApiError::not_found(format!("no principal `{id}`"));
    let owner = resolve::principal(&s, &id).map_err(|_| not_found())?;
    let p = s.principal(owner).ok_or_else(not_found)?;
    if !super::sees(&app, &s, caller.actor(), p) {
        return Err(not_found());
    }
    let mut ids: Vec<u32> = s.delegates_of(owner).map(|d| d.0).collect();
    ids.sort_unstable();
    let page = page(ids.into_iter(), &params, |id| {
        s.principal(PrincipalId(id)).map(|d| PrincipalView::of(&s, d, false))
    })?;
    Ok(Json(page))
}
