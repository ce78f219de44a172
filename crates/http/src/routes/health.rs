//! Liveness, readiness and metrics (R62).

use crate::problem::{ApiError, Problem};
use crate::state::{AppState, MetricsAccess};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()), responses(
    (status = 200, description = "alive", body = String, content_type = "text/plain")))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// The deployment is initialised and serving.
#[utoipa::path(get, path = "/readyz", tag = "operations", security(()), responses(
    (status = 200, description = "ready", body = String, content_type = "text/plain"),
    (status = 503, description = "the deployment is not initialised", body = Problem, content_type = "application/problem+json")))]
pub async fn readyz(State(app): State<AppState>) -> (StatusCode, &'static str) {
    if app.deputy().is_initialised() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not initialised")
    }
}

/// Prometheus text format, for whoever the listener's [`MetricsAccess`] lets in; others
/// get a 404, as for a path that does not exist.
#[utoipa::path(get, path = "/metrics", tag = "operations", security((), ("bearer" = [])), responses(
    (status = 200, description = "metrics in the OpenMetrics text format", body = String, content_type = "application/openmetrics-text"),
    (status = 404, description = "metrics are not served to this caller here", body = Problem, content_type = "application/problem+json")))]
pub async fn metrics(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let allowed = match &app.config().metrics {
        MetricsAccess::Open => true,
        MetricsAccess::Bearer(token) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|presented| bool::from(presented.as_bytes().ct_eq(token.as_bytes()))),
        MetricsAccess::Closed => false,
    };
    if !allowed {
        return ApiError::not_found("no such route").into_response();
    }
    render(&app).into_response()
}

/// The metrics, unguarded: for a listener of their own (`metrics_listen`).
pub async fn metrics_here(State(app): State<AppState>) -> Response {
    render(&app).into_response()
}

fn render(app: &AppState) -> impl IntoResponse {
    app.metrics().revision.set(app.deputy().snapshot().revision as i64);
    // A store that cannot be read leaves the last value; readiness reports the failure.
    if let Ok(lag) = app.deputy().revision_lag() {
        app.metrics().revision_lag.set(lag as i64);
    }
    (
        [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        app.metrics().render(),
    )
}
