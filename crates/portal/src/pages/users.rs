//! Admin → Users (R59): the users of a tenant with crowns (R7) and the contact person
//! (R4), adding users (R10, R14), invitations (R12), resets (R13), status (R11, R20) and
//! cancellation — every action through the API's handler, every harm previewed (R67).

use super::preview::preview;
use super::{principal_name, tenant_name};
use crate::call;
use crate::flash::{Flash, redirect_with};
use crate::layout::{action_button, crown, csrf, error_box, page_with_status};
use crate::viewer::Viewer;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::Form;
use deputy_core::{Actor, State as Snapshot, TenantId};
use deputy_http::AppState;
use deputy_http::caller::Source;
use deputy_http::routes::ApiQuery;
use deputy_http::routes::paging::PageParams;
use deputy_http::routes::users::{self as api, PrincipalView, tenant_principals};
use deputy_service::ops;
use deputy_service::ops::users::{FirstAccess, NewPassword, UserSpec};
use maud::{Markup, html};
use serde::Deserialize;

pub mod delegates;
pub mod profile;
pub mod status;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub(crate) tenant: Option<String>,
    cursor: Option<String>,
}

/// Roles the viewer could give in `tenant`: not above its own rank there (R27). The
/// engine still decides each assignment; this only keeps hopeless choices off the form.
fn givable_roles(app: &AppState, s: &Snapshot, viewer: &Viewer, tenant: TenantId) -> Vec<String> {
    let Actor::Principal { id, ctx } = viewer.actor() else { return vec![] };
    let own = s.rank(id, tenant, ctx.switched, app.deputy().now()).value;
    let partner = s.tenant(tenant).is_some_and(|t| t.partner);
    s.catalog
        .roles
        .iter()
        .filter(|r| r.rank <= own && (partner || r.name != "customer-manager"))
        .map(|r| r.name.clone())
        .collect()
}

/// What the add-user form holds, kept when the API refuses it.
#[derive(Debug, Default, Deserialize)]
pub struct NewUserForm {
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
    phone: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    send_invitation: Option<String>,
    /// `invitation`, `generate` or `enter`.
    #[serde(default)]
    password_mode: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    must_change: Option<String>,
}

fn add_user_form(
    s: &Snapshot,
    viewer: &Viewer,
    tenant: &str,
    roles: &[String],
    form: &NewUserForm,
    fresh: bool,
) -> Markup {
    let mode = if form.password_mode.is_empty() { "invitation" } else { &form.password_mode };
    html! {
        h2 #add { "Add User to " (tenant_name(s, tenant)) }
        form.stack method="post" action=(format!("/users/new?tenant={tenant}")) {
            (csrf(&viewer.csrf))
            label for="logon" { "Logon name" }
            input #logon type="text" name="logon" value=(form.logon) required;
            label for="first_name" { "First name" }
            input #first_name type="text" name="first_name" value=(form.first_name) required;
            label for="last_name" { "Last name" }
            input #last_name type="text" name="last_name" value=(form.last_name) required;
            label for="email" { "E-mail" }
            input #email type="email" name="email" value=(form.email) required;
            label for="confirm_email" { "E-mail again" }
            input #confirm_email type="email" name="confirm_email" value=(form.confirm_email) required;
            label for="phone" { "Phone (optional)" }
            input #phone type="text" name="phone" value=(form.phone);
            fieldset {
                legend { "Roles (up to your own rank)" }
                @for r in roles {
                    label {
                        input type="checkbox" name="roles" value=(r) checked[form.roles.contains(r)];
                        " " (r)
                    }
                }
            }
            fieldset {
                legend { "Password" }
                label { input type="radio" name="password_mode" value="invitation" checked[mode == "invitation"]; " The user chooses one from the invitation" }
                label { input type="radio" name="password_mode" value="generate" checked[mode == "generate"]; " Generate one (shown to you once)" }
                label { input type="radio" name="password_mode" value="enter" checked[mode == "enter"]; " Enter one:" }
                input type="password" name="password" aria-label="Password to set" autocomplete="new-password";
                label { input type="checkbox" name="must_change" value="yes" checked[fresh || form.must_change.is_some()]; " Must change password at next sign-in" }
            }
            label { input type="checkbox" name="send_invitation" value="yes" checked[fresh || form.send_invitation.is_some()]; " Send invitation" }
            p { button type="submit" { "Add user" } }
        }
    }
}

