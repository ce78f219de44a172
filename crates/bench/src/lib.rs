//! Deputy's benchmark: a deterministic generator of realistic deployments (sizes S, M and
//! L), a mix of checks picked from them, and the measurements of `deputy-bench run`:
//! in-process check latency, lookups, cold start from SQLite with its peak RSS, and durable
//! writes per second.
//!
//! Benchmarks are not tests: nothing here asserts a time. The figures go to
//! `docs/benchmarks.md`; the tests of this crate only prove that the generated data applies
//! cleanly and that the mix exercises allowed and denied paths.

pub mod durable;
pub mod generate;
pub mod http_load;
pub mod measure;
pub mod mix;
pub mod report;
pub mod rng;
pub mod sign_in_burst;

pub use generate::{Dataset, Meta, Size, generate};
pub use mix::{Category, Mixer, Probe};

/// Why a benchmark step failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("catalog: {0}")]
    Catalog(String),
    #[error("the generated dataset does not apply: {0}")]
    Apply(String),
    #[error(transparent)]
    Check(#[from] deputy_core::CheckError),
    #[error(transparent)]
    Service(#[from] deputy_service::ServiceError),
    #[error(transparent)]
    Store(#[from] deputy_store::StoreError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Other(String),
}
