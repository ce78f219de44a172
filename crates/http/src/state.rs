//! What every handler shares: the deployment, its credentials, the configuration.

use crate::metrics::Metrics;
use deputy_service::Deputy;
use deputy_service::auth::Auth;
use std::net::IpAddr;
use std::sync::Arc;

/// The storage backend the server runs on. One name to change when PostgreSQL arrives.
pub type Backend = deputy_store::BoxedBackend;

/// Settings of the HTTP layer (validated by the binary's configuration).
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Where users reach Deputy (`https://access.example.com`); mail links use it (R61)
    /// and it decides the cookie's name and `Secure` flag (R23).
    pub public_origin: String,
    /// Proxies whose `X-Forwarded-For` is believed (R16); nobody else's is.
    pub trusted_proxies: Vec<IpAddr>,
    /// Who may read `/metrics` on this listener.
    pub metrics: MetricsAccess,
}

/// Who may read `/metrics` (R62): it tells load and failure rates, so it is not for the
/// public once Deputy listens beyond loopback.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MetricsAccess {
    /// Anyone who reaches the listener (the loopback default).
    #[default]
    Open,
    /// Only requests with `Authorization: Bearer <token>`.
    Bearer(String),
    /// Nobody here: metrics are served on their own listen address, or not at all.
    Closed,
}

impl HttpConfig {
    /// Served over https: `__Host-deputy`, Secure. Plain http (the loopback default):
    /// `deputy` without Secure (R23).
    pub fn cookie_name(&self) -> &'static str {
        if self.secure() { "__Host-deputy" } else { "deputy" }
    }

    pub fn secure(&self) -> bool {
        self.public_origin.starts_with("https://")
    }

    /// R23: served over https, every answer tells browsers to keep to https.
    pub fn strict_transport_security(&self) -> Option<&'static str> {
        self.secure().then_some("max-age=63072000")
    }
}

#[derive(Debug)]
struct Inner {
    auth: Auth<Backend>,
    config: HttpConfig,
    metrics: Metrics,
}

/// Cheap to clone: one `Arc`.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    pub fn new(auth: Auth<Backend>, config: HttpConfig) -> AppState {
        let metrics = Metrics::new(auth.deputy().telemetry());
        AppState(Arc::new(Inner { auth, config, metrics }))
    }

    pub fn auth(&self) -> &Auth<Backend> {
        &self.0.auth
    }

    pub fn deputy(&self) -> &Arc<Deputy<Backend>> {
        self.0.auth.deputy()
    }

    pub fn config(&self) -> &HttpConfig {
        &self.0.config
    }

    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }
}