fn user_row(s: &Snapshot, p: &PrincipalView) -> Markup {
    html! {
        tr {
            td {
                a href=(format!("/users/{}", p.id)) { (p.first_name) " " (p.last_name) }
                @if p.admin { (crown()) }
                @if p.contact { span.badge { "contact person" } }
            }
            td { (p.logon) }
            td { (p.email) }
            td { (p.kind.replace('_', " ")) @if let Some(o) = &p.owner { " of " (principal_name(s, &o.id)) } }
            td { (p.status) }
        }
    }
}

pub(crate) async fn render_list(
    app: &AppState,
    viewer: &Viewer,
    flash: &Flash,
    query: ListQuery,
    refused: Option<(StatusCode, String, NewUserForm)>,
) -> Response {
    let s = app.deputy().snapshot();
    let tenant = query
        .tenant
        .clone()
        .or_else(|| viewer.acting_tenant(&s).map(|t| t.to_string()))
        .unwrap_or_default();
    let listed = tenant_principals(
        State(app.clone()),
        viewer.authed(),
        Path(tenant.clone()),
        ApiQuery(PageParams { cursor: query.cursor.clone(), limit: Some(50) }),
    )
    .await;
    let page = match listed {
        Ok(axum::Json(page)) => page,
        Err(e) => {
            let body = html! { (error_box(Some(&call::refusal(&e)))) };
            return page_with_status(app, viewer, flash, e.status(), "Users", body);
        }
    };
    let tenant_id = deputy_service::resolve::tenant(&s, &tenant).ok();
    let may_add =
        tenant_id.is_some_and(|t| viewer.holds(app, &s, deputy_core::perms::USERS_CREATE, t));
    let roles = tenant_id.map(|t| givable_roles(app, &s, viewer, t)).unwrap_or_default();
    let (status, error, form, fresh) = match refused {
        Some((status, error, form)) => (status, Some(error), form, false),
        None => (StatusCode::OK, None, NewUserForm::default(), true),
    };
    let body = html! {
        p.muted { "Users of " strong { (tenant_name(&s, &tenant)) } }
        table {
            thead { tr { th { "Name" } th { "Logon" } th { "E-mail" } th { "Kind" } th { "Status" } } }
            tbody { @for p in &page.items { (user_row(&s, p)) } }
        }
        @if let Some(next) = &page.next_cursor {
            p { a href=(format!("/users?tenant={tenant}&cursor={next}")) { "Next page" } }
        }
        (error_box(error.as_deref()))
        @if may_add { (add_user_form(&s, viewer, &tenant, &roles, &form, fresh)) }
        @if may_add {
            h2 { "Access code for another business's user" }
            p.muted { "Someone whose account lives elsewhere enters it under My Profile → Add Access to Another Business (R37a). Single use, 30 days." }
            form.stack method="post" action=(format!("/users/access-code?tenant={tenant}")) {
                (csrf(&viewer.csrf))
                fieldset {
                    legend { "Roles it gives here" }
                    @for r in &roles { label { input type="checkbox" name="roles" value=(r); " " (r) } }
                }
                p { button type="submit" { "Issue access code" } }
            }
        }
    };
    page_with_status(app, viewer, flash, status, "Users", body)
}

pub async fn list(
    State(app): State<AppState>,
    viewer: Viewer,
    flash: Flash,
    Query(query): Query<ListQuery>,
) -> Response {
    render_list(&app, &viewer, &flash, query, None).await
}

