//! The frame of every page: navigation, the acting tenant, the impersonation banner,
//! notices and errors.

use crate::flash::{self, Flash};
use crate::viewer::Viewer;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use deputy_http::AppState;
use maud::{DOCTYPE, Markup, html};

/// The stylesheet: plain CSS, served from the binary (the CSP allows nothing inline).
pub async fn stylesheet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("../static/portal.css"))
}

/// The crown of R7, as a picture: no emoji font needed.
pub async fn crown_image() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "image/svg+xml")], include_str!("../static/crown.svg"))
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · Deputy" }
            link rel="stylesheet" href="/portal.css";
        }
    }
}

/// A page for someone not signed in (sign-in, password reset, refusals).
pub fn bare_page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body.bare {
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// A hidden CSRF field (see [`crate::guard`]).
pub fn csrf(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// A one-button form: every action is a POST, never a link (no JavaScript needed).
pub fn action_button(viewer: &Viewer, action: &str, label: &str) -> Markup {
    html! {
        form.inline method="post" action=(action) {
            (csrf(&viewer.csrf))
            button type="submit" { (label) }
        }
    }
}

/// An error box for a refused action, naming what was wrong.
pub fn error_box(message: Option<&str>) -> Markup {
    html! {
        @if let Some(m) = message {
            p.error role="alert" { (m) }
        }
    }
}

struct NavItem {
    href: &'static str,
    label: &'static str,
}

fn nav_items(app: &AppState, viewer: &Viewer) -> Vec<NavItem> {
    let s = app.deputy().snapshot();
    let mut items = vec![NavItem { href: "/profile", label: "My Profile" }];
    let acting = viewer.acting_principal();
    if acting.kind == "user" || acting.kind == "delegate" {
        items.push(NavItem { href: "/logons", label: "Manage Secondary Logons" });
    }
    let acting_tenant = viewer.acting_tenant(&s);
    if acting_tenant.is_some_and(|t| viewer.holds(app, &s, deputy_core::perms::USERS_VIEW, t)) {
        items.push(NavItem { href: "/users", label: "Admin → Users" });
    }
    if acting_tenant.is_some_and(|t| viewer.holds(app, &s, deputy_core::perms::TENANTS_VIEW, t)) {
        items.push(NavItem { href: "/tenants", label: "Tenants" });
    }
    if let Some(t) = acting_tenant {
        // R42: a partner sees its clients; every tenant sees who may act in it.
        let partner = s.tenant(t).is_some_and(|x| x.partner);
        if partner && viewer.holds(app, &s, deputy_core::perms::TENANTS_VIEW, t) {
            items.push(NavItem { href: "/customers", label: "My Customers" });
        }
        if viewer.holds(app, &s, deputy_core::perms::PARTNERS_MANAGE, t)
            || viewer.holds(app, &s, deputy_core::perms::TENANTS_VIEW, t)
        {
            items.push(NavItem { href: "/partners", label: "Partner Access" });
        }
    }
    items.push(NavItem { href: "/activity", label: "Activity" });
    if s.root().is_some_and(|root| viewer.holds(app, &s, deputy_core::perms::OUTBOX_VIEW, root)) {
        items.push(NavItem { href: "/outbox", label: "Outbox" });
    }
    items
}

/// A full page for a signed-in viewer. Shows and clears a pending notice.
pub fn page(app: &AppState, viewer: &Viewer, flash: &Flash, title: &str, body: Markup) -> Response {
    page_with_status(app, viewer, flash, StatusCode::OK, title, body)
}

/// [`page`] with a status other than 200 (a refused form comes back as 4xx).
pub fn page_with_status(
    app: &AppState,
    viewer: &Viewer,
    flash: &Flash,
    status: StatusCode,
    title: &str,
    body: Markup,
) -> Response {
    let s = app.deputy().snapshot();
    let me = &viewer.me.principal;
    let acting_tenant = viewer
        .acting_tenant(&s)
        .and_then(|t| s.tenant(t))
        .map(|t| t.name.to_string())
        .unwrap_or_default();
    let switched = viewer.caller.data.switched.is_some();
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                @if let Some(target) = &viewer.me.impersonating {
                    div.banner role="status" {
                        "You are impersonating " strong { (target.first_name) " " (target.last_name) }
                        " (" (target.logon) ")"
                        @if let Some(until) = viewer.me.impersonation_expires_at {
                            span.until { " until " (crate::pages::when(until)) " UTC" }
                        }
                        (action_button(viewer, "/stop-impersonating", "Stop impersonating"))
                    }
                }
                header {
                    a.brand href="/" { "Deputy" }
                    nav aria-label="Main" {
                        ul {
                            @for item in nav_items(app, viewer) {
                                li { a href=(item.href) { (item.label) } }
                            }
                        }
                    }
                    div.usermenu {
                        span.acting title="The tenant this session acts in" {
                            @if switched { "Switched into " } @else { "Acting in " }
                            strong { (acting_tenant) }
                        }
                        span.who { (me.first_name) " " (me.last_name) }
                        a href="/switch" { "Switch Tenant" }
                        (action_button(viewer, "/sign-out", "Sign out"))
                    }
                }
                main {
                    h1 { (title) }
                    @if let Some(notice) = &flash.0 {
                        p.notice role="status" { (notice) }
                    }
                    (body)
                }
            }
        }
    };
    let mut response = (status, markup).into_response();
    if flash.0.is_some() {
        flash::clear(app, &mut response);
    }
    response
}

/// The crown shown beside admins wherever users are listed (R7).
pub fn crown() -> Markup {
    html! { img.crown src="/crown.svg" alt="admin" title="Admin" width="16" height="16"; }
}
