//! Tenants (R59): a tenant with its parent and sub-tenants (R1, R2, R9), and the
//! new-account wizard (R1, R46) whose second step adds the first user on the Users page
//! (generated password, must change: R14).

use super::tenant_name;
use crate::call;
use crate::flash::{Flash, redirect_with};
use crate::layout::{action_button, csrf, error_box, page_with_status};
use crate::viewer::Viewer;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::Form;
use deputy_core::commands::tenants::NewTenant;
use deputy_http::AppState;
use deputy_http::caller::Source;
use deputy_http::routes::ApiQuery;
use deputy_http::routes::paging::PageParams;
use deputy_http::routes::tenants::{get_tenant, tenant_children};
use deputy_service::ops;
use deputy_service::ops::tenants::Wizard;
use maud::html;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct TenantQuery {
    tenant: Option<String>,
}

/// The kinds of new account, as the wizard offers them.
const KINDS: [(&str, &str); 4] = [
    ("sub-tenant", "A sub-tenant of this tenant"),
    ("sub-account", "A sub-account of this customer (as its partner)"),
    ("parent-account", "A parent account above this customer (as its partner)"),
    ("customer", "New account for a new customer (as a partner)"),
];

async fn render(
    app: &AppState,
    viewer: &Viewer,
    flash: &Flash,
    tenant: Option<String>,
    refused: Option<(StatusCode, String)>,
) -> Response {
    let s = app.deputy().snapshot();
    let tenant =
        tenant.or_else(|| viewer.acting_tenant(&s).map(|t| t.to_string())).unwrap_or_default();
    let t = match get_tenant(State(app.clone()), viewer.authed(), Path(tenant.clone())).await {
        Ok(axum::Json(t)) => t,
        Err(e) => {
            let body = html! { (error_box(Some(&call::refusal(&e)))) };
            return page_with_status(app, viewer, flash, e.status(), "Tenants", body);
        }
    };
    let children = tenant_children(
        State(app.clone()),
        viewer.authed(),
        Path(t.id.clone()),
        ApiQuery(PageParams { cursor: None, limit: Some(1000) }),
    )
    .await
    .map(|axum::Json(p)| p.items)
    .unwrap_or_default();
    let id = deputy_service::resolve::tenant(&s, &t.id).ok();
    let manages = id.is_some_and(|x| viewer.holds(app, &s, deputy_core::perms::TENANTS_MANAGE, x));
    let parent_visible = t
        .parent
        .as_ref()
        .map(|p| p.id.as_str())
        .and_then(|p| deputy_service::resolve::tenant(&s, p).ok())
        .is_some_and(|p| viewer.holds(app, &s, deputy_core::perms::TENANTS_VIEW, p));
    // R3: only from above; the tenant's own admins do not entitle themselves.
    let entitles = t
        .parent
        .as_ref()
        .map(|p| p.id.as_str())
        .and_then(|p| deputy_service::resolve::tenant(&s, p).ok())
        .is_some_and(|p| viewer.holds(app, &s, deputy_core::perms::ENTITLEMENTS_MANAGE, p));
    // The path from the root: names link where the viewer may look (R58).
    let mut ancestors = Vec::new();
    let mut up = id.and_then(|x| s.tenant(x)).and_then(|x| x.parent);
    while let Some(a) = up {
        let Some(at) = s.tenant(a) else { break };
        let visible = viewer.holds(app, &s, deputy_core::perms::TENANTS_VIEW, a);
        ancestors.push((visible.then_some(a), at.name.clone()));
        up = at.parent;
    }
    ancestors.reverse();
    // R8: suspension and the partner flag are set from above.
    let from_above = t
        .parent
        .as_ref()
        .map(|p| p.id.as_str())
        .and_then(|p| deputy_service::resolve::tenant(&s, p).ok())
        .is_some_and(|p| viewer.holds(app, &s, deputy_core::perms::TENANTS_MANAGE, p));
    let (status, error) = refused.map_or((StatusCode::OK, None), |(s, e)| (s, Some(e)));
    let body = html! {
        nav aria-label="Tenant path" {
            p.muted {
                @for (i, (a, name)) in ancestors.iter().enumerate() {
                    @if i > 0 { " › " }
                    @if let Some(a) = a { a href=(format!("/tenants?tenant={a}")) { (name) } } @else { (name) }
                }
            }
        }
        h2 { (t.name) " " span.muted { "(" (t.key) ")" } }
        dl {
            @if let Some(p) = &t.parent {
                dt { "Parent" }
                dd {
                    @if parent_visible { a href=(format!("/tenants?tenant={}", p.id)) { (tenant_name(&s, &p.id)) } }
                    @else { (tenant_name(&s, &p.id)) }
                }
            }
            @if !t.description.is_empty() { dt { "Description" } dd { (t.description) } }
            @if let Some(internal) = &t.internal_description {
                @if !internal.is_empty() { dt { "Internal description" } dd { (internal) } }
            }
            @if t.partner { dt { "Partner" } dd { "yes: it holds clients" } }
            @if t.suspended { dt { "Suspended" } dd { "yes" } }
            @if let Some(c) = &t.contact { dt { "Contact person" } dd { (super::principal_name(&s, &c.id)) } }
        }
        p { a href=(format!("/users?tenant={}", t.id)) { "Users of " (t.name) " (set roles, impersonate)" } }
        h2 { "Sub-tenants" }
        @if children.is_empty() { p.muted { "None." } }
        ul.tree {
            @for c in &children {
                li {
                    a href=(format!("/tenants?tenant={}", c.id)) { (c.name) }
                    @if c.partner { " " span.badge { "partner" } }
                    @if c.suspended { " " span.badge { "suspended" } }
                    (subtree(app, viewer, &s, &c.id, 1))
                }
            }
        }
        (error_box(error.as_deref()))
        @if from_above {
            h2 { "Status" }
            p {
                @if t.suspended {
                    (action_button(viewer, &format!("/tenants/{}/suspended/off", t.id), "Lift the suspension"))
                } @else {
                    form.inline method="post" action=(format!("/tenants/{}/suspended/on", t.id)) {
                        (csrf(&viewer.csrf))
                        button.danger type="submit" { "Suspend" }
                    }
                    " " span.muted { "Nobody has any permission in a suspended tenant or below it, and its people cannot sign in; nothing is deleted (R8)." }
                }
            }
            p {
                @if t.partner {
                    (action_button(viewer, &format!("/tenants/{}/partner/off", t.id), "No longer a partner"))
                } @else {
                    (action_button(viewer, &format!("/tenants/{}/partner/on", t.id), "Make it a partner"))
                }
            }
        }
        @if let Some(x) = id.filter(|_| entitles) {
            h2 { "Company-level permissions" }
            p.muted { "A permission switched off here is inert for every user of the tenant and below, until switched on again (R3)." }
            form.stack method="post" action=(format!("/tenants/{}/entitlements", t.id)) {
                (csrf(&viewer.csrf))
                @let own = s.tenant(x).map(|t| t.own_entitlements).unwrap_or_default();
                @for perm in s.catalog.entitleable.iter() {
                    label { input type="checkbox" name="permissions" value=(s.catalog.perm_name(perm)) checked[own.contains(perm)]; " " (s.catalog.perm_name(perm)) }
                }
                p { button type="submit" { "Save company-level permissions" } }
            }
        }
        @if manages || t.partner {
            h2 { "New account" }
            form.stack method="post" action=(format!("/tenants/new?tenant={}", t.id)) {
                (csrf(&viewer.csrf))
                fieldset {
                    legend { "What to create" }
                    @for (i, (value, label)) in KINDS.iter().enumerate() {
                        label { input type="radio" name="kind" value=(value) checked[i == 0]; " " (label) }
                    }
                }
                label for="key" { "Key (short, unique: letters, digits, dashes)" }
                input #key type="text" name="key" required;
                label for="name" { "Name" }
                input #name type="text" name="name" required;
                label for="description" { "Description (optional)" }
                input #description type="text" name="description";
                p { button type="submit" { "Next: its first user" } }
            }
        }
    };
    page_with_status(app, viewer, flash, status, "Tenants", body)
}

