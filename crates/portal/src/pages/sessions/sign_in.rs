//! Sign-in and sign-out (R15, R16, R23), through the API's own handlers.

use crate::call;
use crate::flash::{Flash, see_other};
use crate::guard;
use crate::layout::{bare_page, csrf, error_box};
use crate::viewer::Viewer;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;
use deputy_http::AppState;
use deputy_http::caller::Source;
use deputy_http::routes::sessions::{with_session, without_session};
use maud::{Markup, html};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    logon: String,
    #[serde(default)]
    password: String,
}

/// A page for someone not signed in, with a form token: before sign-in, a random
/// cookie's value (double submit, see guard), set here when missing.
pub(crate) fn anonymous_page(
    app: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    title: &str,
    notice: Option<&str>,
    body: impl FnOnce(&str) -> Markup,
) -> Response {
    let (token, new_cookie) = match guard::expected_token(app, headers) {
        Some(t) => (t, None),
        None => match guard::new_anonymous_token() {
            Some(t) => (t.clone(), Some(t)),
            None => (String::new(), None),
        },
    };
    let markup = bare_page(
        title,
        html! {
            @if let Some(n) = notice { p.notice role="status" { (n) } }
            (body(&token))
        },
    );
    let mut response = (status, markup).into_response();
    if let Some(t) = new_cookie {
        let secure = if app.config().secure() { "; Secure" } else { "" };
        let name = guard::csrf_cookie_name(app);
        if let Ok(v) =
            HeaderValue::from_str(&format!("{name}={t}; Path=/; HttpOnly; SameSite=Lax{secure}"))
        {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    if notice.is_some() {
        crate::flash::clear(app, &mut response);
    }
    response
}

fn render(
    app: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    logon: &str,
    error: Option<&str>,
    notice: Option<&str>,
) -> Response {
    anonymous_page(app, headers, status, "Sign in", notice, |token| {
        html! {
            (error_box(error))
            form.stack method="post" action="/sign-in" {
                (csrf(token))
                label for="logon" { "Logon name" }
                input #logon type="text" name="logon" value=(logon) autocomplete="username" required autofocus;
                label for="password" { "Password" }
                input #password type="password" name="password" autocomplete="current-password" required;
                p { button type="submit" { "Sign in" } }
            }
            p { a href="/forgot-password" { "Forgot your password?" } }
        }
    })
}

pub async fn form(State(app): State<AppState>, headers: HeaderMap, flash: Flash) -> Response {
    render(&app, &headers, StatusCode::OK, "", None, flash.0.as_deref())
}

pub async fn submit(
    State(app): State<AppState>,
    source: Source,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let logon = form.logon.clone();
    let (password, source) = (form.password, source.0);
    let answer = deputy_http::routes::op(&app, move |ctx| {
        ctx.sign_in(&form.logon, &password, source.as_deref())
    })
    .await
    .map(|session| with_session(&app, session));
    match answer {
        Ok(signed_in) => {
            let mut response = see_other("/");
            call::carry_cookies(&signed_in, &mut response);
            response
        }
        // The API's answer is the same for every failure (R15); so is this one.
        Err(e) => {
            render(&app, &headers, StatusCode::UNAUTHORIZED, &logon, Some(&call::refusal(&e)), None)
        }
    }
}

pub async fn sign_out(State(app): State<AppState>, source: Source, viewer: Viewer) -> Response {
    let (caller, source) = (viewer.caller, source.0);
    let ended =
        deputy_http::routes::op(&app, move |ctx| ctx.sign_out(&caller, source.as_deref())).await;
    match ended.map(|()| without_session(app.config(), see_other("/sign-in"))) {
        Ok(signed_out) => {
            let mut response = crate::flash::redirect_with(&app, "/sign-in", "Signed out.");
            call::carry_cookies(&signed_out, &mut response);
            response
        }
        Err(_) => see_other("/sign-in"),
    }
}
