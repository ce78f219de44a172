//! Changing one's own password, also when a change is forced (R14, R15).

use crate::call;
use crate::flash::{Flash, redirect_with};
use crate::layout::{csrf, error_box, page_with_status};
use crate::viewer::Viewer;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::Form;
use deputy_http::AppState;
use deputy_http::caller::Source;
use deputy_http::routes::sessions::{password_change_refusal, with_session};
use maud::html;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

fn render(
    app: &AppState,
    viewer: &Viewer,
    flash: &Flash,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let forced = viewer.caller.data.must_change_password;
    page_with_status(
        app,
        viewer,
        flash,
        status,
        "Change password",
        html! {
            @if forced {
                p.notice role="status" { "Choose a new password before you continue." }
            }
            (error_box(error))
            form.stack method="post" action="/password" {
                (csrf(&viewer.csrf))
                label for="current_password" { "Current password" }
                input #current_password type="password" name="current_password" autocomplete="current-password" required;
                label for="new_password" { "New password (at least 12 characters)" }
                input #new_password type="password" name="new_password" autocomplete="new-password" minlength="12" required;
                label for="confirm_password" { "New password again" }
                input #confirm_password type="password" name="confirm_password" autocomplete="new-password" required;
                p { button type="submit" { "Change password" } }
            }
        },
    )
}

pub async fn form(State(app): State<AppState>, viewer: Viewer, flash: Flash) -> Response {
    render(&app, &viewer, &flash, StatusCode::OK, None)
}

pub async fn submit(
    State(app): State<AppState>,
    source: Source,
    viewer: Viewer,
    Form(form): Form<PasswordForm>,
) -> Response {
    if form.new_password != form.confirm_password {
        let e = "The two new passwords differ (field: confirm_password)";
        return render(&app, &viewer, &Flash::default(), StatusCode::UNPROCESSABLE_ENTITY, Some(e));
    }
    let (worker, caller, source) = (app.clone(), viewer.caller.clone(), source.0);
    let changed = deputy_http::routes::blocking(move || {
        let (current, new) = (&form.current_password, &form.new_password);
        let session = worker
            .auth()
            .change_password(&caller, current, new, source.as_deref())
            .map_err(password_change_refusal)?;
        Ok(with_session(&worker, session))
    })
    .await;
    match changed {
        Ok(changed) => {
            let mut response = redirect_with(&app, "/", "Your password was changed.");
            call::carry_cookies(&changed, &mut response);
            response
        }
        Err(e) => render(&app, &viewer, &Flash::default(), e.status(), Some(&call::refusal(&e))),
    }
}
