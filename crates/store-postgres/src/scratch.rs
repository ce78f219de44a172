//! Throwaway databases on a real PostgreSQL server, for tests (feature `test-support`).
//!
//! Each [`ScratchDatabase`] is a database of its own (`deputy_test_<random>`), created
//! through the server's maintenance database and dropped, with whatever connections are
//! still open to it, when the guard is dropped. So tests run in parallel and leave nothing
//! behind. The server is the one [`SERVER_VARIABLE`] names, by default the local one the
//! CI starts. A machine without one (a newcomer's `cargo test --workspace`) skips these
//! tests saying so, as the browser tests do without Chromium; with
//! `DEPUTY_POSTGRES_TESTS=required` (as `.ci/run` sets) a missing server fails them.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

use deputy_store::StoreError;
use postgres::{Config, NoTls};

/// The environment variable naming the server's maintenance database.
pub const SERVER_VARIABLE: &str = "DEPUTY_TEST_POSTGRES";

/// Set to `required` to fail, not skip, the PostgreSQL tests when no server answers.
pub const REQUIRED_VARIABLE: &str = "DEPUTY_POSTGRES_TESTS";

/// Whether the test server answers. Asked once per test process; when it does not, says
/// so on stderr and answers `false`, or panics when [`REQUIRED_VARIABLE`] is `required`.
// A test helper: failing the test is its job when the server was required.
#[allow(clippy::panic)]
pub fn server_available() -> bool {
    static AVAILABLE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    let server = std::env::var(SERVER_VARIABLE).unwrap_or_else(|_| DEFAULT_SERVER.to_owned());
    let answer = AVAILABLE.get_or_init(|| connect(&server).map(drop).map_err(|e| e.to_string()));
    match answer {
        Ok(()) => true,
        Err(why) if std::env::var(REQUIRED_VARIABLE).is_ok_and(|v| v == "required") => {
            panic!("{REQUIRED_VARIABLE}=required, but {why}")
        }
        Err(why) => {
            eprintln!(
                "skipping a PostgreSQL test: {why} (set {REQUIRED_VARIABLE}=required to fail instead)"
            );
            false
        }
    }
}

/// The server the tests use when [`SERVER_VARIABLE`] is not set.
pub const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database that exists as long as this value.
#[derive(Debug)]
pub struct ScratchDatabase {
    server: String,
    name: String,
    url: String,
}

impl ScratchDatabase {
    /// Creates a new, empty UTF-8 database on the test server.
    pub fn create() -> Result<Self, StoreError> {
        let server = std::env::var(SERVER_VARIABLE).unwrap_or_else(|_| DEFAULT_SERVER.to_owned());
        let name = fresh_name();
        let mut client = connect(&server)?;
        client
            .batch_execute(&format!(
                "CREATE DATABASE {name} ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' \
                 TEMPLATE template0"
            ))
            .map_err(|error| {
                StoreError::Backend(format!(
                    "cannot create a test database on `{server}` ({SERVER_VARIABLE}): {}",
                    crate::describe(&error)
                ))
            })?;
        let url = with_database(&server, &name);
        Ok(Self { server, name, url })
    }

    /// The URL of this database, to open a backend on.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        // Best effort: a database left behind is named `deputy_test_…` and harmless.
        if let Ok(mut client) = connect(&self.server) {
            let _ = client
                .batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

fn connect(server: &str) -> Result<postgres::Client, StoreError> {
    let config: Config = server.parse().map_err(|error| {
        StoreError::Invalid(format!(
            "{SERVER_VARIABLE} `{server}` is not a PostgreSQL URL: {error}"
        ))
    })?;
    config.connect(NoTls).map_err(|error| {
        StoreError::Backend(format!(
            "the tests need a PostgreSQL server where they may create databases; none answers \
             at `{server}`: {} (start one, or point {SERVER_VARIABLE} at one)",
            crate::describe(&error)
        ))
    })
}

/// `deputy_test_` and 16 random hex digits (a valid identifier needing no quotes).
fn fresh_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let random = RandomState::new().hash_one((nanos, std::process::id(), n));
    format!("deputy_test_{random:016x}")
}

/// `server` with its database replaced by `database` (`postgres://u@h:p/db?x` →
/// `postgres://u@h:p/database?x`).
fn with_database(server: &str, database: &str) -> String {
    let (scheme, rest) = server.split_once("://").unwrap_or(("postgres", server));
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    let authority = before_query.split('/').next().unwrap_or(before_query);
    match query {
        Some(query) => format!("{scheme}://{authority}/{database}?{query}"),
        None => format!("{scheme}://{authority}/{database}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_get_the_scratch_database() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(with_database("postgresql://h", "x"), "postgresql://h/x");
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
