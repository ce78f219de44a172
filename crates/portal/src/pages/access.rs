//! Access codes (R37a): issued on the Users page for the tenant, redeemed on My Profile.

use crate::call;
use crate::flash::{Flash, redirect_with};
use crate::layout::page_with_status;
use crate::pages::users::profile::render;
use crate::pages::users::{ListQuery, NewUserForm, render_list};
use crate::viewer::Viewer;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::Form;
use deputy_http::AppState;
use deputy_http::caller::Source;
use deputy_service::ops;
use maud::html;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    roles: Vec<String>,
}

/// Issues an access code (R37a); it is shown once, so the answer is a page, not a redirect.
pub async fn issue_code(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Query(query): Query<ListQuery>,
    Form(form): Form<CodeForm>,
) -> Response {
    let tenant = query.tenant.clone().unwrap_or_default();
    let at = tenant.clone();
    let issued = call::op(&app, &viewer, &source, move |ctx, by| {
        ops::access::issue_code(ctx, by, &at, &form.roles, None)
    })
    .await;
    match issued {
        Ok(issued) => {
            let code = issued.output.code;
            let page = html! {
                p { "The access code, shown this once: " code #access-code { (code) } }
                p { a href=(format!("/users?tenant={tenant}")) { "Back to the users" } }
            };
            page_with_status(
                &app,
                &viewer,
                &Flash::default(),
                StatusCode::CREATED,
                "Access code",
                page,
            )
        }
        Err(e) => {
            let refused = Some((e.status(), call::refusal(&e), NewUserForm::default()));
            render_list(&app, &viewer, &Flash::default(), query, refused).await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct RedeemForm {
    #[serde(default)]
    code: String,
}

/// "Add Access to Another Business" (R37a; a secondary logon's code lands on its owner, R37).
pub async fn redeem(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Form(form): Form<RedeemForm>,
) -> Response {
    match call::op(&app, &viewer, &source, move |ctx, by| {
        ops::access::redeem_code(ctx, by, &form.code)
    })
    .await
    {
        Ok(_) => redirect_with(&app, "/profile", "Access added."),
        Err(e) => render(&app, &viewer, &Flash::default(), e.status(), Some(&call::refusal(&e))),
    }
}
