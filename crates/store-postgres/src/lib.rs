//! The PostgreSQL backend of Deputy's Store port (R63): the production half, one database
//! shared by every replica.
//!
//! Design:
//!
//! - **Driver.** The blocking `postgres` client (a wrapper of `tokio-postgres` that owns a
//!   small runtime per connection), because the port is synchronous and the service calls it
//!   from blocking threads; a bounded pool of such clients (`src/pool.rs`). Plain TCP or a
//!   Unix socket, no TLS yet.
//! - **Durability (R64).** Every connection sets `synchronous_commit = on`, so `COMMIT`
//!   returns only once the WAL is flushed, whatever the server's default.
//! - **The revision precondition lives in the database.** The head is one row
//!   (`deputy.head`). A commit locks it (`SELECT … FOR UPDATE`), compares it with the
//!   caller's expected revision, and moves it one revision per change set; a trigger
//!   refuses any change row that is not the new head. So of two writers at the same
//!   expected revision (threads, or replicas on other machines) the second waits for the
//!   first and then sees a head that moved: [`StoreError::Conflict`]. A batch is one
//!   transaction: all of it, or none of it. Because the head row is held until `COMMIT`,
//!   revisions become visible in order, and a reader of the feed never sees a gap.
//! - **The activity chain (R22)** has its own head row (`deputy.activity_head`: last `seq`
//!   and `hash`), locked by every append, after the change head where a commit takes both
//!   (one lock order, no deadlock); appends that change no state (a failed sign-in) do not
//!   wait for commits.
//! - **Reads never wait for writers (R56).** MVCC: a read is one statement (or one
//!   read-only repeatable-read transaction, for checkpoints) on a committed snapshot.
//! - **Migrations (R65)** are forward-only SQL files in `migrations/`, embedded and run at
//!   open under an advisory lock, in one transaction with the recorded version; a newer
//!   schema is refused before anything is written (`src/migrations.rs`).
//!
//! Deputy's tables live in the schema `deputy` of the database the URL names, so the
//! database may hold other things too.

use std::fmt;

use deputy_store::{
    ActivityEntry, ActivityQuery, Checkpoint, Commit, CommittedChange, NewActivity, Revision,
    Store, StoreError, chain_hash,
};
use postgres::{Client, Config, IsolationLevel, Row, Transaction};

mod backup;
mod migrations;
mod pool;
#[cfg(feature = "test-support")]
pub mod scratch;
mod secrets;

use pool::Pool;

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = migrations::LATEST_VERSION;

/// The largest part a checkpoint is stored in (PostgreSQL refuses a `bytea` over 1 GB, and a
/// cold start holds about one part in memory beside the state it builds).
pub const CHECKPOINT_PART_BYTES: usize = 32 * 1024 * 1024;

/// Connections a store keeps open at most; callers beyond wait for one.
const MAX_CONNECTIONS: usize = 8;

