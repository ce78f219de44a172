//! Activity (R21, R49, R59): the viewer's own, or that of a principal or tenant it may
//! watch, filtered; the API decides what is visible.

use super::{principal_name, tenant_name, when};
use crate::call;
use crate::flash::Flash;
use crate::layout::{error_box, page_with_status};
use crate::viewer::Viewer;
use axum::extract::{Query, State};
use axum::response::Response;
use deputy_http::AppState;
use deputy_http::routes::ApiQuery;
use deputy_http::routes::activity::{ActivityParams, activity};
use deputy_http::routes::refs::EntityRef;
use maud::html;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    principal: String,
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    cursor: Option<String>,
}

/// An entry's principal or tenant by name when the API named it (the viewer may see it,
/// R58), else by id alone.
fn label(s: &deputy_core::State, e: &EntityRef) -> String {
    match (e.kind.as_str(), &e.logon, &e.key, &e.name) {
        ("principal", Some(_), _, _) => principal_name(s, &e.id),
        ("tenant", _, Some(_), _) => tenant_name(s, &e.id),
        (_, Some(name), _, _) | (_, _, Some(name), _) | (_, _, _, Some(name)) => name.clone(),
        _ => e.id.clone(),
    }
}

fn some(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

pub async fn page(
    State(app): State<AppState>,
    viewer: Viewer,
    flash: Flash,
    Query(filters): Query<Filters>,
) -> Response {
    let s = app.deputy().snapshot();
    let params = ActivityParams {
        principal: some(&filters.principal),
        tenant: some(&filters.tenant),
        action: some(&filters.action),
        cursor: filters.cursor.clone(),
        limit: Some(100),
    };
    let answer = activity(State(app.clone()), viewer.authed(), ApiQuery(params)).await;
    let form = html! {
        form.inline method="get" action="/activity" {
            label for="principal" { "Principal " }
            input #principal type="text" name="principal" value=(filters.principal) placeholder="logon or id";
            " "
            label for="tenant" { "Tenant " }
            input #tenant type="text" name="tenant" value=(filters.tenant) placeholder="key or id";
            " "
            label for="action" { "Action starts with " }
            input #action type="text" name="action" value=(filters.action) placeholder="principal.";
            " "
            button type="submit" { "Filter" }
        }
    };
    let (status, body) = match answer {
        Err(e) => (e.status(), html! { (form) (error_box(Some(&call::refusal(&e)))) }),
        Ok(axum::Json(page)) => (
            axum::http::StatusCode::OK,
            html! {
                (form)
                table {
                    thead { tr { th { "When (UTC)" } th { "Action" } th { "By" } th { "About" } th { "Tenant" } th { "Acting as" } th { "From" } } }
                    tbody {
                        @for e in &page.items {
                            tr {
                                td { (when(e.at)) }
                                td { (e.action) }
                                td { (e.actor.as_ref().map(|a| label(&s, a)).unwrap_or_default()) }
                                td { (e.subject.as_ref().map(|a| label(&s, a)).unwrap_or_default()) }
                                td { (e.tenant.as_ref().map(|t| label(&s, t)).unwrap_or_default()) }
                                td { @if e.acting_as.as_object().is_some_and(|o| !o.is_empty()) { (e.acting_as.to_string()) } }
                                td { (e.source.clone().unwrap_or_default()) }
                            }
                        }
                    }
                }
                @if let Some(next) = &page.next_cursor {
                    p { a href=(format!("/activity?principal={}&tenant={}&action={}&cursor={next}", filters.principal, filters.tenant, filters.action)) { "Older entries" } }
                }
            },
        ),
    };
    page_with_status(&app, &viewer, &flash, status, "Activity", body)
}
