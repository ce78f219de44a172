//! My Profile (R59): name, e-mail, phone, roles, and links to the password and activity.

use crate::call;
use crate::flash::{Flash, redirect_with, see_other};
use crate::layout::{csrf, error_box, page_with_status};
use crate::pages::tenant_name;
use crate::viewer::Viewer;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::Form;
use deputy_core::State as Snapshot;
use deputy_http::AppState;
use deputy_http::caller::Source;
use deputy_http::routes::users::{AssignmentView, PrincipalView, ProfileRequest};
use deputy_service::ops;
use maud::{Markup, html};
use serde::Deserialize;

pub async fn home() -> Response {
    see_other("/profile")
}

/// An assignment in words: "admin in Natural Health (and below)".
pub(crate) fn assignment_text(s: &Snapshot, a: &AssignmentView) -> String {
    let what = a.role.clone().or_else(|| a.permission.clone()).unwrap_or_default();
    let t = &a.target;
    let place = match t.kind.as_str() {
        "tenant" => tenant_name(s, &t.id),
        "client" => format!("client {}", tenant_name(s, &t.id)),
        "group" => format!("group {}", t.name.as_deref().unwrap_or(&t.id)),
        other => format!("{other} {}", t.key.as_deref().unwrap_or(&t.id)),
    };
    let below = if t.subtree == Some(true) { " and below" } else { "" };
    format!("{what} in {place}{below}")
}

/// Name, e-mail and phone of a person: My Profile, and a secondary logon's Settings.
#[derive(Debug, Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
}

impl ProfileForm {
    /// Only what changed: an unchanged e-mail is no change (R48 forbids an impersonator
    /// changing the target's).
    pub(crate) fn changes(self, current: &PrincipalView) -> ProfileRequest {
        let changed = |new: String, old: &str| (new != old).then_some(new);
        ProfileRequest {
            first_name: changed(self.first_name, &current.first_name),
            last_name: changed(self.last_name, &current.last_name),
            email: changed(self.email, &current.email),
            phone: changed(self.phone, current.phone.as_deref().unwrap_or_default()),
            description: None,
            internal_description: None,
            attributes: serde_json::Map::new(),
        }
    }
}

/// The fields of [`ProfileForm`], filled with `p`'s values.
pub(crate) fn person_fields(p: &PrincipalView) -> Markup {
    html! {
        label for="first_name" { "First name" }
        input #first_name type="text" name="first_name" value=(p.first_name) required;
        label for="last_name" { "Last name" }
        input #last_name type="text" name="last_name" value=(p.last_name) required;
        label for="email" { "E-mail" }
        input #email type="email" name="email" value=(p.email) required;
        label for="phone" { "Phone (optional)" }
        input #phone type="text" name="phone" value=(p.phone.clone().unwrap_or_default());
    }
}

pub(crate) fn render(
    app: &AppState,
    viewer: &Viewer,
    flash: &Flash,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let s = app.deputy().snapshot();
    let me = viewer.acting_principal();
    let body: Markup = html! {
        dl {
            dt { "Logon name" } dd { (me.logon) }
            dt { "Home tenant" } dd { (tenant_name(&s, &me.home.id)) }
            dt { "E-mail" } dd {
                (me.email)
                @if !me.email_verified { " " span.badge { "not verified" } }
            }
            dt { "Roles" } dd {
                @if me.assignments.is_empty() { span.muted { "none" } }
                ul { @for a in &me.assignments { li { (assignment_text(&s, a)) } } }
            }
        }
        h2 { "Details" }
        (error_box(error))
        form.stack method="post" action="/profile" {
            (csrf(&viewer.csrf))
            (person_fields(me))
            p { button type="submit" { "Save" } }
        }
        h2 { "Add Access to Another Business" }
        p.muted { "A business gave you an access code? Enter it to get the roles it carries there (R37a)." }
        form.stack method="post" action="/access-codes" {
            (csrf(&viewer.csrf))
            label for="code" { "Access code" }
            input #code type="text" name="code" autocomplete="off" required;
            p { button type="submit" { "Add access" } }
        }
        p {
            a href="/password" { "Change my password" } " · "
            a href=(format!("/activity?principal={}", me.id)) { "My activity" }
        }
    };
    page_with_status(app, viewer, flash, status, "My Profile", body)
}

pub async fn page(State(app): State<AppState>, viewer: Viewer, flash: Flash) -> Response {
    render(&app, &viewer, &flash, StatusCode::OK, None)
}

pub async fn update(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Form(form): Form<ProfileForm>,
) -> Response {
    let me = viewer.acting_principal().clone();
    let update = match form.changes(&me).into_update() {
        Ok(update) => update,
        Err(e) => {
            return render(&app, &viewer, &Flash::default(), e.status(), Some(&call::refusal(&e)));
        }
    };
    match call::op(&app, &viewer, &source, move |ctx, by| {
        ops::users::update_profile(ctx, by, &me.id, update)
    })
    .await
    {
        Ok(_) => redirect_with(&app, "/profile", "Your details were saved."),
        Err(e) => render(&app, &viewer, &Flash::default(), e.status(), Some(&call::refusal(&e))),
    }
}
