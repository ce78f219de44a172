//! Opening a database safely: recognising Deputy's schema, refusing what we cannot use, and
//! running the forward-only schema migrations (R65).
//!
//! Deputy's tables live in the schema `deputy`; its `meta` table records the schema
//! version (`schema_version`) and the epoch. On open:
//!
//! 1. a database whose encoding is not UTF-8 is refused (change sets are text);
//! 2. a schema `deputy` that holds tables but no Deputy `meta` is refused as
//!    [`StoreError::Corrupt`], and a version newer than [`LATEST_VERSION`] as
//!    [`StoreError::TooNew`], before anything is written;
//! 3. the pending migrations run in one transaction that holds an advisory lock (so
//!    replicas starting together migrate once) and records the version (and, on creation,
//!    the epoch): a crash leaves the old schema or the new one, never half of it, because
//!    PostgreSQL's DDL is transactional.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{SystemTime, UNIX_EPOCH};

use deputy_store::StoreError;
use postgres::{Client, GenericClient, Transaction};

use crate::pg_error;

/// The migrations, in order; file `NNNN_*.sql` brings the schema to version `NNNN`.
/// Forward-only: never edit a released migration, append a new one.
pub(crate) const MIGRATIONS: &[(i64, &str)] = &[(1, include_str!("../migrations/0001_init.sql"))];

/// The newest schema version this binary knows.
pub(crate) const LATEST_VERSION: i64 = MIGRATIONS.len() as i64;

/// The advisory lock migrations and restores hold ("DPTY" in ASCII).
pub(crate) const SCHEMA_LOCK: i64 = 0x4450_5459;

/// Refuses a database whose text is not UTF-8.
pub(crate) fn check_encoding(client: &mut Client, name: &str) -> Result<(), StoreError> {
    let row =
        client.query_one("SELECT current_setting('server_encoding')", &[]).map_err(pg_error)?;
    let encoding: String = row.try_get(0).map_err(pg_error)?;
    if encoding != "UTF8" {
        return Err(StoreError::Corrupt(format!(
            "`{name}` stores text as {encoding}; deputy needs a UTF8 database \
             (CREATE DATABASE … ENCODING 'UTF8' TEMPLATE template0)"
        )));
    }
    Ok(())
}

/// The schema version found: 0 when there is no Deputy schema yet (or an empty schema
/// `deputy` an operator made for it).
pub(crate) fn current_version(
    client: &mut impl GenericClient,
    name: &str,
) -> Result<i64, StoreError> {
    let row = client
        .query_one(
            "SELECT to_regclass('deputy.meta') IS NOT NULL, \
             (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
              WHERE n.nspname = 'deputy')",
            &[],
        )
        .map_err(pg_error)?;
    let has_meta: bool = row.try_get(0).map_err(pg_error)?;
    let n_relations: i64 = row.try_get(1).map_err(pg_error)?;
    if !has_meta {
        if n_relations == 0 {
            return Ok(0);
        }
        return Err(StoreError::Corrupt(format!(
            "`{name}` has a schema `deputy` that deputy did not make \
             ({n_relations} relations, no `deputy.meta`)"
        )));
    }
    let version = client
        .query_opt("SELECT value FROM deputy.meta WHERE key = 'schema_version'", &[])
        .map_err(pg_error)?
        .map(|row| row.try_get::<_, String>(0))
        .transpose()
        .map_err(pg_error)?;
    match version.as_deref().map(str::parse::<i64>) {
        Some(Ok(version)) if version > 0 => Ok(version),
        _ => Err(StoreError::Corrupt(format!(
            "`{name}` has no valid schema version in `deputy.meta` (found {version:?})"
        ))),
    }
}

fn check_not_too_new(version: i64) -> Result<(), StoreError> {
    if version > LATEST_VERSION {
        return Err(StoreError::TooNew { found: version, supported: LATEST_VERSION });
    }
    Ok(())
}

/// Brings the schema to [`LATEST_VERSION`], creating it if need be.
pub(crate) fn migrate(client: &mut Client, name: &str) -> Result<(), StoreError> {
    migrate_to(client, name, LATEST_VERSION)
}

/// Brings the schema to `target` (at most [`LATEST_VERSION`]) in one transaction.
pub(crate) fn migrate_to(client: &mut Client, name: &str, target: i64) -> Result<(), StoreError> {
    let version = current_version(client, name)?;
    check_not_too_new(version)?;
    if version >= target {
        return Ok(());
    }
    let mut transaction = client.transaction().map_err(pg_error)?;
    transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK]).map_err(pg_error)?;
    // Read again under the lock: another replica may have migrated meanwhile.
    let version = current_version(&mut transaction, name)?;
    check_not_too_new(version)?;
    if version >= target {
        return Ok(());
    }
    apply(&mut transaction, name, version, target)?;
    transaction.commit().map_err(pg_error)
}

/// Runs the migrations after `from` up to `to` in the caller's transaction (which holds
/// [`SCHEMA_LOCK`]) and records the version; a new schema also gets its epoch.
pub(crate) fn apply(
    transaction: &mut Transaction<'_>,
    name: &str,
    from: i64,
    to: i64,
) -> Result<(), StoreError> {
    transaction.batch_execute("CREATE SCHEMA IF NOT EXISTS deputy").map_err(pg_error)?;
    for (target, script) in MIGRATIONS.iter().filter(|(target, _)| *target > from && *target <= to)
    {
        transaction.batch_execute(script).map_err(|error| {
            StoreError::Backend(format!(
                "migrating `{name}` to schema version {target} failed: {}",
                crate::describe(&error)
            ))
        })?;
    }
    transaction
        .execute(
            "INSERT INTO deputy.meta (key, value) VALUES ('schema_version', $1) \
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            &[&to.to_string()],
        )
        .map_err(pg_error)?;
    transaction
        .execute(
            "INSERT INTO deputy.meta (key, value) VALUES ('epoch', $1) ON CONFLICT DO NOTHING",
            &[&new_epoch().to_string()],
        )
        .map_err(pg_error)?;
    Ok(())
}

/// The deployment's epoch, chosen when the schema was created.
pub(crate) fn read_epoch(client: &mut impl GenericClient, name: &str) -> Result<u64, StoreError> {
    let value = client
        .query_opt("SELECT value FROM deputy.meta WHERE key = 'epoch'", &[])
        .map_err(pg_error)?
        .map(|row| row.try_get::<_, String>(0))
        .transpose()
        .map_err(pg_error)?;
    match value.as_deref().map(str::parse::<u64>) {
        Some(Ok(epoch)) if epoch != 0 => Ok(epoch),
        _ => Err(StoreError::Corrupt(format!(
            "`{name}` has no valid epoch in `deputy.meta` (found {value:?})"
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
