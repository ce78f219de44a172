//! The embedded SQLite backend of Deputy's Store port (R63): the whole deployment in one file.
//!
//! Design:
//!
//! - **Durability (R64).** The file runs in WAL mode with `synchronous=FULL`, so the WAL is
//!   fsynced before `COMMIT` returns: a commit acknowledged by [`Store::commit`] survives
//!   kill -9 and power loss. Creating the file also fsyncs its directory.
//! - **The revision precondition.** One writer connection, behind a mutex, runs every write
//!   in a `BEGIN IMMEDIATE` transaction, which takes SQLite's write lock up front; the head
//!   is read inside that transaction, so two writers (threads or processes) cannot both
//!   commit at the same expected revision. The activity entries of a change are chained
//!   (R22) and inserted in the same transaction, reading the last hash under the same lock.
//! - **Reads never wait for the writer.** Reads go through a small pool of separate
//!   read-only connections; WAL lets them read the last committed state while a write is in
//!   progress. (An in-memory database, used by tests, is private to one connection, so there
//!   reads share the writer connection.)
//! - **Migrations (R65)** are forward-only SQL files in `migrations/`, embedded in the
//!   binary and run at open; see `src/migrations.rs` for how foreign, damaged
//!   and newer-than-supported files are refused.
//!
//! Activity and change payloads are stored as given; the schema is in
//! `migrations/0001_init.sql`.

use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use deputy_store::activity::GENESIS;
use deputy_store::{
    ActivityEntry, ActivityQuery, Checkpoint, Commit, CommittedChange, NewActivity, Revision,
    Store, StoreError, chain_hash,
};
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, Row, TransactionBehavior};

mod backup;
mod secrets;

/// The largest part a checkpoint is stored in: SQLite refuses blobs over 1 GB, and a cold
/// start holds about one part in memory beside the state it builds.
pub const CHECKPOINT_PART_BYTES: usize = 32 * 1024 * 1024;

mod migrations;

/// The schema version this binary writes (SQLite's `user_version`).
pub const SCHEMA_VERSION: i64 = migrations::LATEST_VERSION;

/// How long a connection waits for another process's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Idle read connections kept open for reuse.
const MAX_IDLE_READERS: usize = 4;

/// A [`Store`] kept in one SQLite file (or in memory, for tests).
pub struct SqliteStore {
    /// Where the database lives, for messages and for opening read connections.
    location: Location,
    /// The only connection that writes. INVARIANT: every write runs on it in one
    /// `BEGIN IMMEDIATE` transaction.
    writer: Mutex<Connection>,
    /// Idle read-only connections (unused for an in-memory database).
    idle_readers: Mutex<Vec<Connection>>,
    /// Chosen when the database was created; a restore starts a new one (R66).
    epoch: u64,
}

#[derive(Debug, Clone)]
enum Location {
    File(PathBuf),
    Memory,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("location", &self.location)
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the Deputy database at `path`, creating the file if it is missing and migrating
    /// its schema to the newest version.
    ///
    /// Fails with [`StoreError::Corrupt`] when the file is not a Deputy database and with
    /// [`StoreError::TooNew`] when a newer Deputy wrote it (the file is then left untouched).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let existed = path.exists();
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut writer = Connection::open_with_flags(path, flags).map_err(|error| {
            StoreError::Backend(format!("cannot open database `{name}`: {error}"))
        })?;
        writer.busy_timeout(BUSY_TIMEOUT).map_err(sql_error)?;
        migrations::recognise(&writer, &name)?;
        let journal_mode: String = writer
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(sql_error)?;
        if !journal_mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!(
                "cannot switch `{name}` to WAL mode (it stays in `{journal_mode}` mode); \
                 is it on a network file system?"
            )));
        }
        configure_writer(&writer)?;
        migrations::migrate(&mut writer, &name)?;
        let epoch = migrations::read_epoch(&writer, &name)?;
        if !existed {
            owner_only(path)?;
            sync_parent_directory(path)?;
        }
        Ok(Self {
            location: Location::File(path.to_owned()),
            writer: Mutex::new(writer),
            idle_readers: Mutex::new(Vec::new()),
            epoch,
        })
    }

    /// Opens a new, empty database that lives in memory and vanishes when dropped (for tests).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let name = ":memory:";
        let mut writer = Connection::open_in_memory().map_err(sql_error)?;
        configure_writer(&writer)?;
        migrations::recognise(&writer, name)?;
        migrations::migrate(&mut writer, name)?;
        let epoch = migrations::read_epoch(&writer, name)?;
        Ok(Self {
            location: Location::Memory,
            writer: Mutex::new(writer),
            idle_readers: Mutex::new(Vec::new()),
            epoch,
        })
    }

    /// The database file, or `None` for an in-memory database.
    pub fn path(&self) -> Option<&Path> {
        match &self.location {
            Location::File(path) => Some(path),
            Location::Memory => None,
        }
    }

    fn lock_writer(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a transaction open: dropping a
        // rusqlite `Transaction` rolls it back. So the connection is usable.
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one write transaction on the writer connection.
    fn write<T>(
        &self,
        work: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut writer = self.lock_writer();
        let transaction =
            writer.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql_error)?;
        let value = work(&transaction)?;
        transaction.commit().map_err(sql_error)?;
        Ok(value)
    }

    /// Runs `work` in a write transaction (for maintenance such as a new epoch).
    pub(crate) fn write_raw<T>(
        &self,
        work: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.write(work)
    }

    /// Runs `work` on a connection that sees one consistent snapshot (a reader, or the
    /// writer of an in-memory database).
    pub(crate) fn with_snapshot_connection<T>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.read(work)
    }

    /// Runs `work` on a read connection: one from the pool, or the writer's for an in-memory
    /// database.
    fn read<T>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let path = match &self.location {
            Location::Memory => return work(&self.lock_writer()),
            Location::File(path) => path,
        };
        let idle = self.idle_readers.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let reader = match idle {
            Some(reader) => reader,
            None => open_reader(path)?,
        };
        let result = work(&reader);
        let mut idle_readers = self.idle_readers.lock().unwrap_or_else(PoisonError::into_inner);
        if idle_readers.len() < MAX_IDLE_READERS {
            idle_readers.push(reader);
        }
        result
    }
}

