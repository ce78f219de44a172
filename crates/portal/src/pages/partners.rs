//! Partner Access (R40–R45, R59): "Grant Access" (the partners this tenant lets in, with
//! their ceilings: propose, approve, revoke with a preview, R67) and "Access Received"
//! (the clients that let this tenant in, and which of its users may act there with which
//! roles, in `received`); and My Customers, a partner's clients with Switch (R43).

use super::preview::{PlaceForm, place_in_group, preview};
use super::tenant_name;
use crate::call;
use crate::flash::{Flash, redirect_with};
use crate::layout::{action_button, csrf, error_box, page_with_status};
use crate::viewer::Viewer;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::Form;
use deputy_core::{GrantStatus, GroupOwner, TenantId};
use deputy_http::AppState;
use deputy_http::caller::Source;
use deputy_http::routes::ApiQuery;
use deputy_http::routes::paging::PageParams;
use deputy_http::routes::partners::{GrantView, tenant_grants};
use deputy_service::ops;
use deputy_service::ops::partners::TermsSpec;
use maud::{Markup, html};
use serde::Deserialize;

pub mod received;

/// How long before its end a grant is announced (the server's R70 mails use the same week).
const EXPIRY_NOTICE_MS: i64 = 7 * 24 * 3_600_000;

#[derive(Debug, Default, Deserialize)]
pub struct PartnerQuery {
    #[serde(default)]
    tab: Option<String>,
}

fn grant_row(s: &deputy_core::State, g: &GrantView, other: &str) -> Markup {
    html! {
        td { (tenant_name(s, other)) }
        td { (g.ceiling.join(", ")) }
        td { @if let Some(k) = &g.kinds { (k.join(", ")) } @else { "all" } }
        td { @if g.subtree { "yes" } @else { "no" } }
        td { @if let Some(at) = g.expires_at { (super::when(at)) } @else { "never" } }
        td { (g.status) }
    }
}

async fn grants_of(
    app: &AppState,
    viewer: &Viewer,
    tenant: &str,
) -> Result<Vec<GrantView>, String> {
    tenant_grants(
        State(app.clone()),
        viewer.authed(),
        Path(tenant.to_owned()),
        ApiQuery(PageParams { cursor: None, limit: Some(1000) }),
    )
    .await
    .map(|axum::Json(p)| p.items)
    .map_err(|e| call::refusal(&e))
}

