//! Backup of a live database and restore into a new epoch (R66).
//!
//! A backup is a file of Deputy's own: a header naming the schema version, then every table
//! of the schema `deputy` in PostgreSQL's `COPY` text format, all read in one
//! repeatable-read snapshot, so it is consistent (feed, checkpoint, secrets, activity chain)
//! while writers keep going. It needs no `pg_dump` of the server's exact version, and it
//! restores into any empty database through the same connection URL.
//!
//! ```text
//! deputy-postgres-backup 1
//! schema_version 1
//! table meta
//! …COPY rows…
//! \.
//! table head
//! …
//! end
//! ```

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use deputy_store::{Maintenance, StoreError};
use postgres::IsolationLevel;

use crate::migrations::{self, LATEST_VERSION, SCHEMA_LOCK};
use crate::pool::Pool;
use crate::{PostgresStore, location_of, parse_url, pg_error};

const MAGIC: &str = "deputy-postgres-backup 1";

/// Every table, in an order that loads without breaking a foreign key.
const TABLES: &[&str] = &[
    "meta",
    "head",
    "changes",
    "activity_head",
    "activity",
    "checkpoint_head",
    "checkpoint_part",
    "password",
    "secret",
    "outbox",
    "signing_key",
    "idempotency",
    "sign_in_failure",
    "rate_window",
];

/// The tables whose triggers guard live appends (the feed's head, append-only), switched
/// off while a restore loads rows written under them already.
const GUARDED: &[&str] = &["changes", "activity"];

const END_OF_ROWS: &[u8] = b"\\.\n";

fn io_error(what: &str, path: &Path) -> impl Fn(std::io::Error) -> StoreError {
    let message = format!("cannot {what} `{}`", path.display());
    move |error| StoreError::Backend(format!("{message}: {error}"))
}

/// Creates `path` for writing, readable by its owner alone (it holds the same secrets as
/// the database); fails if it exists.
fn create_owner_only(path: &Path) -> Result<File, StoreError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::AlreadyExists => {
            StoreError::Backend(format!("backup target `{}` exists already", path.display()))
        }
        _ => StoreError::Backend(format!("cannot create `{}`: {error}", path.display())),
    })
}

impl PostgresStore {
    fn write_backup(&self, file: File, dest: &Path) -> Result<(), StoreError> {
        let mut out = BufWriter::new(file);
        let write_error = io_error("write", dest);
        self.with_client(|client| {
            let mut snapshot = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(pg_error)?;
            let version = migrations::current_version(&mut snapshot, &self.location)?;
            writeln!(out, "{MAGIC}\nschema_version {version}").map_err(&write_error)?;
            for table in TABLES {
                writeln!(out, "table {table}").map_err(&write_error)?;
                let mut rows = snapshot
                    .copy_out(&format!("COPY deputy.{table} TO STDOUT"))
                    .map_err(pg_error)?;
                std::io::copy(&mut rows, &mut out).map_err(&write_error)?;
                drop(rows);
                out.write_all(END_OF_ROWS).map_err(&write_error)?;
            }
            writeln!(out, "end").map_err(&write_error)?;
            snapshot.commit().map_err(pg_error)
        })?;
        let file = out.into_inner().map_err(|error| write_error(error.into_error()))?;
        file.sync_all().map_err(io_error("sync", dest))
    }

