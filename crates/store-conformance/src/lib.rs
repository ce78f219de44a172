//! The conformance suites every storage backend runs, so that all backends behave alike:
//! [`store`] for the change log, the activity log and checkpoints ([`deputy_store::Store`]),
//! [`secrets`] for passwords, tokens, mail, counters and keys
//! ([`deputy_store::secrets::SecretStore`]), [`maintenance`] for backups
//! ([`deputy_store::Maintenance`]).
//!
//! A backend's integration tests generate one `#[test]` per case, each on a fresh, empty
//! store from a factory:
//!
//! ```text
//! deputy_store_conformance::conformance_tests!(|| MyStore::open_in_memory().unwrap());
//! deputy_store_conformance::secret_conformance_tests!(|| MyStore::open_in_memory().unwrap());
//! deputy_store_conformance::maintenance_conformance_tests!(|| MyStore::open_in_memory().unwrap());
//! ```
//!
//! Each macro is the one list of its cases. A case panics with a message naming the broken
//! expectation, like `assert!`. This crate is test support: backends take it as a
//! dev-dependency, and the binary never links it.

pub mod maintenance;
pub mod secrets;
pub mod store;
