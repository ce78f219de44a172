//! Manage Secondary Logons (R34–R39, R59): the viewer's secondary logons with their access
//! type, creating one (confirm e-mail, optional linked password, R17), and each one's page
//! with Resend Logon Access Email and Deactivate (previewed, R67).

use crate::call;
use crate::flash::{Flash, redirect_with};
use crate::layout::{action_button, csrf, error_box, page_with_status};
use crate::viewer::Viewer;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::Form;
use deputy_core::{GroupAccess, KindAccess, State as Snapshot};
use deputy_http::AppState;
use deputy_http::caller::Source;
use deputy_http::routes::ApiQuery;
use deputy_http::routes::paging::PageParams;
use deputy_http::routes::users::{self as api, delegates};
use deputy_service::ops;
use maud::{Markup, html};
use serde::Deserialize;

/// "Full Access" or what limits it (R39).
fn access_type(s: &Snapshot, id: &str) -> String {
    let delegate = deputy_service::resolve::principal(s, id)
        .ok()
        .and_then(|p| s.principal(p))
        .and_then(|p| p.delegate.as_deref().cloned());
    let Some(d) = delegate else { return String::new() };
    let mut limits = Vec::new();
    if let GroupAccess::Groups(groups) = &d.groups {
        let names: Vec<_> =
            groups.iter().filter_map(|g| s.group(*g)).map(|g| g.name.to_string()).collect();
        limits.push(format!("groups: {}", names.join(", ")));
    }
    if let KindAccess::Kinds(kinds) = &d.kinds {
        let names: Vec<_> = kinds.iter().map(|k| s.catalog.kind_name(*k).to_owned()).collect();
        limits.push(format!("kinds: {}", names.join(", ")));
    }
    if !d.roles.is_empty() {
        let names: Vec<_> = d.roles.iter().map(|r| s.catalog.role_name(*r).to_owned()).collect();
        limits.push(format!("roles: {}", names.join(", ")));
    }
    if limits.is_empty() {
        "Full Access".to_owned()
    } else {
        format!("Limited ({})", limits.join("; "))
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct NewLogonForm {
    #[serde(default)]
    logon: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    confirm_email: String,
    #[serde(default)]
    linked_password: Option<String>,
}

/// The three tabs of R59: which one is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tab {
    Logons,
    CustomerSecurity,
    Groups,
}

pub(crate) fn tabs(current: Tab) -> Markup {
    let tab = |t: Tab, href: &str, label: &str| {
        html! { a href=(href) aria-current=[(t == current).then_some("page")] { (label) } }
    };
    html! {
        nav.tabs aria-label="Secondary logons" {
            (tab(Tab::Logons, "/logons", "Secondary Logons"))
            (tab(Tab::CustomerSecurity, "/logons/customers", "Customer Security"))
            (tab(Tab::Groups, "/logons/groups", "Security Groups"))
        }
    }
}

async fn render_list(
    app: &AppState,
    viewer: &Viewer,
    flash: &Flash,
    refused: Option<(StatusCode, String, NewLogonForm)>,
) -> Response {
    let s = app.deputy().snapshot();
    let owner = viewer.acting_principal().clone();
    let listed = delegates(
        State(app.clone()),
        viewer.authed(),
        Path(owner.id.clone()),
        ApiQuery(PageParams { cursor: None, limit: Some(1000) }),
    )
    .await;
    let items = match listed {
        Ok(axum::Json(page)) => page.items,
        Err(e) => {
            let body = html! { (error_box(Some(&call::refusal(&e)))) };
            return page_with_status(
                app,
                viewer,
                flash,
                e.status(),
                "Manage Secondary Logons",
                body,
            );
        }
    };
    // R17: warn when a linked logon could manage users.
    let may_manage_users = deputy_service::resolve::tenant(&s, &owner.home.id)
        .is_ok_and(|t| viewer.holds(app, &s, deputy_core::perms::USERS_MODIFY, t));
    let (status, error, form) = match refused {
        Some((status, error, form)) => (status, Some(error), form),
        None => (StatusCode::OK, None, NewLogonForm::default()),
    };
    let body = html! {
        (tabs(Tab::Logons))
        @if items.is_empty() { p.muted { "You have no secondary logons yet." } }
        @else {
            table {
                thead { tr { th { "Logon" } th { "Name" } th { "E-mail" } th { "Access" } th { "Status" } } }
                tbody {
                    @for d in &items {
                        tr {
                            td { a href=(format!("/logons/{}", d.id)) { (d.logon) } }
                            td { (d.first_name) " " (d.last_name) }
                            td { (d.email) }
                            td { (access_type(&s, &d.id)) }
                            td { (d.status) }
                        }
                    }
                }
            }
        }
        h2 { "Create a secondary logon" }
        (error_box(error.as_deref()))
        form.stack method="post" action="/logons" {
            (csrf(&viewer.csrf))
            label for="logon" { "Logon name" }
            input #logon type="text" name="logon" value=(form.logon) required;
            label for="first_name" { "First name" }
            input #first_name type="text" name="first_name" value=(form.first_name) required;
            label for="last_name" { "Last name" }
            input #last_name type="text" name="last_name" value=(form.last_name) required;
            label for="email" { "E-mail" }
            input #email type="email" name="email" value=(form.email) required;
            label for="confirm_email" { "Confirm e-mail" }
            input #confirm_email type="email" name="confirm_email" value=(form.confirm_email) required;
            label {
                input type="checkbox" name="linked_password" value="yes" checked[form.linked_password.is_some()];
                " Link password to mine (it signs in with my password, gets no e-mail)"
            }
            @if may_manage_users {
                p.muted { "Careful: a linked secondary logon with Full Access may manage users as you do." }
            }
            p.muted { "It starts with Full Access; limit it from its page." }
            p { button type="submit" { "Create secondary logon" } }
        }
    };
    page_with_status(app, viewer, flash, status, "Manage Secondary Logons", body)
}

pub async fn list(State(app): State<AppState>, viewer: Viewer, flash: Flash) -> Response {
    render_list(&app, &viewer, &flash, None).await
}

pub async fn create(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Form(form): Form<NewLogonForm>,
) -> Response {
    if form.email != form.confirm_email {
        let e = "The two e-mail addresses differ (field: confirm_email)".to_owned();
        let refused = Some((StatusCode::UNPROCESSABLE_ENTITY, e, form));
        return render_list(&app, &viewer, &Flash::default(), refused).await;
    }
    let spec = ops::users::DelegateSpec {
        logon: form.logon.clone(),
        first_name: form.first_name.clone(),
        last_name: form.last_name.clone(),
        email: form.email.clone(),
        access: ops::users::DelegateAccess::default(),
        linked_password: form.linked_password.is_some(),
    };
    let owner = viewer.acting_principal().id.clone();
    match call::op(&app, &viewer, &source, move |ctx, by| {
        ops::users::create_delegate(ctx, by, &owner, spec)
    })
    .await
    {
        Ok(_) => {
            let how = if form.linked_password.is_some() {
                "it signs in with your password"
            } else {
                "an e-mail to set its password was sent"
            };
            redirect_with(
                &app,
                "/logons",
                &format!("Secondary logon {} created; {how}.", form.logon),
            )
        }
        Err(e) => {
            let refused = Some((e.status(), call::refusal(&e), form));
            render_list(&app, &viewer, &Flash::default(), refused).await
        }
    }
}

async fn render_detail(
    app: &AppState,
    viewer: &Viewer,
    flash: &Flash,
    id: String,
    refused: Option<(StatusCode, String)>,
) -> Response {
    let s = app.deputy().snapshot();
    let d = match api::get_principal(State(app.clone()), viewer.authed(), Path(id)).await {
        Ok(axum::Json(d)) if d.kind == "delegate" => d,
        Ok(_) => {
            let body = html! { (error_box(Some("This is not a secondary logon."))) };
            return page_with_status(
                app,
                viewer,
                flash,
                StatusCode::NOT_FOUND,
                "Secondary logon",
                body,
            );
        }
        Err(e) => {
            let body = html! { (error_box(Some(&call::refusal(&e)))) };
            return page_with_status(app, viewer, flash, e.status(), "Secondary logon", body);
        }
    };
    let (status, error) = refused.map_or((StatusCode::OK, None), |(s, e)| (s, Some(e)));
    let base = format!("/logons/{}", d.id);
    let body = html! {
        (tabs(Tab::Logons))
        dl {
            dt { "Logon name" } dd { (d.logon) }
            dt { "Name" } dd { (d.first_name) " " (d.last_name) }
            dt { "E-mail" } dd { (d.email) }
            dt { "Access" } dd { (access_type(&s, &d.id)) }
            dt { "Status" } dd { (d.status) }
        }
        (error_box(error.as_deref()))
        (access_form(&s, viewer, &d.id))
        h2 { "Settings" }
        form.stack method="post" action=(format!("{base}/settings")) {
            (csrf(&viewer.csrf))
            (super::profile::person_fields(&d))
            p { button type="submit" { "Save settings" } }
        }
        p {
            @if d.status == "invited" || d.status == "pending" {
                (action_button(viewer, &format!("{base}/invitation"), "Resend Logon Access Email")) " "
            }
            (super::status::buttons(viewer, &base, &d.status))
        }
        p { a href=(format!("/activity?principal={}", d.id)) { "Activity of " (d.logon) } }
    };
    page_with_status(app, viewer, flash, status, "Secondary logon", body)
}

pub async fn detail(
    State(app): State<AppState>,
    viewer: Viewer,
    flash: Flash,
    Path(id): Path<String>,
) -> Response {
    render_detail(&app, &viewer, &flash, id, None).await
}

async fn after<T>(
    app: &AppState,
    viewer: &Viewer,
    id: String,
    answer: Result<T, deputy_http::problem::ApiError>,
    notice: &str,
) -> Response {
    match answer {
        Ok(_) => redirect_with(app, &format!("/logons/{id}"), notice),
        Err(e) => {
            let refused = Some((e.status(), call::refusal(&e)));
            render_detail(app, viewer, &Flash::default(), id, refused).await
        }
    }
}

pub async fn resend(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    let who = id.clone();
    let answer =
        call::op(&app, &viewer, &source, move |ctx, by| ops::users::invite(ctx, by, &who)).await;
    after(&app, &viewer, id, answer, "The logon access e-mail was sent again.").await
}

pub async fn set_status(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<super::status::StatusForm>,
) -> Response {
    let base = format!("/logons/{id}");
    match super::status::change(&app, source, &viewer, &id, &base, form).await {
        Ok((answer, notice)) => after(&app, &viewer, id, answer, notice).await,
        Err(preview) => preview,
    }
}

/// "Change Access" (R35, R38): the owner's groups or Full Access, kinds or all, and
/// optional narrowing roles among those the owner holds.
fn access_form(s: &Snapshot, viewer: &Viewer, id: &str) -> Markup {
    let delegate = deputy_service::resolve::principal(s, id).ok().and_then(|p| s.principal(p));
    let Some((d, owner)) =
        delegate.and_then(|d| Some((d.delegate.as_deref()?.clone(), d.owner()?)))
    else {
        return html! {};
    };
    let groups: Vec<_> = s
        .groups_of(deputy_core::GroupOwner::User(owner))
        .filter(|g| !g.deleted)
        .map(|g| (g.id, g.name.clone()))
        .collect();
    let held_roles: Vec<String> = s.principal(owner).map_or_else(Vec::new, |o| {
        let mut names: Vec<String> = o
            .assignments
            .iter()
            .filter_map(|a| match a.bundle {
                deputy_core::Bundle::Role(r) => Some(s.catalog.role_name(r).to_owned()),
                deputy_core::Bundle::Permission(_) => None,
            })
            .collect();
        names.sort();
        names.dedup();
        names
    });
    let (full, chosen) = match &d.groups {
        GroupAccess::Full => (true, vec![]),
        GroupAccess::Groups(g) => (false, g.clone()),
    };
    let (all_kinds, kinds) = match &d.kinds {
        KindAccess::All => (true, vec![]),
        KindAccess::Kinds(k) => (false, k.clone()),
    };
    html! {
        h2 { "Change Access" }
        form.stack method="post" action=(format!("/logons/{id}/access")) {
            (csrf(&viewer.csrf))
            fieldset {
                legend { "Businesses" }
                label { input type="radio" name="scope" value="full" checked[full]; " Full Access (all my groups, also future ones)" }
                label { input type="radio" name="scope" value="groups" checked[!full]; " Only these groups:" }
                @for (g, name) in &groups {
                    label { input type="checkbox" name="groups" value=(g.to_string()) checked[chosen.contains(g)]; " " (name) }
                }
            }
            fieldset {
                legend { "Account Access (resource kinds)" }
                label { input type="radio" name="kind_scope" value="all" checked[all_kinds]; " All kinds" }
                label { input type="radio" name="kind_scope" value="kinds" checked[!all_kinds]; " Only these:" }
                @for (i, k) in s.catalog.kinds.iter().enumerate() {
                    @let id = deputy_core::KindId(i as u32);
                    label { input type="checkbox" name="kinds" value=(k.name) checked[kinds.contains(&id)]; " " (k.name) }
                }
            }
            fieldset {
                legend { "Only what these roles allow (none: everything I may do)" }
                @for r in &held_roles {
                    label { input type="checkbox" name="roles" value=(r) checked[d.roles.iter().any(|x| s.catalog.role_name(*x) == r)]; " " (r) }
                }
            }
            p { button type="submit" { "Save access" } }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct AccessForm {
    #[serde(default)]
    scope: String,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    kind_scope: String,
    #[serde(default)]
    kinds: Vec<String>,
    #[serde(default)]
    roles: Vec<String>,
}

pub async fn change_access(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<AccessForm>,
) -> Response {
    let access = ops::users::DelegateAccess {
        groups: (form.scope == "groups").then_some(form.groups),
        kinds: (form.kind_scope == "kinds").then_some(form.kinds),
        roles: form.roles,
    };
    let who = id.clone();
    let answer = call::op(&app, &viewer, &source, move |ctx, by| {
        ops::users::set_delegate_access(ctx, by, &who, &access)
    })
    .await;
    after(&app, &viewer, id, answer, "Access saved.").await
}

/// A secondary logon's settings, changed by its owner (R34) through the API's profile
/// update; only what changed is sent.
pub async fn settings(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<super::profile::ProfileForm>,
) -> Response {
    let current = api::get_principal(State(app.clone()), viewer.authed(), Path(id.clone())).await;
    let Ok(axum::Json(d)) = current else {
        return after(&app, &viewer, id, current.map(|_| ()), "").await;
    };
    let update = match form.changes(&d).into_update() {
        Ok(update) => update,
        Err(e) => return after(&app, &viewer, id, Err::<(), _>(e), "").await,
    };
    let who = id.clone();
    let answer = call::op(&app, &viewer, &source, move |ctx, by| {
        ops::users::update_profile(ctx, by, &who, update)
    })
    .await;
    after(&app, &viewer, id, answer, "Settings saved.").await
}
