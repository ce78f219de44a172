//! Opening a database file safely: recognising it, refusing what we cannot use, and running
//! the forward-only schema migrations (R65).
//!
//! A Deputy database carries [`APPLICATION_ID`] in SQLite's `application_id` header field and
//! its schema version in `user_version`. On open:
//!
//! 1. a file that is not SQLite at all, or a SQLite database of another application, is
//!    refused as [`StoreError::Corrupt`];
//! 2. a schema newer than [`LATEST_VERSION`] is refused as [`StoreError::TooNew`] before
//!    anything is written, so an older binary leaves the file exactly as it found it;
//! 3. the pending migrations run in one `BEGIN IMMEDIATE` transaction that also sets
//!    `user_version` (and, on creation, the epoch), so a crash leaves the old schema or the
//!    new one, never half of it.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{SystemTime, UNIX_EPOCH};

use deputy_store::StoreError;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::sql_error;

/// `DPTY` in ASCII: marks a SQLite file as a Deputy database.
pub(crate) const APPLICATION_ID: i64 = 0x4450_5459;

/// The migrations, in order; file `NNNN_*.sql` brings the schema to version `NNNN`.
/// Forward-only: never edit a released migration, append a new one.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_checkpoint_parts.sql")),
    (3, include_str!("../migrations/0003_secrets.sql")),
    (4, include_str!("../migrations/0004_signing_keys.sql")),
    (5, include_str!("../migrations/0005_idempotency.sql")),
    (6, include_str!("../migrations/0006_outbox_retries.sql")),
    (7, include_str!("../migrations/0007_sign_in_failures.sql")),
    (8, include_str!("../migrations/0008_rate_windows.sql")),
];

/// The newest schema version this binary knows.
pub(crate) const LATEST_VERSION: i64 = MIGRATIONS.len() as i64;

/// Refuses files that are not Deputy databases and schemas newer than ours, without writing.
/// `name` says which database, for error messages.
pub(crate) fn recognise(connection: &Connection, name: &str) -> Result<(), StoreError> {
    let header = |pragma: &str| -> Result<i64, StoreError> {
        connection.query_row(&format!("PRAGMA {pragma}"), [], |row| row.get(0)).map_err(|error| {
            match sql_error(error) {
                StoreError::Corrupt(reason) => {
                    StoreError::Corrupt(format!("`{name}` is not a deputy database: {reason}"))
                }
                other => other,
            }
        })
    };
    let application_id = header("application_id")?;
    let version = header("user_version")?;
    let n_schema_objects: i64 = connection
        .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
        .map_err(sql_error)?;

    if application_id == APPLICATION_ID {
        check_not_too_new(version)
    } else if application_id == 0 && version == 0 && n_schema_objects == 0 {
        Ok(()) // A new, empty file: `migrate` creates the schema.
    } else {
        Err(StoreError::Corrupt(format!(
            "`{name}` is a sqlite database of another application, not a deputy database \
             (application_id {application_id:#x}, user_version {version}, \
             {n_schema_objects} schema objects)"
        )))
    }
}

fn check_not_too_new(version: i64) -> Result<(), StoreError> {
    if version > LATEST_VERSION {
        return Err(StoreError::TooNew { found: version, supported: LATEST_VERSION });
    }
    Ok(())
}

/// Applies the pending migrations in one transaction.
pub(crate) fn migrate(connection: &mut Connection, name: &str) -> Result<(), StoreError> {
    let version: i64 =
        connection.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(sql_error)?;
    if version == LATEST_VERSION {
        return Ok(());
    }
    let transaction =
        connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql_error)?;
    // Read again under the write lock: another process may have migrated meanwhile.
    let version: i64 =
        transaction.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(sql_error)?;
    check_not_too_new(version)?;
    for (target, script) in MIGRATIONS.iter().filter(|(target, _)| *target > version) {
        transaction.execute_batch(script).map_err(|error| {
            StoreError::Backend(format!(
                "migrating `{name}` to schema version {target} failed: {error}"
            ))
        })?;
    }
    transaction.pragma_update(None, "application_id", APPLICATION_ID).map_err(sql_error)?;
    transaction.pragma_update(None, "user_version", LATEST_VERSION).map_err(sql_error)?;
    transaction
        .execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('epoch', ?1)",
            [new_epoch().to_string()],
        )
        .map_err(sql_error)?;
    transaction.commit().map_err(sql_error)
}

/// The deployment's epoch, chosen when the database was created.
pub(crate) fn read_epoch(connection: &Connection, name: &str) -> Result<u64, StoreError> {
    let value: Option<String> = connection
        .query_row("SELECT value FROM meta WHERE key = 'epoch'", [], |row| row.get(0))
        .optional()
        .map_err(sql_error)?;
    match value.as_deref().map(str::parse::<u64>) {
        Some(Ok(epoch)) if epoch != 0 => Ok(epoch),
        _ => Err(StoreError::Corrupt(format!(
            "`{name}` has no valid epoch in its meta table (found {value:?})"
        ))),
    }
}

/// A fresh, nonzero epoch: the standard library's randomly keyed hasher (seeded from the
/// operating system) over the current time and process id.
pub(crate) fn new_epoch() -> u64 {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let epoch = RandomState::new().hash_one((nanos, std::process::id()));
    epoch.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r65_migrations_are_numbered_from_one_without_gaps() {
        let versions: Vec<i64> = MIGRATIONS.iter().map(|(version, _)| *version).collect();
        let expected: Vec<i64> = (1..=LATEST_VERSION).collect();
        assert_eq!(versions, expected);
    }

    #[test]
    fn new_epochs_are_nonzero_and_differ() {
        let (first, second) = (new_epoch(), new_epoch());
        assert_ne!(first, 0);
        assert_ne!(first, second);
    }
}