/// A [`Store`] in a PostgreSQL database.
pub struct PostgresStore {
    /// `postgres://user@host:port/db`, without the password.
    location: String,
    pool: Pool,
    /// Chosen when the schema was created; a restore starts a new one (R66).
    epoch: u64,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("location", &self.location)
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Opens the Deputy schema in the database `url` names (`postgres://user@host/db`),
    /// creating and migrating it to the newest version.
    ///
    /// The database itself must exist. Fails with [`StoreError::TooNew`] when a newer Deputy
    /// wrote the schema (leaving it untouched), with [`StoreError::Corrupt`] when a schema
    /// `deputy` exists that Deputy did not make, and with [`StoreError::Backend`] when the
    /// server cannot be reached.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let config = parse_url(url)?;
        let location = location_of(&config);
        let pool = Pool::new(config, location.clone(), MAX_CONNECTIONS);
        let epoch = pool.with_client(|client| {
            migrations::check_encoding(client, &location)?;
            migrations::migrate(client, &location)?;
            migrations::read_epoch(client, &location)
        })?;
        Ok(Self { location, pool, epoch })
    }

    /// Runs `work` on a pooled connection.
    pub(crate) fn with_client<T>(
        &self,
        work: impl FnOnce(&mut Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.pool.with_client(work)
    }

    /// Runs `work` in one read-committed transaction and commits it.
    pub(crate) fn write<T>(
        &self,
        work: impl FnOnce(&mut Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.with_client(|client| {
            let mut transaction = client.transaction().map_err(pg_error)?;
            let value = work(&mut transaction)?;
            transaction.commit().map_err(pg_error)?;
            Ok(value)
        })
    }

    /// Runs `work` in a read-only transaction that sees one snapshot throughout.
    pub(crate) fn read_snapshot<T>(
        &self,
        work: impl FnOnce(&mut Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.with_client(|client| {
            let mut transaction = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(pg_error)?;
            let value = work(&mut transaction)?;
            transaction.commit().map_err(pg_error)?;
            Ok(value)
        })
    }
}

/// Reads a `postgres://` URL (or a `key=value` connection string) into a driver config.
fn parse_url(url: &str) -> Result<Config, StoreError> {
    let mut config: Config = url.parse().map_err(|error| {
        StoreError::Invalid(format!("`{}` is not a PostgreSQL URL: {error}", redact(url)))
    })?;
    if config.get_application_name().is_none() {
        config.application_name("deputy");
    }
    Ok(config)
}

/// `postgres://user@host:port/db` of a config: where the data lives, without the password.
fn location_of(config: &Config) -> String {
    use postgres::config::Host;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) if host.contains(':') => format!("[{host}]"),
        Some(Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(Host::Unix(path)) => path.display().to_string().replace('/', "%2F"),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().map(|user| format!("{user}@")).unwrap_or_default();
    let database = config.get_dbname().or(config.get_user()).unwrap_or("postgres");
    format!("postgres://{user}{host}:{port}/{database}")
}

/// A URL with its password, if any, replaced by `***`, for messages.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// The server's words for an error (its message and SQLSTATE), or the driver's.
pub(crate) fn describe(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => match std::error::Error::source(error) {
            Some(cause) => format!("{error}: {cause}"),
            None => error.to_string(),
        },
    }
}

/// Maps a driver error to the port's error.
pub(crate) fn pg_error(error: postgres::Error) -> StoreError {
    StoreError::Backend(format!("postgres: {}", describe(&error)))
}

/// PostgreSQL's integers are signed; revisions and sequence numbers never exceed `i64::MAX`.
fn to_sql_int(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value)
        .map_err(|_| StoreError::Invalid(format!("{what} {value} does not fit in PostgreSQL")))
}

fn from_sql_int(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative {what} {value}")))
}

/// A `LIMIT` for PostgreSQL (`usize::MAX` means no limit).
pub(crate) fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn get<'a, T: postgres::types::FromSql<'a>>(row: &'a Row, index: usize) -> Result<T, StoreError> {
    row.try_get(index).map_err(pg_error)
}

fn read_head(client: &mut impl postgres::GenericClient) -> Result<Revision, StoreError> {
    let row = client.query_one("SELECT revision FROM head", &[]).map_err(pg_error)?;
    from_sql_int(get(&row, 0)?, "head revision")
}

/// Appends `entries` to the activity log, chained to the last entry, inside the caller's
/// transaction. Locks the chain's head row, so appends are serialised; the caller's commit
/// releases it.
fn append_entries(
    transaction: &mut Transaction<'_>,
    revision: Option<Revision>,
    entries: &[NewActivity],
) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let last = transaction
        .query_one("SELECT seq, hash FROM activity_head FOR UPDATE", &[])
        .map_err(pg_error)?;
    let mut seq = from_sql_int(get(&last, 0)?, "activity seq")?;
    let mut prev_hash: String = get(&last, 1)?;
    let revision_value = revision.map(|revision| to_sql_int(revision, "revision")).transpose()?;
    let insert = transaction
        .prepare(
            "INSERT INTO activity (seq, revision, at_ms, action, actor, subject, tenant, \
             acting_as, source, details, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .map_err(pg_error)?;
    for entry in entries {
        seq += 1;
        let hash = chain_hash(&prev_hash, seq, revision, entry);
        transaction
            .execute(
                &insert,
                &[
                    &to_sql_int(seq, "activity seq")?,
                    &revision_value,
                    &entry.at_ms,
                    &entry.action,
                    &entry.actor,
                    &entry.subject,
                    &entry.tenant,
                    &entry.acting_as,
                    &entry.source,
                    &entry.details,
                    &prev_hash,
                    &hash,
                ],
            )
            .map_err(pg_error)?;
        prev_hash = hash;
    }
    transaction
        .execute(
            "UPDATE activity_head SET seq = $1, hash = $2",
            &[&to_sql_int(seq, "activity seq")?, &prev_hash],
        )
        .map_err(pg_error)?;
    Ok(())
}

