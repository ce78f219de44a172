//! Partner Access → "Access Received" (R41, R59): a client that lets this tenant in, and
//! which of this tenant's users may act there with which roles: given and removed.

use crate::call;
use crate::flash::{Flash, redirect_with};
use crate::layout::{action_button, csrf, error_box, page_with_status};
use crate::pages::{principal_name, tenant_name};
use crate::viewer::Viewer;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::Form;
use deputy_core::{Bundle, GrantStatus, GroupOwner, Scope, TenantId};
use deputy_http::AppState;
use deputy_http::caller::Source;
use deputy_service::ops;
use deputy_service::ops::partners::For;
use maud::html;
use serde::Deserialize;

/// "Access Received → Manage Access": the partner's users with and without access to the
/// client, with the roles given them for it (R41).
async fn render_received(
    app: &AppState,
    viewer: &Viewer,
    flash: &Flash,
    grant: String,
    refused: Option<(StatusCode, String)>,
) -> Response {
    let s = app.deputy().snapshot();
    let here = viewer.acting_tenant(&s);
    let found = here.and_then(|h| {
        let id = grant.parse::<deputy_core::GrantId>().ok()?;
        s.grants_to(h).find(|g| g.id == id).cloned()
    });
    let Some(g) = found.filter(|_| {
        here.is_some_and(|h| viewer.holds(app, &s, deputy_core::perms::PARTNERS_MANAGE, h))
    }) else {
        let body = html! { (error_box(Some(&format!("no grant `{grant}`")))) };
        return page_with_status(app, viewer, flash, StatusCode::NOT_FOUND, "Manage Access", body);
    };
    let client = g.client;
    let ceiling: Vec<String> =
        g.ceiling.iter().map(|r| s.catalog.role_name(*r).to_owned()).collect();
    let given_for = |p: &deputy_core::Principal| -> Vec<(String, String)> {
        p.assignments
            .iter()
            .filter(|a| match a.scope {
                Scope::Client { client: c } => c == client,
                Scope::Group { group } => {
                    s.group(group).is_some_and(|x| s.group_of(x.owner, client) == Some(group))
                }
                _ => false,
            })
            .filter_map(|a| match a.bundle {
                Bundle::Role(r) => Some((a.id.to_string(), s.catalog.role_name(r).to_owned())),
                Bundle::Permission(_) => None,
            })
            .collect()
    };
    let users: Vec<&deputy_core::Principal> = s
        .members(g.partner)
        .filter(|p| matches!(p.kind, deputy_core::PrincipalKind::User) && p.is_active())
        .collect();
    let (with, without): (Vec<_>, Vec<_>) =
        users.into_iter().partition(|p| !given_for(p).is_empty());
    // R41: the partner's own group holding this client, when it placed it in one.
    let group = s
        .group_of(GroupOwner::Tenant(g.partner), client)
        .and_then(|id| s.group(id))
        .filter(|x| !x.is_default && !x.deleted)
        .map(|x| (x.id, x.name.clone()));
    let (status, error) = refused.map_or((StatusCode::OK, None), |(s, e)| (s, Some(e)));
    let body = html! {
        p { "Who in " (tenant_name(&s, &g.partner.to_string())) " may act in "
            strong { (tenant_name(&s, &client.to_string())) } ", within the ceiling " (ceiling.join(", ")) "." }
        (error_box(error.as_deref()))
        h2 { "Users with access" }
        @if with.is_empty() { p.muted { "None yet." } }
        table {
            tbody {
                @for p in &with {
                    tr {
                        td { (principal_name(&s, &p.id.to_string())) }
                        td {
                            @for (assignment, role) in given_for(p) {
                                (role) " "
                                (action_button(viewer, &format!("/partners/received/{grant}/remove/{}/{assignment}", p.id), &format!("Remove {role}")))
                                " "
                            }
                        }
                    }
                }
            }
        }
        h2 { "Give access" }
        form.stack method="post" action=(format!("/partners/received/{grant}")) {
            (csrf(&viewer.csrf))
            fieldset {
                legend { "For" }
                label { input type="radio" name="through" value="client" checked; " this client only" }
                @if let Some((gid, gname)) = &group {
                    label { input type="radio" name="through" value=(gid.to_string()); " every client in our group " (gname) }
                }
            }
            label for="user" { "User" }
            select #user name="user" {
                @for p in with.iter().chain(without.iter()) {
                    option value=(p.id.to_string()) { (p.first_name) " " (p.last_name) " (" (p.logon) ")" }
                }
            }
            label for="role" { "Role" }
            select #role name="role" { @for r in &ceiling { option value=(r) { (r) } } }
            p { button type="submit" { "Give access" } }
        }
        p { a href="/partners?tab=received" { "Back to Access Received" } }
    };
    page_with_status(app, viewer, flash, status, "Manage Access", body)
}

pub async fn received(
    State(app): State<AppState>,
    viewer: Viewer,
    flash: Flash,
    Path(grant): Path<String>,
) -> Response {
    render_received(&app, &viewer, &flash, grant, None).await
}

#[derive(Debug, Deserialize)]
pub struct GiveForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    role: String,
    /// `client`, or the id of the partner's group to give the role through.
    #[serde(default)]
    through: String,
}

fn client_of(app: &AppState, grant: &str) -> Option<TenantId> {
    let s = app.deputy().snapshot();
    let id = grant.parse::<deputy_core::GrantId>().ok()?;
    s.grant(id).filter(|g| g.status != GrantStatus::Revoked).map(|g| g.client)
}

pub async fn give(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Path(grant): Path<String>,
    Form(form): Form<GiveForm>,
) -> Response {
    let by_group = form.through.starts_with("sg");
    let target = if by_group {
        Some(For::Group(form.through.clone()))
    } else {
        client_of(&app, &grant).map(|c| For::Client(c.to_string()))
    };
    let back = format!("/partners/received/{grant}");
    let (user, role) = (form.user.clone(), form.role.clone());
    match call::op(&app, &viewer, &source, move |ctx, by| {
        let target = target.ok_or_else(|| {
            deputy_core::CommandError::invalid("client", "this grant names no client")
        })?;
        ops::partners::give_role(ctx, by, &user, &role, target, None)
    })
    .await
    {
        Ok(_) => redirect_with(&app, &back, &format!("Role {} given.", form.role)),
        Err(e) => {
            render_received(
                &app,
                &viewer,
                &Flash::default(),
                grant,
                Some((e.status(), call::refusal(&e))),
            )
            .await
        }
    }
}

pub async fn remove(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Path((grant, user, assignment)): Path<(String, String, String)>,
) -> Response {
    let back = format!("/partners/received/{grant}");
    match call::op(&app, &viewer, &source, move |ctx, by| {
        ops::roles::unassign(ctx, by, &user, &assignment)
    })
    .await
    {
        Ok(_) => redirect_with(&app, &back, "Access removed."),
        Err(e) => {
            render_received(
                &app,
                &viewer,
                &Flash::default(),
                grant,
                Some((e.status(), call::refusal(&e))),
            )
            .await
        }
    }
}
