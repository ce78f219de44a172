//! Backup of a live database and restore into a new epoch (R66).

use crate::{SqliteStore, migrations, sql_error};
use deputy_store::{Maintenance, StoreError};
use std::path::Path;

impl Maintenance for SqliteStore {
    /// Writes a consistent copy of the live database to `dest`, which must not exist.
    /// Writers keep going: `VACUUM INTO` copies one read snapshot.
    fn backup_to(&self, dest: &Path) -> Result<(), StoreError> {
        if dest.exists() {
            return Err(StoreError::Backend(format!(
                "backup target `{}` exists already",
                dest.display()
            )));
        }
        let target = dest
            .to_str()
            .ok_or_else(|| {
                StoreError::Backend(format!("backup path `{}` is not valid UTF-8", dest.display()))
            })?
            .to_owned();
        let vacuum = |connection: &rusqlite::Connection| {
            connection.execute("VACUUM INTO ?1", [&target]).map(|_| ()).map_err(sql_error)
        };
        match self.path() {
            // A read-only connection of its own: the pooled readers are `query_only`,
            // which refuses VACUUM INTO, and the writer must stay free for writers.
            Some(path) => {
                let connection = rusqlite::Connection::open_with_flags(
                    path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                )
                .map_err(sql_error)?;
                vacuum(&connection)
            }
            None => self.with_snapshot_connection(vacuum),
        }?;
        // A backup holds the same secrets as the database.
        crate::owner_only(dest)
    }

    fn location(&self) -> String {
        match self.path() {
            Some(path) => format!("sqlite:{}", path.display()),
            None => "sqlite::memory:".to_owned(),
        }
    }
}

impl SqliteStore {
    /// Restores the backup at `backup` into a new database at `dest` (which must not
    /// exist) with a new epoch, so consistency tokens, sessions and access tokens of the
    /// old epoch are refused (R66).
    pub fn restore(backup: &Path, dest: &Path) -> Result<SqliteStore, StoreError> {
        if dest.exists() {
            return Err(StoreError::Backend(format!(
                "restore target `{}` exists already",
                dest.display()
            )));
        }
        std::fs::copy(backup, dest)
            .map_err(|e| StoreError::Backend(format!("cannot copy `{}`: {e}", backup.display())))?;
        let restored = SqliteStore::open(dest);
        let restored = match restored {
            Ok(store) => store,
            Err(e) => {
                let _ = std::fs::remove_file(dest);
                return Err(e);
            }
        };
        restored.write_raw(|transaction| {
            transaction
                .execute(
                    "UPDATE meta SET value = ?1 WHERE key = 'epoch'",
                    [migrations::new_epoch().to_string()],
                )
                .map(|_| ())
                .map_err(sql_error)
        })?;
        drop(restored);
        SqliteStore::open(dest)
    }
}