pub async fn create(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Query(query): Query<ListQuery>,
    Form(form): Form<NewUserForm>,
) -> Response {
    let tenant = query.tenant.clone().unwrap_or_default();
    if form.email != form.confirm_email {
        let e = "The two e-mail addresses differ (field: confirm_email)".to_owned();
        let refused = Some((StatusCode::UNPROCESSABLE_ENTITY, e, form));
        return render_list(&app, &viewer, &Flash::default(), query, refused).await;
    }
    let must_change = form.must_change.is_some();
    let access = match form.password_mode.as_str() {
        "generate" => FirstAccess::Password { password: NewPassword::Generate, must_change },
        "enter" => FirstAccess::Password {
            password: NewPassword::Given(form.password.clone()),
            must_change,
        },
        _ if form.send_invitation.is_some() => FirstAccess::Invitation,
        _ => FirstAccess::Pending,
    };
    let spec = UserSpec {
        logon: form.logon.clone(),
        first_name: form.first_name.clone(),
        last_name: form.last_name.clone(),
        email: form.email.clone(),
        phone: Some(form.phone.clone()).filter(|p| !p.is_empty()),
        roles: form.roles.clone(),
    };
    let at = tenant.clone();
    let created = call::op(&app, &viewer, &source, move |ctx, by| {
        ops::users::create_user(ctx, by, &at, spec, access)
    })
    .await;
    match created {
        Ok(created) => {
            let id = created.committed.output.to_string();
            if let Some(generated) = created.generated_password {
                // R14: shown once to the creator, never mailed; so not a redirect.
                let page = html! {
                    p.notice role="status" { "User " (form.logon) " was added." }
                    p { "Their password, shown this once: " code #generated { (generated) } }
                    p { a href=(format!("/users/{id}")) { "Open " (form.logon) } }
                };
                return page_with_status(
                    &app,
                    &viewer,
                    &Flash::default(),
                    StatusCode::CREATED,
                    "User added",
                    page,
                );
            }
            let invited = app
                .deputy()
                .snapshot()
                .principal(created.committed.output)
                .is_some_and(|p| p.status == deputy_core::Status::Invited);
            let invited = if invited { "; an invitation was sent" } else { "" };
            redirect_with(
                &app,
                &format!("/users/{id}"),
                &format!("User {} was added{invited}.", form.logon),
            )
        }
        Err(e) => {
            let refused = Some((e.status(), call::refusal(&e), form));
            render_list(&app, &viewer, &Flash::default(), query, refused).await
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
    let p = match api::get_principal(State(app.clone()), viewer.authed(), Path(id)).await {
        Ok(axum::Json(p)) => p,
        Err(e) => {
            let body = html! { (error_box(Some(&call::refusal(&e)))) };
            return page_with_status(app, viewer, flash, e.status(), "User", body);
        }
    };
    let home = deputy_service::resolve::tenant(&s, &p.home.id).ok();
    let roles = home.map(|t| givable_roles(app, &s, viewer, t)).unwrap_or_default();
    let (status, error) = match refused {
        Some((status, error)) => (status, Some(error)),
        None => (StatusCode::OK, None),
    };
    let base = format!("/users/{}", p.id);
    let body = html! {
        p {
            (p.first_name) " " (p.last_name) @if p.admin { (crown()) }
            @if p.contact { span.badge { "contact person" } }
        }
        dl {
            dt { "Logon name" } dd { (p.logon) }
            dt { "Home tenant" } dd { a href=(format!("/users?tenant={}", p.home.id)) { (tenant_name(&s, &p.home.id)) } }
            dt { "E-mail" } dd { (p.email) @if !p.email_verified { " " span.badge { "not verified" } } }
            dt { "Status" } dd { (p.status) }
            @if let Some(o) = &p.owner { dt { "Secondary logon of" } dd { (principal_name(&s, &o.id)) } }
        }
        (error_box(error.as_deref()))
        h2 { "Actions" }
        p {
            @if p.status == "pending" || p.status == "invited" {
                (action_button(viewer, &format!("{base}/invitation"), if p.status == "pending" { "Send Invitation" } else { "Resend Logon Access Email" }))
                " "
            }
            @if p.status == "active" {
                (action_button(viewer, &format!("{base}/password-reset"), "Reset Password")) " "
                @if !p.contact && p.kind == "user" {
                    (action_button(viewer, &format!("{base}/contact"), "Make Contact Person")) " "
                }
                a href=(format!("/impersonate/{}", p.id)) { "Impersonate" } " "
            }
            (status::buttons(viewer, &base, &p.status))
            @if p.status != "cancelled" {
                " "
                form.inline method="post" action=(format!("{base}/cancel")) {
                    (csrf(&viewer.csrf))
                    button.danger type="submit" { "Cancel account" }
                }
            }
        }
        h2 { "Roles" }
        @if p.assignments.is_empty() { p.muted { "No roles." } }
        ul {
            @for a in &p.assignments {
                li {
                    (profile::assignment_text(&s, a)) " "
                    (action_button(viewer, &format!("{base}/roles/{}/remove", a.id), "Remove"))
                }
            }
        }
        @if !roles.is_empty() && p.kind != "delegate" {
            form.stack method="post" action=(format!("{base}/permissions")) {
                (csrf(&viewer.csrf))
                label for="permission" { "Give a single permission" }
                select #permission name="permission" {
                    @for x in 0..s.catalog.permissions.len() {
                        @let name = s.catalog.perm_name(deputy_core::PermId(x as u32));
                        option value=(name) { (name) }
                    }
                }
                p { button type="submit" { "Give permission" } }
            }
            form.stack method="post" action=(format!("{base}/roles")) {
                (csrf(&viewer.csrf))
                label for="role" { "Give role" }
                select #role name="role" { @for r in &roles { option value=(r) { (r) } } }
                label { input type="checkbox" name="subtree" value="yes"; " Also in its sub-tenants" }
                p { button type="submit" { "Give role" } }
            }
        }
        p { a href=(format!("/activity?principal={}", p.id)) { "Activity of " (p.logon) } }
    };
    page_with_status(app, viewer, flash, status, "User", body)
}

pub async fn detail(
    State(app): State<AppState>,
    viewer: Viewer,
    flash: Flash,
    Path(id): Path<String>,
) -> Response {
    render_detail(&app, &viewer, &flash, id, None).await
}

/// The answer to an action on a user: back to the user with a notice, or the refusal.
pub(crate) async fn after<T>(
    app: &AppState,
    viewer: &Viewer,
    id: String,
    answer: Result<T, deputy_http::problem::ApiError>,
    notice: &str,
) -> Response {
    match answer {
        Ok(_) => redirect_with(app, &format!("/users/{id}"), notice),
        Err(e) => {
            let refused = Some((e.status(), call::refusal(&e)));
            render_detail(app, viewer, &Flash::default(), id, refused).await
        }
    }
}

pub async fn set_status(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<status::StatusForm>,
) -> Response {
    let base = format!("/users/{id}");
    match status::change(&app, source, &viewer, &id, &base, form).await {
        Ok((answer, notice)) => after(&app, &viewer, id, answer, notice).await,
        Err(preview) => preview,
    }
}

pub async fn invite(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    let who = id.clone();
    let answer =
        call::op(&app, &viewer, &source, move |ctx, by| ops::users::invite(ctx, by, &who)).await;
    after(&app, &viewer, id, answer, "The logon access e-mail was sent.").await
}

pub async fn reset(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    let who = id.clone();
    let answer =
        call::op(&app, &viewer, &source, move |ctx, by| ops::users::reset_password(ctx, by, &who))
            .await;
    after(&app, &viewer, id, answer, "A password reset e-mail was sent.").await
}

pub async fn make_contact(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    let home = super::home_of(&app.deputy().snapshot(), &id).unwrap_or_default();
    let change = ops::tenants::TenantChange { contact: Some(id.clone()), ..Default::default() };
    let answer = call::op(&app, &viewer, &source, move |ctx, by| {
        ops::tenants::change(ctx, by, &home, change)
    })
    .await;
    after(&app, &viewer, id, answer, "This user is now the contact person.").await
}

#[derive(Debug, Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    pub(crate) confirm: Option<String>,
}

/// Cancelling is terminal (R20) and takes the principal's secondary logons with it (R36):
/// previewed first (R67).
pub async fn cancel(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> Response {
    if form.confirm.is_none() {
        let confirm = html! {
            p { "Cancelling cannot be undone: its sessions, API keys, invitations and secondary logons end now." }
            form method="post" action=(format!("/users/{id}/cancel")) {
                (csrf(&viewer.csrf))
                input type="hidden" name="confirm" value="yes";
                button.danger type="submit" { "Cancel account" }
            }
        };
        let change = serde_json::json!({"action": "cancel", "principal": id});
        return preview(
            &app,
            &viewer,
            change,
            "Cancel this account?",
            confirm,
            &format!("/users/{id}"),
        )
        .await;
    }
    let who = id.clone();
    let answer =
        call::op(&app, &viewer, &source, move |ctx, by| ops::users::cancel(ctx, by, &who)).await;
    after(&app, &viewer, id, answer, "The account was cancelled.").await
}