async fn render(
    app: &AppState,
    viewer: &Viewer,
    flash: &Flash,
    tab: Option<String>,
    refused: Option<(StatusCode, String)>,
) -> Response {
    let s = app.deputy().snapshot();
    let Some(here) = viewer.acting_tenant(&s) else {
        return crate::flash::see_other("/profile");
    };
    let tenant = here.to_string();
    let grants = match grants_of(app, viewer, &tenant).await {
        Ok(g) => g,
        Err(e) => {
            let body = html! { (error_box(Some(&e))) };
            return page_with_status(
                app,
                viewer,
                flash,
                StatusCode::NOT_FOUND,
                "Partner Access",
                body,
            );
        }
    };
    // Grants name their tenants by key.
    let key = s.tenant(here).map(|t| t.key.clone()).unwrap_or_default();
    let given: Vec<&GrantView> = grants.iter().filter(|g| g.client.key == key).collect();
    let received: Vec<&GrantView> = grants.iter().filter(|g| g.partner.key == key).collect();
    // R42: "Access Received" shows only once some client granted access.
    let show_received = !received.is_empty();
    let on_received = show_received && tab.as_deref() == Some("received");
    let manages = viewer.holds(app, &s, deputy_core::perms::PARTNERS_MANAGE, here);
    let roles: Vec<String> = s.catalog.roles.iter().map(|r| r.name.clone()).collect();
    // R70: both sides are told, here as by mail, before a grant expires.
    let soon = app.deputy().now() + EXPIRY_NOTICE_MS;
    let expiring: Vec<&GrantView> = grants
        .iter()
        .filter(|g| g.status == "active" && g.expires_at.is_some_and(|at| at <= soon))
        .collect();
    let (status, error) = refused.map_or((StatusCode::OK, None), |(s, e)| (s, Some(e)));
    let body = html! {
        @for g in &expiring {
            p.notice role="status" {
                "Access of " (tenant_name(&s, &g.partner.id)) " in " (tenant_name(&s, &g.client.id))
                " ends " (super::when(g.expires_at.unwrap_or_default())) " UTC"
                @if g.auto_extend { " unless it extends itself (it is set to)." } @else { "." }
            }
        }
        nav.tabs aria-label="Partner access" {
            a href="/partners" aria-current=[(!on_received).then_some("page")] { "Grant Access" }
            @if show_received {
                a href="/partners?tab=received" aria-current=[on_received.then_some("page")] { "Access Received" }
            }
        }
        (error_box(error.as_deref()))
        @if on_received {
            (partner_groups(viewer, &s, here, manages, &received))
            p { "Clients that let " (tenant_name(&s, &tenant)) " act for them, and up to which roles." }
            table {
                thead { tr { th { "Client" } th { "Ceiling" } th { "Kinds" } th { "Subtree" } th { "Expires" } th { "Status" } th {} } }
                tbody {
                    @for g in &received {
                        tr {
                            (grant_row(&s, g, &g.client.id))
                            td { @if manages && g.status == "active" {
                                a href=(format!("/partners/received/{}", g.id)) { "Manage Access" }
                            } }
                        }
                    }
                }
            }
        } @else {
            p { "Partners that may act in " (tenant_name(&s, &tenant)) ", and up to which roles." }
            @if given.is_empty() { p.muted { "No partner has access." } }
            @else {
                table {
                    thead { tr { th { "Partner" } th { "Ceiling" } th { "Kinds" } th { "Subtree" } th { "Expires" } th { "Status" } th {} } }
                    tbody {
                        @for g in &given {
                            tr {
                                (grant_row(&s, g, &g.partner.id))
                                td {
                                    @if manages && g.status == "proposed" {
                                        (action_button(viewer, &format!("/partners/grants/{}/approve", g.id), "Approve")) " "
                                    }
                                    @if manages && g.status != "revoked" {
                                        a href=(format!("/partners/grants/{}/change", g.id)) { "Change" } " "
                                        form.inline method="post" action=(format!("/partners/grants/{}/revoke", g.id)) {
                                            (csrf(&viewer.csrf))
                                            button.danger type="submit" { "Revoke" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if manages {
                h2 { "Grant access to a partner" }
                form.stack method="post" action="/partners/grants" {
                    (csrf(&viewer.csrf))
                    label for="partner" { "Partner (its key)" }
                    input #partner type="text" name="partner" required;
                    fieldset {
                        legend { "Ceiling: the most its users may be given here" }
                        @for r in &roles {
                            label { input type="checkbox" name="ceiling" value=(r); " " (r) }
                        }
                    }
                    label { input type="checkbox" name="subtree" value="yes"; " Also in our sub-tenants" }
                    p { button type="submit" { "Grant access" } }
                }
            }
        }
    };
    page_with_status(app, viewer, flash, status, "Partner Access", body)
}

pub async fn page(
    State(app): State<AppState>,
    viewer: Viewer,
    flash: Flash,
    Query(query): Query<PartnerQuery>,
) -> Response {
    render(&app, &viewer, &flash, query.tab, None).await
}

#[derive(Debug, Deserialize)]
pub struct GrantForm {
    #[serde(default)]
    partner: String,
    #[serde(default)]
    ceiling: Vec<String>,
    #[serde(default)]
    subtree: Option<String>,
}

pub async fn propose(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Form(form): Form<GrantForm>,
) -> Response {
    let s = app.deputy().snapshot();
    let here = viewer.acting_tenant(&s).map(|t| t.to_string()).unwrap_or_default();
    let terms = TermsSpec {
        ceiling: form.ceiling,
        kinds: None,
        subtree: form.subtree.is_some(),
        expires_at: None,
        auto_extend: false,
    };
    let partner = form.partner.clone();
    match call::op(&app, &viewer, &source, move |ctx, by| {
        ops::partners::propose(ctx, by, &here, &partner, &terms)
    })
    .await
    {
        Ok(_) => redirect_with(&app, "/partners", &format!("Access granted to {}.", form.partner)),
        Err(e) => {
            render(&app, &viewer, &Flash::default(), None, Some((e.status(), call::refusal(&e))))
                .await
        }
    }
}

pub async fn approve(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Path(grant): Path<String>,
) -> Response {
    match call::op(&app, &viewer, &source, move |ctx, by| ops::partners::approve(ctx, by, &grant))
        .await
    {
        Ok(_) => redirect_with(&app, "/partners", "Grant approved."),
        Err(e) => {
            render(&app, &viewer, &Flash::default(), None, Some((e.status(), call::refusal(&e))))
                .await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    confirm: Option<String>,
}

pub async fn revoke(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Path(grant): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> Response {
    if form.confirm.is_none() {
        let confirm = html! {
            form method="post" action=(format!("/partners/grants/{grant}/revoke")) {
                (csrf(&viewer.csrf))
                input type="hidden" name="confirm" value="yes";
                button.danger type="submit" { "Revoke access" }
            }
        };
        let change = serde_json::json!({"action": "revoke_grant", "grant": grant});
        return preview(&app, &viewer, change, "Revoke access?", confirm, "/partners").await;
    }
    match call::op(&app, &viewer, &source, move |ctx, by| ops::partners::revoke(ctx, by, &grant))
        .await
    {
        Ok(_) => redirect_with(&app, "/partners", "Access revoked."),
        Err(e) => {
            render(&app, &viewer, &Flash::default(), None, Some((e.status(), call::refusal(&e))))
                .await
        }
    }
}

/// My Customers (R59): a partner's clients, each with Switch (R43).
pub async fn customers(State(app): State<AppState>, viewer: Viewer, flash: Flash) -> Response {
    let s = app.deputy().snapshot();
    let me = viewer.caller.principal;
    let now = app.deputy().now();
    let home = s.principal(me).map(|p| p.home);
    let mut clients: Vec<TenantId> = home
        .into_iter()
        .flat_map(|h| {
            s.grants_to(h)
                .filter(|g| g.status == GrantStatus::Active)
                .map(|g| g.client)
                .collect::<Vec<_>>()
        })
        .collect();
    clients.sort_unstable();
    clients.dedup();
    let body = html! {
        @if clients.is_empty() { p.muted { "Your company has no clients yet." } }
        table {
            thead { tr { th { "Client" } th { "You may act there" } th {} } }
            tbody {
                @for c in &clients {
                    tr {
                        td { (tenant_name(&s, &c.to_string())) }
                        @let may = s.may_switch_into(me, *c, now);
                        td { @if may { "yes" } @else { "no: no roles given to you there" } }
                        td {
                            @if viewer.acting_tenant(&s) == Some(*c) && viewer.holds(&app, &s, deputy_core::perms::USERS_VIEW, *c) {
                                a href=(format!("/users?tenant={c}")) { "Its users" } " "
                            }
                            @if may && viewer.me.impersonating.is_none() {
                                form.inline method="post" action="/switch" {
                                    (csrf(&viewer.csrf))
                                    input type="hidden" name="tenant" value=(c.to_string());
                                    button type="submit" { "Switch" }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page_with_status(&app, &viewer, &flash, StatusCode::OK, "My Customers", body)
}

/// The grant's current terms, for the change form.
fn grant_terms(app: &AppState, grant: &str) -> Option<deputy_core::Grant> {
    let id = grant.parse::<deputy_core::GrantId>().ok()?;
    app.deputy().snapshot().grant(id).cloned()
}

/// "Change" on Grant Access (R40): the client narrows or widens the ceiling.
pub async fn change_form(
    State(app): State<AppState>,
    viewer: Viewer,
    flash: Flash,
    Path(grant): Path<String>,
) -> Response {
    let s = app.deputy().snapshot();
    let here = viewer.acting_tenant(&s);
    let found = grant_terms(&app, &grant).filter(|g| {
        Some(g.client) == here
            && here.is_some_and(|h| viewer.holds(&app, &s, deputy_core::perms::PARTNERS_MANAGE, h))
    });
    let Some(g) = found else {
        let body = html! { (error_box(Some(&format!("no grant `{grant}`")))) };
        return page_with_status(
            &app,
            &viewer,
            &flash,
            StatusCode::NOT_FOUND,
            "Change access",
            body,
        );
    };
    let body = html! {
        p { "What " strong { (tenant_name(&s, &g.partner.to_string())) } "'s users may be given here." }
        form.stack method="post" action=(format!("/partners/grants/{grant}/change")) {
            (csrf(&viewer.csrf))
            fieldset {
                legend { "Ceiling" }
                @for (i, r) in s.catalog.roles.iter().enumerate() {
                    @let id = deputy_core::RoleId(i as u32);
                    label { input type="checkbox" name="ceiling" value=(r.name) checked[g.ceiling.contains(&id)]; " " (r.name) }
                }
            }
            label { input type="checkbox" name="subtree" value="yes" checked[g.subtree]; " Also in our sub-tenants" }
            p { button type="submit" { "Review the change" } }
        }
        p { a href="/partners" { "Cancel" } }
    };
    page_with_status(&app, &viewer, &flash, StatusCode::OK, "Change access", body)
}

#[derive(Debug, Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    ceiling: Vec<String>,
    #[serde(default)]
    subtree: Option<String>,
    #[serde(default)]
    confirm: Option<String>,
}

/// Previews the new terms (R67: narrowing shows who loses what), then changes the grant.
pub async fn change(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Path(grant): Path<String>,
    Form(form): Form<ChangeForm>,
) -> Response {
    // Expiry and kinds stay as they are; this form changes the ceiling and the subtree.
    let current = grant_terms(&app, &grant);
    let s = app.deputy().snapshot();
    let kinds = current.as_ref().and_then(|g| {
        g.kinds
            .as_ref()
            .map(|ks| ks.iter().map(|k| s.catalog.kind_name(*k).to_owned()).collect::<Vec<_>>())
    });
    let expires_at = current.as_ref().and_then(|g| g.expires_at);
    let auto_extend = current.as_ref().is_some_and(|g| g.auto_extend);
    let subtree = form.subtree.is_some();
    if form.confirm.is_none() {
        let confirm = html! {
            form method="post" action=(format!("/partners/grants/{grant}/change")) {
                (csrf(&viewer.csrf))
                @for r in &form.ceiling { input type="hidden" name="ceiling" value=(r); }
                @if subtree { input type="hidden" name="subtree" value="yes"; }
                input type="hidden" name="confirm" value="yes";
                button type="submit" { "Change access" }
            }
        };
        let change = serde_json::json!({"action": "change_grant", "grant": grant,
            "ceiling": form.ceiling, "kinds": kinds, "subtree": subtree,
            "expires_at": expires_at, "auto_extend": auto_extend});
        return preview(&app, &viewer, change, "Change access?", confirm, "/partners").await;
    }
    let terms = TermsSpec { ceiling: form.ceiling, kinds, subtree, expires_at, auto_extend };
    let answer = call::op(&app, &viewer, &source, move |ctx, by| {
        ops::partners::change(ctx, by, &grant, &terms)
    })
    .await;
    match answer {
        Ok(_) => redirect_with(&app, "/partners", "Access changed."),
        Err(e) => {
            render(&app, &viewer, &Flash::default(), None, Some((e.status(), call::refusal(&e))))
                .await
        }
    }
}

/// The partner's security groups (R41): each holds some of its clients; a role given
/// through a group holds in every client of it. Moving a client is previewed (R67).
fn partner_groups(
    viewer: &Viewer,
    s: &deputy_core::State,
    partner: TenantId,
    manages: bool,
    received: &[&GrantView],
) -> Markup {
    let owner = GroupOwner::Tenant(partner);
    let groups: Vec<_> =
        s.groups_of(owner).filter(|g| !g.deleted).map(|g| (g.id, g.name.clone())).collect();
    let clients: Vec<TenantId> = received
        .iter()
        .filter(|g| g.status == "active")
        .filter_map(|g| deputy_service::resolve::tenant(s, &g.client.id).ok())
        .collect();
    html! {
        @if manages {
            details {
                summary { "Security groups of our clients" }
                p.muted { "A role given through a group holds in every client of it (R41)." }
                table {
                    thead { tr { th { "Client" } th { "Group" } } }
                    tbody {
                        @for c in &clients {
                            @let current = s.group_of(owner, *c);
                            tr {
                                td { (tenant_name(s, &c.to_string())) }
                                td {
                                    form.inline method="post" action="/partners/place" {
                                        (csrf(&viewer.csrf))
                                        input type="hidden" name="tenant" value=(c.to_string());
                                        label.muted for=(format!("pg-{c}")) { "Group " }
                                        select id=(format!("pg-{c}")) name="group" {
                                            @for (id, name) in &groups {
                                                option value=(id.to_string()) selected[Some(*id) == current] { (name) }
                                            }
                                        }
                                        " " button type="submit" { "Move" }
                                    }
                                }
                            }
                        }
                    }
                }
                form.stack method="post" action="/partners/groups" {
                    (csrf(&viewer.csrf))
                    label for="group_name" { "New group" }
                    input #group_name type="text" name="name" required;
                    p { button type="submit" { "Create group" } }
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct GroupForm {
    #[serde(default)]
    name: String,
}

pub async fn create_group(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Form(form): Form<GroupForm>,
) -> Response {
    let s = app.deputy().snapshot();
    let here = viewer.acting_tenant(&s).map(|t| t.to_string());
    let back = "/partners?tab=received";
    let name = form.name.clone();
    let answer = call::op(&app, &viewer, &source, move |ctx, by| {
        let owner = here.map(ops::groups::Owner::Tenant).ok_or_else(|| {
            deputy_core::CommandError::invalid("owner_tenant", "no tenant to own the group")
        })?;
        ops::groups::create(ctx, by, owner, &name)
    })
    .await;
    match answer {
        Ok(_) => redirect_with(&app, back, &format!("Group {} created.", form.name)),
        Err(e) => {
            let refused = Some((e.status(), call::refusal(&e)));
            render(&app, &viewer, &Flash::default(), Some("received".into()), refused).await
        }
    }
}

/// Moves a client into another of the partner's groups, after a preview (R67).
pub async fn place(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Form(form): Form<PlaceForm>,
) -> Response {
    let back = "/partners?tab=received";
    match place_in_group(&app, source, &viewer, form, "/partners/place", back).await {
        Err(preview) => preview,
        Ok(Ok(_)) => redirect_with(&app, back, "Moved."),
        Ok(Err(e)) => {
            let refused = Some((e.status(), call::refusal(&e)));
            render(&app, &viewer, &Flash::default(), Some("received".into()), refused).await
        }
    }
}