    /// Restores the backup at `backup` (made by [`Maintenance::backup_to`]) into the
    /// database `url` names, which must hold no Deputy schema yet, with a new epoch, so
    /// consistency tokens, sessions and access tokens of the old epoch are refused (R66).
    /// The load is one transaction: a failed restore leaves the database as it was.
    pub fn restore(backup: &Path, url: &str) -> Result<PostgresStore, StoreError> {
        let file = File::open(backup).map_err(io_error("open", backup))?;
        let mut input = BufReader::new(file);
        let version = read_header(&mut input, backup)?;
        let config = parse_url(url)?;
        let location = location_of(&config);
        let pool = Pool::new(config, location.clone(), 1);
        let mut client = pool.connect()?;
        migrations::check_encoding(&mut client, &location)?;
        let mut transaction = client.transaction().map_err(pg_error)?;
        transaction
            .execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
            .map_err(pg_error)?;
        if migrations::current_version(&mut transaction, &location)? != 0 {
            return Err(StoreError::Backend(format!(
                "restore target `{location}` holds a deputy schema already"
            )));
        }
        migrations::apply(&mut transaction, &location, 0, version)?;
        for table in GUARDED {
            transaction
                .batch_execute(&format!("ALTER TABLE deputy.{table} DISABLE TRIGGER USER"))
                .map_err(pg_error)?;
        }
        let mut header = String::new();
        loop {
            header.clear();
            input.read_line(&mut header).map_err(io_error("read", backup))?;
            let header = header.trim_end_matches('\n');
            if header == "end" {
                break;
            }
            let table = header
                .strip_prefix("table ")
                .and_then(|name| TABLES.iter().find(|table| **table == name))
                .ok_or_else(|| {
                    if header.is_empty() {
                        truncated(backup)
                    } else {
                        StoreError::Corrupt(format!(
                            "the backup `{}` has `{header}` where a table belongs",
                            backup.display()
                        ))
                    }
                })?;
            transaction.batch_execute(&format!("DELETE FROM deputy.{table}")).map_err(pg_error)?;
            let mut rows = transaction
                .copy_in(&format!("COPY deputy.{table} FROM STDIN"))
                .map_err(pg_error)?;
            let mut line = Vec::new();
            loop {
                line.clear();
                input.read_until(b'\n', &mut line).map_err(io_error("read", backup))?;
                if line.is_empty() {
                    return Err(truncated(backup));
                }
                if line == END_OF_ROWS {
                    break;
                }
                rows.write_all(&line).map_err(io_error("load", backup))?;
            }
            rows.finish().map_err(pg_error)?;
        }
        for table in GUARDED {
            transaction
                .batch_execute(&format!("ALTER TABLE deputy.{table} ENABLE TRIGGER USER"))
                .map_err(pg_error)?;
        }
        transaction
            .batch_execute(
                "SELECT setval(pg_get_serial_sequence('deputy.outbox', 'id'), \
                 coalesce(max(id), 0) + 1, false) FROM deputy.outbox",
            )
            .map_err(pg_error)?;
        transaction
            .execute(
                "UPDATE deputy.meta SET value = $1 WHERE key = 'epoch'",
                &[&migrations::new_epoch().to_string()],
            )
            .map_err(pg_error)?;
        transaction.commit().map_err(pg_error)?;
        drop(client);
        // Opening migrates a backup of an older schema to this binary's.
        PostgresStore::open(url)
    }
}

fn truncated(backup: &Path) -> StoreError {
    StoreError::Corrupt(format!("the backup `{}` ends too early", backup.display()))
}

/// Checks the magic line and returns the backup's schema version.
fn read_header(input: &mut impl BufRead, backup: &Path) -> Result<i64, StoreError> {
    let mut magic = String::new();
    input.read_line(&mut magic).map_err(io_error("read", backup))?;
    if magic.trim_end_matches('\n') != MAGIC {
        return Err(StoreError::Corrupt(format!(
            "`{}` is not a backup of deputy's PostgreSQL backend",
            backup.display()
        )));
    }
    let mut version_line = String::new();
    input.read_line(&mut version_line).map_err(io_error("read", backup))?;
    let version = version_line
        .trim_end_matches('\n')
        .strip_prefix("schema_version ")
        .and_then(|version| version.parse::<i64>().ok())
        .filter(|version| *version > 0)
        .ok_or_else(|| {
            StoreError::Corrupt(format!(
                "the backup `{}` names no schema version",
                backup.display()
            ))
        })?;
    if version > LATEST_VERSION {
        return Err(StoreError::TooNew { found: version, supported: LATEST_VERSION });
    }
    Ok(version)
}

impl Maintenance for PostgresStore {
    /// Writes a consistent copy of the live database to the file `dest`, which must not
    /// exist. Writers keep going: the copy reads one snapshot.
    fn backup_to(&self, dest: &Path) -> Result<(), StoreError> {
        let file = create_owner_only(dest)?;
        let written = self.write_backup(file, dest);
        if written.is_err() {
            let _ = std::fs::remove_file(dest);
        }
        written
    }

    fn location(&self) -> String {
        self.location.clone()
    }
}
