//! What every handler shares: the deployment, its credentials, the configuration.

use crate::metrics::Metrics;
use deputy_service::Deputy;
use deputy_service::auth::Auth;
use std::net::IpAddr;
use std::sync::Arc;

/// The storage backend the server runs on. One name to change when PostgreSQL arrives.
pub type Backend = deputy_store_sqlite::SqliteStore;

/// Settings of the HTTP layer (validated by the binary's configuration).
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Where users reach Deputy (`https://access.example.com`); mail links use it (R61)
    /// and it decides the cookie's name and `Secure` flag (R23).
    pub public_origin: String,
    /// Proxies whose `X-Forwarded-For` is believed (R16); nobody else's is.
    pub trusted_proxies: Vec<IpAddr>,
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
        AppState(Arc::new(Inner { auth, config, metrics: Metrics::default() }))
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
