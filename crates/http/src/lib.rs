//! Deputy's HTTP JSON API (R57, R58): an axum router of thin handlers over the service
//! layer.
//!
//! - Every error is a problem document ([`problem`]); the status is decided there alone.
//! - Every call is authorized by Deputy's own rules: handlers pass the caller to the
//!   engine as an actor, and what the caller may not see answers 404.
//! - Writes and slow work (password hashing, SQLite) run on the blocking pool; checks run
//!   inline, since they read an immutable snapshot and never wait (R56).
//! - The OpenAPI 3.1 document is generated from the handlers ([`openapi`]).

pub mod caller;
pub mod csrf;
pub mod idempotency;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod routes;
pub mod state;

pub use state::{AppState, Backend, HttpConfig, MetricsAccess};

use axum::Router;
use std::net::SocketAddr;

/// Serves `app` on `listener` until `shutdown` resolves, then finishes the requests in
/// flight (graceful shutdown).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router(listener, routes::router(app), shutdown).await
}

/// Serves any router built on the API's (the binary adds the portal's pages beside it).
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // Small answers go out at once instead of waiting to be coalesced (Nagle).
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