fn activity_from_row(row: &Row) -> Result<ActivityEntry, StoreError> {
    Ok(ActivityEntry {
        seq: from_sql_int(get(row, 0)?, "activity seq")?,
        revision: get::<Option<i64>>(row, 1)?
            .map(|revision| from_sql_int(revision, "revision"))
            .transpose()?,
        entry: NewActivity {
            at_ms: get(row, 2)?,
            action: get(row, 3)?,
            actor: get(row, 4)?,
            subject: get(row, 5)?,
            tenant: get(row, 6)?,
            acting_as: get(row, 7)?,
            source: get(row, 8)?,
            details: get(row, 9)?,
        },
        prev_hash: get(row, 10)?,
        hash: get(row, 11)?,
    })
}

impl Store for PostgresStore {
    fn epoch(&self) -> Result<u64, StoreError> {
        Ok(self.epoch)
    }

    fn head(&self) -> Result<Revision, StoreError> {
        self.with_client(read_head)
    }

    fn commit(&self, expected: Revision, commit: &Commit) -> Result<Revision, StoreError> {
        self.commit_batch(expected, std::slice::from_ref(commit))
    }

    fn commit_batch(&self, expected: Revision, commits: &[Commit]) -> Result<Revision, StoreError> {
        self.write(|transaction| {
            // The lock is the precondition: a writer at the same expected revision waits
            // here, then reads the head the first one left.
            let head = transaction
                .query_one("SELECT revision FROM head FOR UPDATE", &[])
                .map_err(pg_error)?;
            let actual = from_sql_int(get(&head, 0)?, "head revision")?;
            if actual != expected {
                return Err(StoreError::Conflict { expected, actual });
            }
            let insert = transaction
                .prepare("INSERT INTO changes (revision, at_ms, payload) VALUES ($1, $2, $3)")
                .map_err(pg_error)?;
            let mut revision = actual;
            for commit in commits {
                commit.check_replayable()?;
                let previous = to_sql_int(revision, "revision")?;
                revision += 1;
                let next = to_sql_int(revision, "revision")?;
                let moved = transaction
                    .execute(
                        "UPDATE head SET revision = $2 WHERE revision = $1",
                        &[&previous, &next],
                    )
                    .map_err(pg_error)?;
                if moved != 1 {
                    return Err(StoreError::Backend(format!(
                        "the head moved from {previous} under its lock"
                    )));
                }
                transaction
                    .execute(&insert, &[&next, &commit.at_ms, &commit.payload])
                    .map_err(pg_error)?;
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
            return Ok(Vec::new()); // Beyond any revision PostgreSQL can hold.
        };
        self.with_client(|client| {
            let rows = client
                .query(
                    "SELECT revision, at_ms, payload FROM changes WHERE revision > $1 \
                     ORDER BY revision LIMIT $2",
                    &[&after, &sql_limit(limit)],
                )
                .map_err(pg_error)?;
            rows.iter()
                .map(|row| {
                    Ok(CommittedChange {
                        revision: from_sql_int(get(row, 0)?, "revision")?,
                        at_ms: get(row, 1)?,
                        payload: get(row, 2)?,
                    })
                })
                .collect()
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
        self.with_client(|client| {
            // `starts_with`, not `LIKE`: exact, case-sensitive, and `%` and `_` are
            // ordinary characters.
            let rows = client
                .query(
                    "SELECT seq, revision, at_ms, action, actor, subject, tenant, acting_as, \
                     source, details, prev_hash, hash FROM activity \
                     WHERE seq > $1 \
                     AND ($2::text IS NULL OR actor = $2 OR subject = $2) \
                     AND ($3::text IS NULL OR tenant = $3) \
                     AND ($4::text IS NULL OR starts_with(action, $4)) \
                     ORDER BY seq LIMIT $5",
                    &[
                        &after_seq,
                        &query.principal,
                        &query.tenant,
                        &query.action_prefix,
                        &sql_limit(query.limit),
                    ],
                )
                .map_err(pg_error)?;
            rows.iter().map(activity_from_row).collect()
        })
    }

    /// Keeps the newest checkpoint: one at an older revision than the stored one is ignored
    /// (two replicas may save concurrently: the header row's lock orders them); one at the
    /// same revision replaces it. Stored in parts of at most [`CHECKPOINT_PART_BYTES`].
    fn save_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        let revision = to_sql_int(checkpoint.revision, "checkpoint revision")?;
        self.write(|transaction| {
            let header = transaction
                .query_one("SELECT revision FROM checkpoint_head FOR UPDATE", &[])
                .map_err(pg_error)?;
            let stored: Option<i64> = get(&header, 0)?;
            if stored.is_some_and(|stored| stored > revision) {
                return Ok(());
            }
            transaction.execute("DELETE FROM checkpoint_part", &[]).map_err(pg_error)?;
            let insert = transaction
                .prepare("INSERT INTO checkpoint_part (part, data) VALUES ($1, $2)")
                .map_err(pg_error)?;
            let empty: &[u8] = &[];
            let mut parts: Vec<&[u8]> = checkpoint.blob.chunks(CHECKPOINT_PART_BYTES).collect();
            if parts.is_empty() {
                parts.push(empty);
            }
            for (index, part) in parts.into_iter().enumerate() {
                let index = i32::try_from(index).map_err(|_| {
                    StoreError::Invalid("a checkpoint of more than 2^31 parts".into())
                })?;
                transaction.execute(&insert, &[&index, &part]).map_err(pg_error)?;
            }
            transaction
                .execute("UPDATE checkpoint_head SET revision = $1", &[&revision])
                .map_err(pg_error)?;
            Ok(())
        })
    }

    fn load_checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        let mut blob = Vec::new();
        let revision = self.load_checkpoint_parts(&mut |part| {
            blob.extend_from_slice(&part);
            Ok(())
        })?;
        Ok(revision.map(|revision| Checkpoint { revision, blob }))
    }

    /// Streams the parts one row at a time through a portal, in one snapshot.
    fn load_checkpoint_parts(
        &self,
        part: &mut dyn FnMut(Vec<u8>) -> Result<(), StoreError>,
    ) -> Result<Option<Revision>, StoreError> {
        self.read_snapshot(|transaction| {
            let header = transaction
                .query_one("SELECT revision FROM checkpoint_head", &[])
                .map_err(pg_error)?;
            let Some(revision) = get::<Option<i64>>(&header, 0)? else {
                return Ok(None);
            };
            let portal = transaction
                .bind("SELECT data FROM checkpoint_part ORDER BY part", &[])
                .map_err(pg_error)?;
            loop {
                let rows = transaction.query_portal(&portal, 1).map_err(pg_error)?;
                if rows.is_empty() {
                    break;
                }
                for row in &rows {
                    part(get(row, 0)?)?;
                }
            }
            Ok(Some(from_sql_int(revision, "checkpoint revision")?))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn locations_never_show_a_password() {
        let config = parse_url("postgres://deputy:s3cret@db.example:6432/prod").unwrap();
        assert_eq!(location_of(&config), "postgres://deputy@db.example:6432/prod");
        let error = parse_url("postgres://deputy:s3cret@db.example:notaport/prod").unwrap_err();
        assert!(!error.to_string().contains("s3cret"), "{error}");
        assert_eq!(redact("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
