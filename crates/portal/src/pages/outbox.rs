//! The mail outbox (R61): what Deputy sent or would send, for holders of `outbox.view` in
//! the root, when no SMTP server is configured (or to see what went out).

use super::when;
use crate::call;
use crate::flash::Flash;
use crate::layout::{error_box, page_with_status};
use crate::viewer::Viewer;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use deputy_http::AppState;
use deputy_http::routes::ApiQuery;
use deputy_http::routes::outbox::{OutboxParams, outbox};
use maud::html;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct OutboxQuery {
    cursor: Option<String>,
}

pub async fn page(
    State(app): State<AppState>,
    viewer: Viewer,
    flash: Flash,
    Query(query): Query<OutboxQuery>,
) -> Response {
    let params = OutboxParams { cursor: query.cursor, limit: Some(50) };
    let (status, body) = match outbox(State(app.clone()), viewer.authed(), ApiQuery(params)).await {
        Err(e) => (e.status(), html! { (error_box(Some(&call::refusal(&e)))) }),
        Ok(axum::Json(page)) => (
            StatusCode::OK,
            html! {
                @if page.items.is_empty() { p.muted { "No mail yet." } }
                @for m in &page.items {
                    article.mail {
                        h2 { (m.subject) }
                        p.muted {
                            "To " (m.recipient) ", queued " (when(m.created_at)) " UTC; "
                            @if let Some(at) = m.sent_at { "sent " (when(at)) " UTC" }
                            @else { "not sent (" (m.attempts) " attempts)" }
                            @if let Some(e) = &m.last_error { "; last error: " (e) }
                        }
                        pre { (m.body) }
                    }
                }
                @if let Some(next) = &page.next_cursor {
                    p { a href=(format!("/outbox?cursor={next}")) { "More" } }
                }
            },
        ),
    };
    page_with_status(&app, &viewer, &flash, status, "Mail outbox", body)
}