/// The writer's per-connection settings (the journal mode is set, and kept, in the file).
fn configure_writer(connection: &Connection) -> Result<(), StoreError> {
    connection.busy_timeout(BUSY_TIMEOUT).map_err(sql_error)?;
    // FULL: the WAL is fsynced at every commit, so acknowledged commits survive power loss.
    connection.pragma_update(None, "synchronous", "FULL").map_err(sql_error)?;
    connection.pragma_update(None, "foreign_keys", true).map_err(sql_error)?;
    Ok(())
}

fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let reader = Connection::open_with_flags(path, flags).map_err(|error| {
        StoreError::Backend(format!("cannot open database `{}`: {error}", path.display()))
    })?;
    reader.busy_timeout(BUSY_TIMEOUT).map_err(sql_error)?;
    reader.pragma_update(None, "query_only", true).map_err(sql_error)?;
    Ok(reader)
}

/// Makes the new file's directory entry durable, so the file survives a power loss too.
fn sync_parent_directory(path: &Path) -> Result<(), StoreError> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(parent).and_then(|directory| directory.sync_all()).map_err(|error| {
        StoreError::Backend(format!("cannot sync directory `{}`: {error}", parent.display()))
    })
}

/// Maps a driver error to the port's error.
pub(crate) fn sql_error(error: rusqlite::Error) -> StoreError {
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => {
            StoreError::Corrupt("the file is not a sqlite database".to_owned())
        }
        Some(ErrorCode::DatabaseCorrupt) => {
            StoreError::Corrupt(format!("the database file is damaged: {error}"))
        }
        _ => StoreError::Backend(format!("sqlite: {error}")),
    }
}

/// SQLite integers are signed; revisions and sequence numbers never exceed `i64::MAX`.
fn to_sql_int(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value)
        .map_err(|_| StoreError::Backend(format!("{what} {value} does not fit in sqlite")))
}

fn from_sql_int(value: i64, what: &str) -> rusqlite::Result<u64> {
    u64::try_from(value).map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Integer,
            format!("negative {what} {value}").into(),
        )
    })
}

/// A `LIMIT` for SQLite (`usize::MAX` means no limit).
fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn read_head(connection: &Connection) -> Result<Revision, StoreError> {
    let head: i64 = connection
        .prepare_cached("SELECT COALESCE(MAX(revision), 0) FROM changes")
        .and_then(|mut statement| statement.query_row([], |row| row.get(0)))
        .map_err(sql_error)?;
    u64::try_from(head)
        .map_err(|_| StoreError::Corrupt(format!("the change feed's head is negative ({head})")))
}

