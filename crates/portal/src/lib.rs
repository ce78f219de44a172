//! Deputy's admin portal (R59): server-rendered pages for the people who manage access.
//!
//! - **Same rules, same answers.** Every write calls the service's operation for it
//!   ([`deputy_service::ops`], through [`call::op`]) as the signed-in caller, the same one
//!   the API's handler calls, so the portal authorizes, validates and refuses exactly as
//!   the API does; a refusal shows the engine's message, which names the rule. The sign-in
//!   flows call the service's `Auth` directly; reads still go through the API's handlers.
//! - **No JavaScript.** Plain forms, POST-redirect-GET; a success notice rides a
//!   one-shot cookie ([`flash`]).
//! - **Defences** ([`guard`]): every state-changing request needs a same-origin source and a
//!   CSRF token bound to the session (or, before sign-in, to a cookie); every answer
//!   carries a strict CSP, `frame-ancestors 'none'`, `nosniff` and a referrer policy.

pub mod call;
pub mod flash;
pub mod guard;
pub mod layout;
pub mod pages;
pub mod viewer;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::{get, post};
use deputy_http::AppState;
use tower_http::set_header::SetResponseHeaderLayer;

/// The API's routes and the portal's pages in one router, as `deputy serve` serves them:
/// an unknown path is a problem document under the API's prefixes, a page elsewhere.
///
/// Every answer carries the portal's security headers: harmless on JSON, and the "not
/// found" page needs them as much as any other.
pub fn with_api(app: AppState) -> Router {
    let headers: [(HeaderName, &'static str); 5] = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    let mut router = deputy_http::routes::routes(app.clone())
        .merge(page_routes(app.clone()))
        .fallback(not_found);
    for (name, value) in headers {
        router =
            router.layer(SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value)));
    }
    router
        .layer(axum::middleware::from_fn_with_state(
            app,
            deputy_http::routes::strict_transport_security,
        ))
        .layer(axum::middleware::from_fn(deputy_http::routes::access_log))
}

async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = uri.path();
    if path.starts_with("/v1/") || path.starts_with("/.well-known/") {
        return deputy_http::routes::not_found().await.into_response();
    }
    let page = layout::bare_page(
        "Page not found",
        maud::html! {
            p { "There is no page at this address, or you may not see it." }
            p { a href="/" { "Go to the start page" } }
        },
    );
    (axum::http::StatusCode::NOT_FOUND, page).into_response()
}

/// Every page of the portal with its CSRF guard; [`with_api`] serves it.
fn page_routes(app: AppState) -> Router {
    use pages::*;
    Router::new()
        .route("/", get(users::profile::home))
        .route("/portal.css", get(layout::stylesheet))
        .route("/crown.svg", get(layout::crown_image))
        .route("/sign-in", get(sessions::sign_in::form).post(sessions::sign_in::submit))
        .route("/sign-out", post(sessions::sign_in::sign_out))
        .route(
            "/forgot-password",
            get(sessions::public::forgot_form).post(sessions::public::forgot),
        )
        .route(
            "/invitation/{token}",
            get(sessions::public::invitation_form).post(sessions::public::invitation),
        )
        .route("/reset/{token}", get(sessions::public::reset_form).post(sessions::public::reset))
        .route("/password", get(sessions::password::form).post(sessions::password::submit))
        .route("/profile", get(users::profile::page).post(users::profile::update))
        .route("/users", get(users::list))
        .route("/users/new", post(users::create))
        .route("/users/{id}", get(users::detail))
        .route("/users/{id}/status", post(users::set_status))
        .route("/users/{id}/invitation", post(users::invite))
        .route("/users/{id}/password-reset", post(users::reset))
        .route("/users/{id}/contact", post(users::make_contact))
        .route("/users/{id}/cancel", post(users::cancel))
        .route("/users/{id}/roles", post(roles::give_role))
        .route("/users/{id}/permissions", post(roles::give_permission))
        .route("/users/{id}/roles/{assignment}/remove", post(roles::remove_role))
        .route("/logons", get(users::delegates::list).post(users::delegates::create))
        .route("/logons/customers", get(groups::customer_security))
        .route("/logons/place", post(groups::place))
        .route("/logons/groups", get(groups::list).post(groups::create))
        .route("/logons/groups/{id}/delete", post(groups::delete))
        .route("/logons/{id}/access", post(users::delegates::change_access))
        .route("/logons/{id}/settings", post(users::delegates::settings))
        .route("/logons/{id}", get(users::delegates::detail))
        .route("/logons/{id}/invitation", post(users::delegates::resend))
        .route("/logons/{id}/status", post(users::delegates::set_status))
        .route("/switch", get(sessions::switch::switch_form).post(sessions::switch::switch))
        .route(
            "/impersonate/{id}",
            get(sessions::switch::impersonate_form).post(sessions::switch::impersonate),
        )
        .route("/stop-impersonating", post(sessions::switch::stop_impersonating))
        .route("/activity", get(activity::page))
        .route("/outbox", get(outbox::page))
        .route("/access-codes", post(access::redeem))
        .route("/users/access-code", post(access::issue_code))
        .route("/tenants", get(tenants::page))
        .route("/tenants/new", post(tenants::create))
        .route("/tenants/{id}/entitlements", post(tenants::set_entitlements))
        .route("/tenants/{id}/{flag}/{value}", post(tenants::set_flag))
        .route("/customers", get(partners::customers))
        .route("/partners", get(partners::page))
        .route("/partners/grants", post(partners::propose))
        .route("/partners/groups", post(partners::create_group))
        .route("/partners/place", post(partners::place))
        .route("/partners/grants/{grant}/approve", post(partners::approve))
        .route("/partners/grants/{grant}/revoke", post(partners::revoke))
        .route("/partners/grants/{grant}/change", get(partners::change_form).post(partners::change))
        .route(
            "/partners/received/{grant}",
            get(partners::received::received).post(partners::received::give),
        )
        .route(
            "/partners/received/{grant}/remove/{user}/{assignment}",
            post(partners::received::remove),
        )
        .route_layer(axum::middleware::from_fn_with_state(app.clone(), guard::same_origin))
        .with_state(app)
}