pub async fn page(
    State(app): State<AppState>,
    viewer: Viewer,
    flash: Flash,
    Query(query): Query<TenantQuery>,
) -> Response {
    render(&app, &viewer, &flash, query.tenant, None).await
}

#[derive(Debug, Deserialize)]
pub struct NewAccountForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
}

/// Step one of the wizard: the account; a partner's session then acts in it (R46), and
/// step two, its first user, is the Users page's form.
pub async fn create(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Query(query): Query<TenantQuery>,
    Form(form): Form<NewAccountForm>,
) -> Response {
    let at = query.tenant.clone().unwrap_or_default();
    let new = NewTenant {
        key: form.key.clone(),
        name: form.name.clone(),
        description: form.description.clone(),
        internal_description: String::new(),
    };
    let kind = form.kind.clone();
    let answer = call::op(&app, &viewer, &source, move |ctx, by| match kind.as_str() {
        "sub-account" => ops::tenants::create_account(ctx, by, &at, Wizard::SubAccount, new),
        "parent-account" => ops::tenants::create_account(ctx, by, &at, Wizard::ParentAccount, new),
        "customer" => ops::tenants::create_account(ctx, by, &at, Wizard::Customer, new),
        _ => ops::tenants::create(ctx, by, &at, new),
    })
    .await;
    let id = match answer {
        Ok(created) => created.output.to_string(),
        Err(e) => {
            let refused = Some((e.status(), call::refusal(&e)));
            return render(&app, &viewer, &Flash::default(), query.tenant, refused).await;
        }
    };
    let next = format!("/users?tenant={id}#add");
    let notice = format!("Account {} created. Now add its first user.", form.name);
    if form.kind == "sub-tenant" {
        return redirect_with(&app, &next, &notice);
    }
    // R46: the partner acts in the new account from now on.
    let switched = call::session_op(&app, &viewer, &source, move |ctx, caller, source| {
        ops::sessions::switch(ctx, caller, source, &id)
    })
    .await;
    let mut response = redirect_with(&app, &next, &notice);
    if let Ok(switched) = switched {
        call::carry_cookies(&switched, &mut response);
    }
    response
}

