//! Scenarios S1–S4 of SPEC §11 as data, and the one driver that runs them on every layer.
//!
//! Each file under `data/` holds a world (tenants, users, assignments, resources,
//! delegates, grants, partner roles), `setup` steps (part of the world the demo shows), and
//! `steps`: writes as an actor with an expected outcome (done, or refused by a rule),
//! checks in a session context (home, switched into a tenant, impersonated, or none)
//! that must be allowed or denied, explain texts compared exactly, and observations
//! (statuses, contact persons, crowns). The pattern is SpiceDB's validation files and
//! cedar's integration corpus.
//!
//! [`driver::run`] runs a file against a [`driver::Runner`], one per layer: the engine
//! ([`commands::Commands`] over [`commands::InMemory`]), the service (the same commands over
//! `Deputy`, in `deputy-service`) and HTTP (in `deputy-http`'s tests). `deputy demo` loads the
//! same worlds ([`driver::load`]). Explain texts and refusal words are snapshots:
//! `UPDATE_EXPECT=1 cargo test …` rewrites them in the files ([`snapshot`]).

pub mod commands;
pub mod driver;
pub mod model;
pub mod snapshot;

pub use model::Scenario;

/// A scenario file, embedded; `path` is where it lives in the source tree (for updates).
#[derive(Debug, Clone, Copy)]
pub struct ScenarioFile {
    pub name: &'static str,
    pub source: &'static str,
    pub path: &'static str,
}

impl ScenarioFile {
    pub fn parse(&self) -> Result<Scenario, String> {
        toml::from_str(self.source).map_err(|e| format!("{}: {e}", self.name))
    }
}

macro_rules! file {
    ($name:literal) => {
        ScenarioFile {
            name: $name,
            source: include_str!(concat!("../data/", $name)),
            path: concat!(env!("CARGO_MANIFEST_DIR"), "/data/", $name),
        }
    };
}

/// S1: a tax portal's primary logon, her secondary logon, groups and kinds.
pub const S1: ScenarioFile = file!("s1-tax-portal.toml");

/// S2: a data platform's contact person, customer manager, requirements and entitlements.
pub const S2: ScenarioFile = file!("s2-data-platform.toml");

/// S3: a backup portal's wizard, ranked admins and impersonation.
pub const S3: ScenarioFile = file!("s3-backup-portal.toml");

/// S4: a legal-tech partner's access within a ceiling, and its revocation.
pub const S4: ScenarioFile = file!("s4-legal-tech.toml");

/// Every scenario, in the order the demo loads them.
pub const ALL: &[ScenarioFile] = &[S1, S2, S3, S4];
