//! Previews before harm (R67): who would lose (or gain) which access if a pending change
//! were made, computed by the engine without committing it; then a button to go on.

use super::{principal_name, tenant_name};
use crate::call;
use crate::flash::Flash;
use crate::layout::{error_box, page_with_status};
use crate::viewer::Viewer;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use deputy_http::AppState;
use deputy_http::routes::ApiJson;
use deputy_http::routes::reports::{WhatIfRequest, what_if};
use maud::{Markup, html};

/// R67: before harm, who would lose (or gain) which access; then a button to go on.
pub async fn preview(
    app: &AppState,
    viewer: &Viewer,
    change: serde_json::Value,
    title: &str,
    confirm: Markup,
    back: &str,
) -> Response {
    let s = app.deputy().snapshot();
    let request: WhatIfRequest =
        match serde_json::from_value(serde_json::json!({ "change": change, "limit": 200 })) {
            Ok(r) => r,
            Err(_) => return crate::flash::see_other(back),
        };
    let answer = what_if(State(app.clone()), viewer.authed(), ApiJson(request)).await;
    let body = match answer {
        Err(e) => html! {
            (error_box(Some(&call::refusal(&e))))
            p { a href=(back) { "Back" } }
        },
        Ok(axum::Json(w)) => html! {
            @if w.rows.is_empty() {
                p { "Nobody would lose or gain any access." }
            } @else {
                p { "If you go on, this is who would lose or gain which access:" }
                table {
                    thead { tr { th { "Who" } th { "Permission" } th { "Where" } th { "Change" } } }
                    tbody {
                        @for row in &w.rows {
                            tr {
                                td { (principal_name(&s, &row.principal.id))
                                    @if let Some(c) = &row.switched_into { " (switched into " (tenant_name(&s, &c.id)) ")" } }
                                td { (row.permission) }
                                td { (tenant_name(&s, &row.tenant.id))
                                    @if let Some(r) = &row.resource { ", account " (r.key) } }
                                td { (row.change) }
                            }
                        }
                    }
                }
                @if w.next_cursor.is_some() { p.muted { "More rows follow; the first 200 are shown." } }
            }
            @if let Some(why) = &w.stopped { p.muted { "The preview stopped early: " (why) } }
            (confirm)
            p { a href=(back) { "Cancel" } }
        },
    };
    page_with_status(app, viewer, &Flash::default(), StatusCode::OK, title, body)
}

#[derive(Debug, serde::Deserialize)]
pub struct PlaceForm {
    #[serde(default)]
    group: String,
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    confirm: Option<String>,
}

/// Moving a tenant into another group of its owner (a user's or a partner's, R38, R41):
/// the preview page first (`Err`), then the API's answer (`Ok`). `action` is the form's
/// own path, `back` where Cancel leads.
pub(crate) async fn place_in_group(
    app: &AppState,
    source: deputy_http::caller::Source,
    viewer: &Viewer,
    form: PlaceForm,
    action: &str,
    back: &str,
) -> Result<Result<deputy_service::Committed<()>, deputy_http::problem::ApiError>, Response> {
    if form.confirm.is_none() {
        let confirm = html! {
            form method="post" action=(action) {
                (crate::layout::csrf(&viewer.csrf))
                input type="hidden" name="group" value=(form.group);
                input type="hidden" name="tenant" value=(form.tenant);
                input type="hidden" name="confirm" value="yes";
                button type="submit" { "Move" }
            }
        };
        let change = serde_json::json!({
            "action": "place_in_group", "group": form.group, "tenant": form.tenant
        });
        return Err(preview(app, viewer, change, "Move to another group?", confirm, back).await);
    }
    let (group, tenant) = (form.group, form.tenant);
    Ok(crate::call::op(app, viewer, &source, move |ctx, by| {
        deputy_service::ops::groups::place(ctx, by, &group, &tenant)
    })
    .await)
}
