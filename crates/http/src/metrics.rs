//! Prometheus metrics (R62): requests by route and status, their latency, checks answered,
//! the deployment's revision and how far the store is ahead of it, the service's commit
//! latency, revision conflicts and sign-in failures by reason, and the process's own.

mod process;

use deputy_service::telemetry::Telemetry;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    /// The route's pattern (`/v1/principals/{id}`), never the raw path: bounded cardinality.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DecisionLabels {
    pub decision: &'static str,
}

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RouteLabels, Counter>,
    pub latency: Family<RouteLabels, Histogram>,
    pub checks: Family<DecisionLabels, Counter>,
    pub revision: Gauge,
    /// Revisions in the store not yet served here (R63a), set on each scrape.
    pub revision_lag: Gauge,
}

impl Metrics {
    /// The HTTP layer's series beside the service's own (`telemetry`) and the process's.
    pub fn new(telemetry: &Telemetry) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RouteLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            // 50 µs to about 3 s.
            Histogram::new(exponential_buckets(0.000_05, 3.0, 11))
        });
        let checks = Family::<DecisionLabels, Counter>::default();
        let revision = Gauge::default();
        registry.register("deputy_http_requests", "HTTP requests answered", requests.clone());
        registry.register(
            "deputy_http_request_duration_seconds",
            "Time to answer an HTTP request",
            latency.clone(),
        );
        registry.register(
            "deputy_checks",
            "Checks answered over HTTP, by decision",
            checks.clone(),
        );
        registry.register(
            "deputy_revision",
            "The newest revision this server serves",
            revision.clone(),
        );
        let revision_lag = Gauge::default();
        registry.register(
            "deputy_revision_lag",
            "Revisions the store holds beyond the one this server serves",
            revision_lag.clone(),
        );
        registry.register(
            "deputy_commit_duration_seconds",
            "Time to make a batch of change sets durable",
            telemetry.commit_seconds.clone(),
        );
        registry.register("deputy_commits", "Change sets made durable", telemetry.commits.clone());
        registry.register(
            "deputy_commit_conflicts",
            "Batches that met a newer revision in the store and were decided again",
            telemetry.commit_conflicts.clone(),
        );
        registry.register(
            "deputy_sign_in_failures",
            "Failed password sign-ins, by reason (callers are told the same for all)",
            telemetry.sign_in_failures.clone(),
        );
        // The process's series are unprefixed, as every Prometheus client names them.
        registry.register_collector(Box::new(process::ProcessCollector::new()));
        Metrics { registry, requests, latency, checks, revision, revision_lag }
    }
    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
