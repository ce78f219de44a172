//! Pages for people not signed in: "Forgot your password?" (R13), the first sign-in from an
//! invitation link (R12) and the reset link (R13). Each calls the API's own handler, so
//! the answers, and their sameness for unknown accounts, are the API's.

use super::sign_in::anonymous_page;
use crate::call;
use crate::flash::redirect_with;
use crate::layout::{csrf, error_box};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum_extra::extract::Form;
use deputy_http::AppState;
use deputy_http::caller::Source;
use deputy_http::routes::sessions::{forgot_password_started, with_session};
use maud::html;
use serde::Deserialize;

fn forgot_page(app: &AppState, headers: &HeaderMap, notice: Option<&str>) -> Response {
    anonymous_page(app, headers, StatusCode::OK, "Forgot your password?", notice, |token| {
        html! {
            p { "Give your logon name or e-mail address. If an account matches, we send it a link to choose a new password." }
            form.stack method="post" action="/forgot-password" {
                (csrf(token))
                label for="logon_or_email" { "Logon name or e-mail" }
                input #logon_or_email type="text" name="logon_or_email" required autofocus;
                p { button type="submit" { "Send reset link" } }
            }
            p { a href="/sign-in" { "Back to sign-in" } }
        }
    })
}

pub async fn forgot_form(State(app): State<AppState>, headers: HeaderMap) -> Response {
    forgot_page(&app, &headers, None)
}

#[derive(Debug, Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    logon_or_email: String,
}

pub async fn forgot(
    State(app): State<AppState>,
    source: Source,
    headers: HeaderMap,
    Form(form): Form<ForgotForm>,
) -> Response {
    // The API answers before doing anything, alike for every input (R13); so does this.
    let answer = forgot_password_started(&app, form.logon_or_email, source.0);
    let mut text = answer.message;
    if let Some(first) = text.get(..1) {
        text = first.to_uppercase() + &text[1..] + ".";
    }
    forgot_page(&app, &headers, Some(&text))
}

#[derive(Debug, Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm_password: String,
}

/// The shared form of the invitation and reset pages.
fn new_password_page(
    app: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    title: &str,
    action: &str,
    error: Option<&str>,
) -> Response {
    anonymous_page(app, headers, status, title, None, |token| {
        html! {
            (error_box(error))
            form.stack method="post" action=(action) {
                (csrf(token))
                label for="password" { "New password (at least 12 characters)" }
                input #password type="password" name="password" autocomplete="new-password" minlength="12" required autofocus;
                label for="confirm_password" { "New password again" }
                input #confirm_password type="password" name="confirm_password" autocomplete="new-password" required;
                p { button type="submit" { "Set password" } }
            }
        }
    })
}

const MISMATCH: &str = "The two passwords differ (field: confirm_password)";

pub async fn invitation_form(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    let action = format!("/invitation/{token}");
    new_password_page(
        &app,
        &headers,
        StatusCode::OK,
        "Welcome: choose your password",
        &action,
        None,
    )
}

pub async fn invitation(
    State(app): State<AppState>,
    source: Source,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<NewPasswordForm>,
) -> Response {
    let action = format!("/invitation/{token}");
    let title = "Welcome: choose your password";
    if form.password != form.confirm_password {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return new_password_page(&app, &headers, status, title, &action, Some(MISMATCH));
    }
    let (password, source) = (form.password, source.0);
    let accepted = deputy_http::routes::op(&app, move |ctx| {
        ctx.accept_invitation(&token, &password, source.as_deref())
    })
    .await;
    match accepted.map(|session| with_session(&app, session)) {
        Ok(signed_in) => {
            let mut response = redirect_with(&app, "/profile", "Your password is set. Welcome!");
            call::carry_cookies(&signed_in, &mut response);
            response
        }
        Err(e) => {
            let error = call::refusal(&e);
            new_password_page(&app, &headers, e.status(), title, &action, Some(&error))
        }
    }
}

pub async fn reset_form(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    let action = format!("/reset/{token}");
    new_password_page(&app, &headers, StatusCode::OK, "Choose a new password", &action, None)
}

pub async fn reset(
    State(app): State<AppState>,
    source: Source,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<NewPasswordForm>,
) -> Response {
    let action = format!("/reset/{token}");
    let title = "Choose a new password";
    if form.password != form.confirm_password {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return new_password_page(&app, &headers, status, title, &action, Some(MISMATCH));
    }
    let (password, source) = (form.password, source.0);
    let reset = deputy_http::routes::op(&app, move |ctx| {
        ctx.reset_password(&token, &password, source.as_deref())
    })
    .await;
    match reset {
        Ok(_) => redirect_with(&app, "/sign-in", "Your password is set; sign in with it."),
        Err(e) => {
            let error = call::refusal(&e);
            new_password_page(&app, &headers, e.status(), title, &action, Some(&error))
        }
    }
}