/// Appends `entries` to the activity log, chained to the last entry. Runs inside the caller's
/// write transaction, so nobody can append in between.
fn append_entries(
    connection: &Connection,
    revision: Option<Revision>,
    entries: &[NewActivity],
) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let last: Option<(i64, String)> = connection
        .prepare_cached("SELECT seq, hash FROM activity ORDER BY seq DESC LIMIT 1")
        .and_then(|mut statement| {
            statement.query_row([], |row| Ok((row.get(0)?, row.get(1)?))).optional()
        })
        .map_err(sql_error)?;
    let (mut seq, mut prev_hash) = match last {
        Some((seq, hash)) => (from_sql_int(seq, "activity seq").map_err(sql_error)?, hash),
        None => (0, GENESIS.to_owned()),
    };
    let revision_value = revision.map(|revision| to_sql_int(revision, "revision")).transpose()?;
    let mut insert = connection
        .prepare_cached(
            "INSERT INTO activity (seq, revision, at_ms, action, actor, subject, tenant, \
             acting_as, source, details, prev_hash, hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )
        .map_err(sql_error)?;
    for entry in entries {
        seq += 1;
        let hash = chain_hash(&prev_hash, seq, revision, entry);
        insert
            .execute(rusqlite::params![
                to_sql_int(seq, "activity seq")?,
                revision_value,
                entry.at_ms,
                entry.action,
                entry.actor,
                entry.subject,
                entry.tenant,
                entry.acting_as,
                entry.source,
                entry.details,
                prev_hash,
                hash,
            ])
            .map_err(sql_error)?;
        prev_hash = hash;
    }
    Ok(())
}

fn activity_from_row(row: &Row<'_>) -> rusqlite::Result<ActivityEntry> {
    Ok(ActivityEntry {
        seq: from_sql_int(row.get(0)?, "activity seq")?,
        revision: row
            .get::<_, Option<i64>>(1)?
            .map(|revision| from_sql_int(revision, "revision"))
            .transpose()?,
        entry: NewActivity {
            at_ms: row.get(2)?,
            action: row.get(3)?,
            actor: row.get(4)?,
            subject: row.get(5)?,
            tenant: row.get(6)?,
            acting_as: row.get(7)?,
            source: row.get(8)?,
            details: row.get(9)?,
        },
        prev_hash: row.get(10)?,
        hash: row.get(11)?,
    })
}

impl Store for SqliteStore {
    fn epoch(&self) -> Result<u64, StoreError> {
        Ok(self.epoch)
    }

    fn head(&self) -> Result<Revision, StoreError> {
        self.read(read_head)
    }

    fn commit(&self, expected: Revision, commit: &Commit) -> Result<Revision, StoreError> {
        self.commit_batch(expected, std::slice::from_ref(commit))
    }

    fn commit_batch(&self, expected: Revision, commits: &[Commit]) -> Result<Revision, StoreError> {
        self.write(|transaction| {
            let actual = read_head(transaction)?;
            if actual != expected {
                return Err(StoreError::Conflict { expected, actual });
            }
            let mut revision = actual;
            for commit in commits {
                commit.check_replayable()?;
                revision += 1;
                let revision_value = to_sql_int(revision, "revision")?;
                transaction
                    .prepare_cached(
                        "INSERT INTO changes (revision, at_ms, payload) VALUES (?1, ?2, ?3)",
                    )
                    .and_then(|mut statement| {
                        statement.execute(rusqlite::params![
                            revision_value,
                            commit.at_ms,
                            commit.payload
                        ])
                    })
                    .map_err(sql_error)?;
                append_entries(transaction, Some(revision), &commit.activity)?;
            }
            Ok(revision)
        })
    }

    fn changes_after(
        &self,
        after: Revision,
        limit: usize,
    ) -> Result<Vec<CommittedChange>, StoreError> {
        let Ok(after) = i64::try_from(after) else {
            return Ok(Vec::new()); // Beyond any revision SQLite can hold.
        };
        self.read(|reader| {
            let mut statement = reader
                .prepare_cached(
                    "SELECT revision, at_ms, payload FROM changes WHERE revision > ?1 \
                     ORDER BY revision LIMIT ?2",
                )
                .map_err(sql_error)?;
            let rows = statement
                .query_map(rusqlite::params![after, sql_limit(limit)], |row| {
                    Ok(CommittedChange {
                        revision: from_sql_int(row.get(0)?, "revision")?,
                        at_ms: row.get(1)?,
                        payload: row.get(2)?,
                    })
                })
                .map_err(sql_error)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(sql_error)
        })
    }

    fn append_activity(&self, entries: &[NewActivity]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        self.write(|transaction| append_entries(transaction, None, entries))
    }

