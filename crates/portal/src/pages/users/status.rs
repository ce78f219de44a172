//! Deactivating and reactivating a principal (R11, R20), shared by a user's page and a
//! secondary logon's page: deactivation is previewed first (R67).

use crate::layout::csrf;
use crate::pages::preview::preview;
use crate::viewer::Viewer;
use axum::response::Response;
use deputy_core::{PrincipalId, Status};
use deputy_http::AppState;
use deputy_http::caller::Source;
use deputy_http::problem::ApiError;
use deputy_service::Committed;
use maud::{Markup, html};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    confirm: Option<String>,
}

/// Deactivate (active) or Reactivate (deactivated) for the page at `base` (`/users/p7`).
pub(crate) fn buttons(viewer: &Viewer, base: &str, status: &str) -> Markup {
    html! {
        @if status == "active" {
            form.inline method="post" action=(format!("{base}/status")) {
                (csrf(&viewer.csrf))
                input type="hidden" name="status" value="deactivated";
                button.danger type="submit" { "Deactivate" }
            }
        }
        @if status == "deactivated" {
            form.inline method="post" action=(format!("{base}/status")) {
                (csrf(&viewer.csrf))
                input type="hidden" name="status" value="active";
                input type="hidden" name="confirm" value="yes";
                button type="submit" { "Reactivate" }
            }
        }
    }
}

/// What a status form leads to: the preview page (`Err`), or the API's answer with the
/// notice to show on success (`Ok`).
pub(crate) async fn change(
    app: &AppState,
    source: Source,
    viewer: &Viewer,
    id: &str,
    base: &str,
    form: StatusForm,
) -> Result<(Result<Committed<PrincipalId>, ApiError>, &'static str), Response> {
    if form.status == "deactivated" && form.confirm.is_none() {
        let confirm = html! {
            form method="post" action=(format!("{base}/status")) {
                (csrf(&viewer.csrf))
                input type="hidden" name="status" value="deactivated";
                input type="hidden" name="confirm" value="yes";
                button.danger type="submit" { "Deactivate" }
            }
        };
        let change = serde_json::json!({"action": "deactivate", "principal": id});
        return Err(preview(app, viewer, change, "Deactivate?", confirm, base).await);
    }
    let notice = if form.status == "active" { "Reactivated." } else { "Deactivated." };
    let status = if form.status == "active" { Status::Active } else { Status::Deactivated };
    let who = id.to_owned();
    let answer = crate::call::op(app, viewer, &source, move |ctx, by| {
        deputy_service::ops::users::set_status(ctx, by, &who, status, None)
    })
    .await;
    Ok((answer, notice))
}
