//! The owner's side of secondary logons (R37, R38): "Customer Security" (which of my
//! businesses sits in which of my groups; moving one is previewed, R67) and "Security
//! Groups" (create, delete: its businesses go back to Default).

use super::preview::{PlaceForm, place_in_group};
use super::tenant_name;
use super::users::delegates::{Tab, tabs};
use crate::call;
use crate::flash::{Flash, redirect_with};
use crate::layout::{action_button, csrf, error_box, page_with_status};
use crate::viewer::Viewer;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::Form;
use deputy_core::{GroupOwner, PrincipalId, State as Snapshot, TenantId};
use deputy_http::AppState;
use deputy_http::caller::Source;
use deputy_service::ops;
use maud::html;
use serde::Deserialize;

/// The principal whose groups these are: the signed-in (or impersonated) user itself.
fn owner(s: &Snapshot, viewer: &Viewer) -> Option<PrincipalId> {
    deputy_service::resolve::principal(s, &viewer.acting_principal().id).ok()
}

/// The businesses the owner acts in: the tenants its groups partition (R38), as
/// `GET /v1/groups/{id}` reads them.
fn businesses(s: &Snapshot, owner: PrincipalId) -> Vec<TenantId> {
    s.tenants_of_group_owner(GroupOwner::User(owner))
}

fn groups(s: &Snapshot, owner: PrincipalId) -> Vec<(String, String)> {
    s.groups_of(GroupOwner::User(owner))
        .filter(|g| !g.deleted)
        .map(|g| (g.id.to_string(), g.name.clone()))
        .collect()
}

pub async fn customer_security(
    State(app): State<AppState>,
    viewer: Viewer,
    flash: Flash,
) -> Response {
    render_customers(&app, &viewer, &flash, None)
}

fn render_customers(
    app: &AppState,
    viewer: &Viewer,
    flash: &Flash,
    refused: Option<(StatusCode, String)>,
) -> Response {
    let s = app.deputy().snapshot();
    let Some(me) = owner(&s, viewer) else { return crate::flash::see_other("/sign-in") };
    let groups = groups(&s, me);
    let (status, error) = refused.map_or((StatusCode::OK, None), |(s, e)| (s, Some(e)));
    let body = html! {
        (tabs(Tab::CustomerSecurity))
        p { "Each business you act for sits in exactly one of your security groups. "
            "Your secondary logons act only for the businesses of the groups you give them." }
        (error_box(error.as_deref()))
        table {
            thead { tr { th { "Business" } th { "Group" } th { "Move to" } } }
            tbody {
                @for t in businesses(&s, me) {
                    @let current = s.group_of(GroupOwner::User(me), t).map(|g| g.to_string()).unwrap_or_default();
                    tr {
                        td { (tenant_name(&s, &t.to_string())) }
                        td { (groups.iter().find(|(id, _)| *id == current).map(|(_, n)| n.as_str()).unwrap_or("Default")) }
                        td {
                            form.inline method="post" action="/logons/place" {
                                (csrf(&viewer.csrf))
                                input type="hidden" name="tenant" value=(t.to_string());
                                label.muted for=(format!("to-{t}")) { "Group " }
                                select id=(format!("to-{t}")) name="group" {
                                    @for (id, name) in &groups {
                                        option value=(id) selected[*id == current] { (name) }
                                    }
                                }
                                " "
                                button type="submit" { "Move" }
                            }
                        }
                    }
                }
            }
        }
    };
    page_with_status(app, viewer, flash, status, "Manage Secondary Logons", body)
}

pub async fn place(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Form(form): Form<PlaceForm>,
) -> Response {
    let back = "/logons/customers";
    match place_in_group(&app, source, &viewer, form, "/logons/place", back).await {
        Err(preview) => preview,
        Ok(Ok(_)) => redirect_with(&app, back, "Moved."),
        Ok(Err(e)) => render_customers(
            &app,
            &viewer,
            &Flash::default(),
            Some((e.status(), call::refusal(&e))),
        ),
    }
}

fn render_groups(
    app: &AppState,
    viewer: &Viewer,
    flash: &Flash,
    refused: Option<(StatusCode, String)>,
) -> Response {
    let s = app.deputy().snapshot();
    let Some(me) = owner(&s, viewer) else { return crate::flash::see_other("/sign-in") };
    let (status, error) = refused.map_or((StatusCode::OK, None), |(s, e)| (s, Some(e)));
    let body = html! {
        (tabs(Tab::Groups))
        (error_box(error.as_deref()))
        ul {
            @for g in s.groups_of(GroupOwner::User(me)).filter(|g| !g.deleted) {
                li {
                    (g.name)
                    @if g.is_default { " " span.muted { "(holds every business not placed elsewhere; cannot be deleted)" } }
                    @else { " " (action_button(viewer, &format!("/logons/groups/{}/delete", g.id), "Delete")) }
                }
            }
        }
        form.stack method="post" action="/logons/groups" {
            (csrf(&viewer.csrf))
            label for="name" { "New group" }
            input #name type="text" name="name" required;
            p { button type="submit" { "Create group" } }
        }
    };
    page_with_status(app, viewer, flash, status, "Manage Secondary Logons", body)
}

pub async fn list(State(app): State<AppState>, viewer: Viewer, flash: Flash) -> Response {
    render_groups(&app, &viewer, &flash, None)
}

#[derive(Debug, Deserialize)]
pub struct GroupForm {
    #[serde(default)]
    name: String,
}

pub async fn create(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Form(form): Form<GroupForm>,
) -> Response {
    let owner = ops::groups::Owner::User(viewer.acting_principal().id.clone());
    let name = form.name.clone();
    match call::op(&app, &viewer, &source, move |ctx, by| {
        ops::groups::create(ctx, by, owner, &name)
    })
    .await
    {
        Ok(_) => redirect_with(&app, "/logons/groups", &format!("Group {} created.", form.name)),
        Err(e) => {
            render_groups(&app, &viewer, &Flash::default(), Some((e.status(), call::refusal(&e))))
        }
    }
}

pub async fn delete(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    match call::op(&app, &viewer, &source, move |ctx, by| ops::groups::delete(ctx, by, &id)).await {
        Ok(_) => {
            redirect_with(&app, "/logons/groups", "Group deleted; its businesses are in Default.")
        }
        Err(e) => {
            render_groups(&app, &viewer, &Flash::default(), Some((e.status(), call::refusal(&e))))
        }
    }
}
