//! The one place that knows which storage backends exist: it opens a
//! [`Box<dyn Backend>`](deputy_store::Backend) from a database URL, and restores a backup
//! into a new one. Everything above it (the service, the HTTP API, the portal, the CLI)
//! holds the box and never names a database; a new backend is a new arm here.
//!
//! URLs: `sqlite:PATH` (or a bare path, as before) for the embedded default,
//! `sqlite::memory:` for a database that lives as long as the process (tests, demos),
//! `postgres://user@host:port/database` (or `postgresql://…`) for the production backend,
//! whose tables live in the schema `deputy` of that database.

use deputy_store::{Backend, StoreError};
use deputy_store_postgres::PostgresStore;
use deputy_store_sqlite::SqliteStore;
use std::path::{Path, PathBuf};

/// Where a deployment's data lives, parsed from a database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The embedded SQLite file.
    Sqlite(PathBuf),
    /// SQLite in memory: gone with the process.
    SqliteInMemory,
    /// A PostgreSQL URL, as given (it may carry a password: never print it; the
    /// backend's `location()` is the printable form).
    Postgres(String),
}

impl Location {
    /// Reads a database URL. A bare path is an SQLite file, so existing configurations
    /// (`--db deputy.db`) keep working.
    pub fn parse(url: &str) -> Result<Location, StoreError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(StoreError::Invalid("the database URL is empty".into()));
        }
        if url == "sqlite::memory:" {
            return Ok(Location::SqliteInMemory);
        }
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if path.is_empty() {
                return Err(StoreError::Invalid(format!("`{url}` names no file")));
            }
            return Ok(Location::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Location::Postgres(url.to_owned()));
        }
        if let Some((scheme, _)) = url.split_once("://") {
            return Err(StoreError::Invalid(format!(
                "unknown database scheme `{scheme}`: use `sqlite:PATH` (or a path) or `postgres://…`"
            )));
        }
        Ok(Location::Sqlite(PathBuf::from(url)))
    }
}

/// Opens (creating and migrating where the backend does) the database at `url`.
pub fn open(url: &str) -> Result<Box<dyn Backend>, StoreError> {
    match Location::parse(url)? {
        Location::Sqlite(path) => Ok(Box::new(SqliteStore::open(path)?)),
        Location::SqliteInMemory => in_memory(),
        Location::Postgres(url) => Ok(Box::new(PostgresStore::open(&url)?)),
    }
}

/// Opens (creating if need be) the SQLite database file at `path`: the embedded default.
pub fn open_file(path: impl AsRef<Path>) -> Result<Box<dyn Backend>, StoreError> {
    Ok(Box::new(SqliteStore::open(path)?))
}

/// A fresh in-memory database (tests, demos).
pub fn in_memory() -> Result<Box<dyn Backend>, StoreError> {
    Ok(Box::new(SqliteStore::open_in_memory()?))
}

/// Restores the backup at `backup` (made by [`deputy_store::Maintenance::backup_to`]) into a
/// new database at `url`, which must not exist yet, with a new epoch (R66). For PostgreSQL
/// the database must exist and hold no Deputy schema; a backup restores into the backend
/// that made it.
pub fn restore(backup: &Path, url: &str) -> Result<Box<dyn Backend>, StoreError> {
    match Location::parse(url)? {
        Location::Sqlite(path) => Ok(Box::new(SqliteStore::restore(backup, &path)?)),
        Location::SqliteInMemory => {
            Err(StoreError::Invalid("a backup is restored into a file, not into memory".into()))
        }
        Location::Postgres(url) => Ok(Box::new(PostgresStore::restore(backup, &url)?)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn r63_urls_and_bare_paths_name_their_backend() {
        let sqlite = |p: &str| Location::Sqlite(PathBuf::from(p));
        assert_eq!(Location::parse("deputy.db").unwrap(), sqlite("deputy.db"));
        assert_eq!(Location::parse("sqlite:/var/lib/d.db").unwrap(), sqlite("/var/lib/d.db"));
        assert_eq!(Location::parse("sqlite:///var/lib/d.db").unwrap(), sqlite("/var/lib/d.db"));
        assert_eq!(Location::parse("sqlite::memory:").unwrap(), Location::SqliteInMemory);
        assert!(matches!(Location::parse("postgres://h/db").unwrap(), Location::Postgres(_)));
        for bad in ["", "sqlite:", "mysql://h/db"] {
            assert!(matches!(Location::parse(bad), Err(StoreError::Invalid(_))), "{bad}");
        }
        match open("postgres://deputy:pw@127.0.0.1:1/x") {
            Err(StoreError::Backend(message)) => {
                assert!(message.contains("postgres://deputy@127.0.0.1:1/x"), "{message}");
                assert!(!message.contains("pw"), "{message}");
            }
            other => panic!("an unreachable server must be a backend error, got {other:?}"),
        }
    }
}
