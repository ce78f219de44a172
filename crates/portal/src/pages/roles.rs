//! Roles on a user's page (R27, R32): a role or a single permission given at the user's
//! home tenant, and an assignment removed after a preview of what it takes away (R67).

use crate::call;
use crate::layout::csrf;
use crate::pages::preview::preview;
use crate::pages::users::{ConfirmForm, after};
use crate::viewer::Viewer;
use axum::extract::{Path, State};
use axum::response::Response;
use axum_extra::extract::Form;
use deputy_http::AppState;
use deputy_http::caller::Source;
use deputy_service::ops;
use deputy_service::ops::roles::{Given, Place};
use maud::html;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    subtree: Option<String>,
}

pub async fn give_role(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<RoleForm>,
) -> Response {
    let notice = format!("Role {} given.", form.role);
    let subtree = form.subtree.is_some();
    assign_at_home(&app, source, &viewer, id, Some(form.role), None, subtree, &notice).await
}

/// A role or a single permission for `id` in its home tenant, through the API (R27).
#[allow(clippy::too_many_arguments)]
async fn assign_at_home(
    app: &AppState,
    source: Source,
    viewer: &Viewer,
    id: String,
    role: Option<String>,
    permission: Option<String>,
    subtree: bool,
    notice: &str,
) -> Response {
    let given = match (role, permission) {
        (Some(r), _) => Given::Role(r),
        (None, p) => Given::Permission(p.unwrap_or_default()),
    };
    let tenant = super::home_of(&app.deputy().snapshot(), &id).unwrap_or_default();
    let place = Place::Tenant { tenant, subtree };
    let who = id.clone();
    let answer = call::op(app, viewer, &source, move |ctx, by| {
        ops::roles::assign(ctx, by, &who, given, place, None)
    })
    .await;
    after(app, viewer, id, answer, notice).await
}

pub async fn remove_role(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Path((id, assignment)): Path<(String, String)>,
    Form(form): Form<ConfirmForm>,
) -> Response {
    let action = format!("/users/{id}/roles/{assignment}/remove");
    if form.confirm.is_none() {
        let confirm = html! {
            form method="post" action=(action) {
                (csrf(&viewer.csrf))
                input type="hidden" name="confirm" value="yes";
                button.danger type="submit" { "Remove role" }
            }
        };
        let change =
            serde_json::json!({"action": "unassign", "principal": id, "assignment": assignment});
        return preview(&app, &viewer, change, "Remove role?", confirm, &format!("/users/{id}"))
            .await;
    }
    let who = id.clone();
    let answer = call::op(&app, &viewer, &source, move |ctx, by| {
        ops::roles::unassign(ctx, by, &who, &assignment)
    })
    .await;
    after(&app, &viewer, id, answer, "Role removed.").await
}

#[derive(Debug, Deserialize)]
pub struct PermissionForm {
    #[serde(default)]
    permission: String,
}

/// A single permission (R26: refused, naming what is missing, when it requires others
/// the user will not hold there).
pub async fn give_permission(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<PermissionForm>,
) -> Response {
    let notice = format!("Permission {} given.", form.permission);
    assign_at_home(&app, source, &viewer, id, None, Some(form.permission), false, &notice).await
}
