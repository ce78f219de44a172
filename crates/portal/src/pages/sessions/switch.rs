//! Switch Tenant (R43) and impersonation (R48, R49, R68): each rotates the session (R23),
//! through the API's own handlers.

use crate::call;
use crate::flash::{Flash, redirect_with};
use crate::layout::{csrf, error_box, page_with_status};
use crate::pages::tenant_name;
use crate::viewer::Viewer;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::Form;
use deputy_core::{GrantStatus, TenantId};
use deputy_http::AppState;
use deputy_http::caller::Source;
use deputy_http::routes::users::get_principal;
use deputy_service::ops;
use maud::html;
use serde::Deserialize;

/// Where the viewer may act: its home, and every client that lets it switch in (R43).
fn switch_targets(app: &AppState, viewer: &Viewer) -> Vec<(TenantId, String)> {
    let s = app.deputy().snapshot();
    let me = viewer.caller.principal;
    let Some(home) = s.principal(me).map(|p| p.home) else { return vec![] };
    let now = app.deputy().now();
    let mut clients: Vec<TenantId> = s
        .grants_to(home)
        .filter(|g| g.status == GrantStatus::Active)
        .map(|g| g.client)
        .filter(|c| s.may_switch_into(me, *c, now))
        .collect();
    clients.sort_unstable();
    clients.dedup();
    std::iter::once(home)
        .chain(clients)
        .filter_map(|t| s.tenant(t).map(|x| (t, x.name.to_string())))
        .collect()
}

fn render_switch(
    app: &AppState,
    viewer: &Viewer,
    flash: &Flash,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let s = app.deputy().snapshot();
    let acting = viewer.acting_tenant(&s);
    let targets = switch_targets(app, viewer);
    let home = s.principal(viewer.caller.principal).map(|p| p.home);
    let body = html! {
        (error_box(error))
        @if viewer.me.impersonating.is_some() {
            p { "Stop impersonating before you switch tenants." }
        } @else {
            p { "Act in another tenant that granted your company access. "
                "There you have only the roles your company gave you for it." }
            form.stack method="post" action="/switch" {
                (csrf(&viewer.csrf))
                fieldset {
                    legend { "Tenant" }
                    @for (id, name) in &targets {
                        label {
                            input type="radio" name="tenant" value=(id.to_string()) checked[Some(*id) == acting];
                            " " (name)
                            @if Some(*id) == home { " (home)" }
                        }
                    }
                }
                p { button type="submit" { "Switch" } }
            }
        }
    };
    page_with_status(app, viewer, flash, status, "Switch Tenant", body)
}

pub async fn switch_form(State(app): State<AppState>, viewer: Viewer, flash: Flash) -> Response {
    render_switch(&app, &viewer, &flash, StatusCode::OK, None)
}

#[derive(Debug, Deserialize)]
pub struct SwitchForm {
    #[serde(default)]
    tenant: String,
}

pub async fn switch(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Form(form): Form<SwitchForm>,
) -> Response {
    let name = tenant_name(&app.deputy().snapshot(), &form.tenant);
    let tenant = form.tenant;
    let switched = call::session_op(&app, &viewer, &source, move |ctx, caller, source| {
        ops::sessions::switch(ctx, caller, source, &tenant)
    })
    .await;
    match switched {
        Ok(switched) => {
            let mut response = redirect_with(&app, "/", &format!("You now act in {name}."));
            call::carry_cookies(&switched, &mut response);
            response
        }
        Err(e) => {
            render_switch(&app, &viewer, &Flash::default(), e.status(), Some(&call::refusal(&e)))
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ImpersonateForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    minutes: Option<i64>,
    #[serde(default)]
    notify_target: Option<String>,
}

async fn render_impersonate(
    app: &AppState,
    viewer: &Viewer,
    id: String,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let flash = Flash::default();
    let target = match get_principal(State(app.clone()), viewer.authed(), Path(id)).await {
        Ok(axum::Json(t)) => t,
        Err(e) => {
            let body = html! { (error_box(Some(&call::refusal(&e)))) };
            return page_with_status(app, viewer, &flash, e.status(), "Impersonate", body);
        }
    };
    let body = html! {
        p { "You are about to act as " strong { (target.first_name) " " (target.last_name) }
            " (" (target.logon) "). Everything you do is recorded with your name and theirs." }
        (error_box(error))
        form.stack method="post" action=(format!("/impersonate/{}", target.id)) {
            (csrf(&viewer.csrf))
            label for="reason" { "Reason or ticket number" }
            input #reason type="text" name="reason" required;
            label for="minutes" { "For how many minutes (at most 60)" }
            input #minutes type="number" name="minutes" value="30" min="1" max="60";
            label { input type="checkbox" name="notify_target" value="yes"; " Tell them by e-mail" }
            p { button type="submit" { "Start impersonating" } }
        }
    };
    page_with_status(app, viewer, &flash, status, "Impersonate", body)
}

pub async fn impersonate_form(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    render_impersonate(&app, &viewer, id, StatusCode::OK, None).await
}

pub async fn impersonate(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ImpersonateForm>,
) -> Response {
    let target = id.clone();
    let started = call::session_op(&app, &viewer, &source, move |ctx, caller, source| {
        let ask = ops::sessions::Impersonate {
            target: &target,
            reason: &form.reason,
            minutes: form.minutes,
            notify_target: form.notify_target.is_some(),
        };
        ops::sessions::impersonate(ctx, caller, source, ask)
    })
    .await;
    match started {
        Ok(started) => {
            let mut response = redirect_with(&app, "/profile", "Impersonation started.");
            call::carry_cookies(&started, &mut response);
            response
        }
        Err(e) => render_impersonate(&app, &viewer, id, e.status(), Some(&call::refusal(&e))).await,
    }
}

pub async fn stop_impersonating(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
) -> Response {
    let stopped = call::session_op(&app, &viewer, &source, ops::sessions::stop_impersonating).await;
    match stopped {
        Ok(stopped) => {
            let mut response = redirect_with(&app, "/profile", "Impersonation stopped.");
            call::carry_cookies(&stopped, &mut response);
            response
        }
        Err(e) => {
            let body = html! { (error_box(Some(&call::refusal(&e)))) };
            page_with_status(&app, &viewer, &Flash::default(), e.status(), "Impersonation", body)
        }
    }
}