#[derive(Debug, Deserialize)]
pub struct EntitlementsForm {
    #[serde(default)]
    permissions: Vec<String>,
}

pub async fn set_entitlements(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<EntitlementsForm>,
) -> Response {
    let tenant = id.clone();
    let answer = call::op(&app, &viewer, &source, move |ctx, by| {
        ops::tenants::set_entitlements(ctx, by, &tenant, &form.permissions)
    })
    .await;
    match answer {
        Ok(_) => redirect_with(
            &app,
            &format!("/tenants?tenant={id}"),
            "Company-level permissions saved.",
        ),
        Err(e) => {
            render(
                &app,
                &viewer,
                &Flash::default(),
                Some(id),
                Some((e.status(), call::refusal(&e))),
            )
            .await
        }
    }
}

/// Suspends a tenant or lifts it (R8), or sets the partner flag, through the API.
pub async fn set_flag(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Path((id, flag, value)): Path<(String, String, String)>,
) -> Response {
    let (on, tenant, suspend) = (value == "on", id.clone(), flag == "suspended");
    let answer = call::op(&app, &viewer, &source, move |ctx, by| {
        if suspend {
            ops::tenants::set_suspended(ctx, by, &tenant, on)
        } else {
            ops::tenants::set_partner(ctx, by, &tenant, on)
        }
    })
    .await;
    let notice = match (suspend, on) {
        (true, true) => "The tenant is suspended.",
        (true, false) => "The suspension is lifted.",
        (false, true) => "The tenant is a partner now.",
        (false, false) => "The tenant is no longer a partner.",
    };
    match answer {
        Ok(_) => redirect_with(&app, &format!("/tenants?tenant={id}"), notice),
        Err(e) => {
            render(
                &app,
                &viewer,
                &Flash::default(),
                Some(id),
                Some((e.status(), call::refusal(&e))),
            )
            .await
        }
    }
}

/// Sub-tenants below `tenant`, two levels deep, those the viewer may view (R58).
fn subtree(
    app: &AppState,
    viewer: &Viewer,
    s: &deputy_core::State,
    tenant: &str,
    depth: usize,
) -> maud::Markup {
    let Ok(id) = deputy_service::resolve::tenant(s, tenant) else { return html! {} };
    let mut children: Vec<_> = s
        .children(id)
        .filter(|c| viewer.holds(app, s, deputy_core::perms::TENANTS_VIEW, *c))
        .filter_map(|c| s.tenant(c))
        .collect();
    children.sort_by_key(|c| c.id);
    html! {
        @if !children.is_empty() && depth <= 2 {
            ul {
                @for c in &children {
                    li {
                        a href=(format!("/tenants?tenant={}", c.id)) { (c.name) }
                        (subtree(app, viewer, s, &c.id.to_string(), depth + 1))
                    }
                }
            }
        }
    }
}
