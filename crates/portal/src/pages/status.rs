//! Deactivating and reactivating a principal (R11, R20), shared by a user's page and a
//! secondary logon's page: deactivation is previewed first (R67).

use super::preview::preview;
use crate::layout::csrf;
use crate::viewer::Viewer;
use axum::extract::{Path, State};
use axum::response::Response;
use deputy_http::AppState;
use deputy_http::caller::Source;
use deputy_http::problem::ApiError;
use deputy_http::routes::ApiJson;
use deputy_http::routes::principals::{StatusChange, set_status};
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
) -> Result<(Result<Response, ApiError>, &'static str), Response> {
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
    let request = StatusChange { status: form.status, reason: None };
    let answer = set_status(
        State(app.clone()),
        viewer.authed(),
        source,
        Path(id.to_owned()),
        ApiJson(request),
    )
    .await;
    Ok((answer, notice))
}