    fn activity(&self, query: &ActivityQuery) -> Result<Vec<ActivityEntry>, StoreError> {
        let Ok(after_seq) = i64::try_from(query.after_seq) else {
            return Ok(Vec::new());
        };
        self.read(|reader| {
            // The prefix is compared with `substr`, not `LIKE`: exact, case-sensitive, and
            // `%` and `_` are ordinary characters.
            let mut statement = reader
                .prepare_cached(
                    "SELECT seq, revision, at_ms, action, actor, subject, tenant, acting_as, \
                     source, details, prev_hash, hash FROM activity \
                     WHERE seq > ?1 \
                     AND (?2 IS NULL OR actor = ?2 OR subject = ?2) \
                     AND (?3 IS NULL OR tenant = ?3) \
                     AND (?4 IS NULL OR substr(action, 1, length(?4)) = ?4) \
                     ORDER BY seq LIMIT ?5",
                )
                .map_err(sql_error)?;
            let rows = statement
                .query_map(
                    rusqlite::params![
                        after_seq,
                        query.principal,
                        query.tenant,
                        query.action_prefix,
                        sql_limit(query.limit),
                    ],
                    activity_from_row,
                )
                .map_err(sql_error)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(sql_error)
        })
    }

    /// Keeps the newest checkpoint: one at an older revision than the stored one is ignored
    /// (two replicas may save concurrently); one at the same revision replaces it. Stored in
    /// parts of at most [`CHECKPOINT_PART_BYTES`], as SQLite caps a blob at 1 GB.
    fn save_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        let revision = to_sql_int(checkpoint.revision, "checkpoint revision")?;
        self.write(|transaction| {
            let stored: Option<i64> = transaction
                .query_row("SELECT revision FROM checkpoint_part WHERE part = 0", [], |row| {
                    row.get(0)
                })
                .optional()
                .map_err(sql_error)?;
            if stored.is_some_and(|stored| stored > revision) {
                return Ok(());
            }
            transaction.execute("DELETE FROM checkpoint_part", []).map_err(sql_error)?;
            let mut insert = transaction
                .prepare_cached(
                    "INSERT INTO checkpoint_part (part, revision, data) VALUES (?1, ?2, ?3)",
                )
                .map_err(sql_error)?;
            let mut parts = checkpoint.blob.chunks(CHECKPOINT_PART_BYTES).peekable();
            if parts.peek().is_none() {
                insert.execute(rusqlite::params![0, revision, &[] as &[u8]]).map_err(sql_error)?;
            }
            for (i, part) in parts.enumerate() {
                insert.execute(rusqlite::params![i as i64, revision, part]).map_err(sql_error)?;
            }
            Ok(())
        })
    }

    fn load_checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        self.read(|reader| {
            let mut statement = reader
                .prepare_cached("SELECT revision, data FROM checkpoint_part ORDER BY part")
                .map_err(sql_error)?;
            let mut rows = statement.query([]).map_err(sql_error)?;
            let mut found: Option<Checkpoint> = None;
            while let Some(row) = rows.next().map_err(sql_error)? {
                let revision = from_sql_int(row.get(0).map_err(sql_error)?, "checkpoint revision")
                    .map_err(sql_error)?;
                let data: Vec<u8> = row.get(1).map_err(sql_error)?;
                match &mut found {
                    None => found = Some(Checkpoint { revision, blob: data }),
                    Some(cp) if cp.revision == revision => cp.blob.extend_from_slice(&data),
                    Some(_) => {
                        return Err(StoreError::Corrupt(
                            "checkpoint parts disagree on their revision".into(),
                        ));
                    }
                }
            }
            Ok(found)
        })
    }

    fn load_checkpoint_parts(
        &self,
        part: &mut dyn FnMut(Vec<u8>) -> Result<(), StoreError>,
    ) -> Result<Option<Revision>, StoreError> {
        self.read(|reader| {
            let mut statement = reader
                .prepare_cached("SELECT revision, data FROM checkpoint_part ORDER BY part")
                .map_err(sql_error)?;
            let mut rows = statement.query([]).map_err(sql_error)?;
            let mut found: Option<Revision> = None;
            while let Some(row) = rows.next().map_err(sql_error)? {
                let revision = from_sql_int(row.get(0).map_err(sql_error)?, "checkpoint revision")
                    .map_err(sql_error)?;
                if found.is_some_and(|r| r != revision) {
                    return Err(StoreError::Corrupt(
                        "checkpoint parts disagree on their revision".into(),
                    ));
                }
                found = Some(revision);
                part(row.get(1).map_err(sql_error)?)?;
            }
            Ok(found)
        })
    }
}

/// Makes a database file readable and writable by its owner alone: it holds password
/// hashes, the keys that sign access tokens and mail not yet delivered (docs/security.md).
/// SQLite gives its `-wal` and `-shm` files the same mode.
pub(crate) fn owner_only(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| {
            StoreError::Backend(format!("cannot restrict `{}` to its owner: {e}", path.display()))
        })?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
