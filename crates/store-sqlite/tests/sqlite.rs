//! The SQLite backend's tests: the shared conformance suite on in-memory and on-file stores,
//! plus what only this backend can show: schema migrations and refusals (R65), tamper
//! detection by editing the file behind the store's back (R22), reads that do not wait for a
//! writer (R63), and acknowledged commits surviving kill -9 (R64).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::path::Path;

use deputy_store::{
    Commit, Maintenance, NewActivity, Store, StoreError, VerifyReport, verify_activity,
};
use deputy_store_sqlite::{SCHEMA_VERSION, SqliteStore};
use tempfile::TempDir;

/// A factory of fresh on-file stores; their directories are removed when it is dropped.
fn on_file() -> impl Fn() -> SqliteStore {
    let directories = RefCell::new(Vec::<TempDir>::new());
    move || {
        let directory = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(directory.path().join("deputy.db")).unwrap();
        directories.borrow_mut().push(directory);
        store
    }
}

fn entry(action: &str, actor: &str) -> NewActivity {
    NewActivity {
        at_ms: 1_700_000_000_000,
        action: action.to_owned(),
        actor: Some(actor.to_owned()),
        subject: Some("bob".to_owned()),
        tenant: Some("t1".to_owned()),
        acting_as: "[]".to_owned(),
        source: None,
        details: "{}".to_owned(),
    }
}

/// Commits `n` change sets with two activity entries each.
fn commit_some(store: &SqliteStore, n: u64) {
    for _ in 0..n {
        let head = store.head().unwrap();
        let commit = Commit {
            at_ms: 1_000 + head as i64,
            payload: format!("{{\"change\":{}}}", head + 1),
            activity: vec![entry("user.created", "alice"), entry("role.granted", "alice")],
        };
        store.commit(head, &commit).unwrap();
    }
}

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

mod conformance_in_memory {
    use super::*;

    deputy_store_conformance::conformance_tests!(|| SqliteStore::open_in_memory().unwrap());

    #[test]
    fn boxed_dyn_store_passes() {
        deputy_store_conformance::store::r22_commit_activity_is_chained_and_carries_the_revision(
            || Box::new(SqliteStore::open_in_memory().unwrap()) as Box<dyn Store>,
        );
    }
}

mod conformance_on_file {
    use super::*;

    deputy_store_conformance::conformance_tests!(on_file());
}

mod schema {
    use super::*;

    #[test]
    fn r65_creates_a_missing_file_with_the_latest_schema_in_wal_mode() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("new.db");
        assert!(!path.exists());
        let store = SqliteStore::open(&path).unwrap();
        assert!(path.exists());
        assert_eq!(store.path(), Some(path.as_path()));
        let connection = raw(&path);
        let pragma = |name: &str| -> String {
            connection
                .query_row(&format!("PRAGMA {name}"), [], |row| {
                    row.get::<_, rusqlite::types::Value>(0)
                })
                .map(|value| format!("{value:?}"))
                .unwrap()
        };
        assert_eq!(pragma("journal_mode"), "Text(\"wal\")");
        assert_eq!(pragma("user_version"), format!("Integer({SCHEMA_VERSION})"));
        assert_eq!(pragma("application_id"), format!("Integer({})", 0x4450_5459));
    }

    #[test]
    fn r65_reopen_keeps_data_checkpoint_and_epoch() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("deputy.db");
        let store = SqliteStore::open(&path).unwrap();
        commit_some(&store, 3);
        store.append_activity(&[entry("signin.failed", "mallory")]).unwrap();
        let checkpoint = deputy_store::Checkpoint { revision: 2, blob: vec![7; 1000] };
        store.save_checkpoint(&checkpoint).unwrap();
        let epoch = store.epoch().unwrap();
        let changes = store.changes_after(0, 100).unwrap();
        drop(store);

        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.head().unwrap(), 3);
        assert_eq!(store.changes_after(0, 100).unwrap(), changes);
        assert_eq!(store.load_checkpoint().unwrap(), Some(checkpoint));
        assert_eq!(store.epoch().unwrap(), epoch);
        assert_eq!(verify_activity(&store).unwrap(), VerifyReport::Intact { entries: 7 });
        commit_some(&store, 1);
        assert_eq!(verify_activity(&store).unwrap(), VerifyReport::Intact { entries: 9 });
    }

    #[test]
    fn r65_refuses_newer_schema_and_leaves_the_file_unchanged() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("deputy.db");
        commit_some(&SqliteStore::open(&path).unwrap(), 2);
        {
            let connection = raw(&path);
            connection.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        match SqliteStore::open(&path) {
            Err(StoreError::TooNew { found, supported })
                if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION => {}
            other => panic!("expected TooNew, got {other:?}"),
        }
        assert!(std::fs::read(&path).unwrap() == before, "a refused database must be untouched");
        let error = SqliteStore::open(&path).unwrap_err().to_string();
        assert!(error.contains("newer than this binary supports"), "{error}");
    }

    #[test]
    fn r65_refuses_a_file_that_is_not_sqlite() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("notes.txt");
        let garbage = "this is not a database, just some notes\n".repeat(100);
        std::fs::write(&path, &garbage).unwrap();
        match SqliteStore::open(&path) {
            Err(StoreError::Corrupt(message)) => {
                assert!(message.contains("notes.txt"), "the message names the file: {message}");
                assert!(message.contains("not a sqlite database"), "{message}");
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), garbage, "left untouched");
    }

    #[test]
    fn r65_refuses_a_sqlite_database_of_another_application() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("other.db");
        raw(&path).execute_batch("CREATE TABLE contacts (name TEXT)").unwrap();
        match SqliteStore::open(&path) {
            Err(StoreError::Corrupt(message)) => {
                assert!(message.contains("not a deputy database"), "{message}");
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
        let tables: i64 = raw(&path)
            .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
            .unwrap();
        assert_eq!(tables, 1, "the foreign database is left untouched");
    }

    #[test]
    fn r66_epoch_is_nonzero_survives_reopen_and_differs_between_databases() {
        let directory = tempfile::tempdir().unwrap();
        let first = SqliteStore::open(directory.path().join("a.db")).unwrap().epoch().unwrap();
        let second = SqliteStore::open(directory.path().join("b.db")).unwrap().epoch().unwrap();
        let reopened = SqliteStore::open(directory.path().join("a.db")).unwrap().epoch().unwrap();
        assert_ne!(first, 0);
        assert_ne!(first, second);
        assert_eq!(first, reopened);
        assert_ne!(SqliteStore::open_in_memory().unwrap().epoch().unwrap(), 0);
    }
}

mod concurrency {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn r63_reads_do_not_wait_for_a_writer() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("deputy.db");
        let store = SqliteStore::open(&path).unwrap();
        commit_some(&store, 2);

        // Another writer holds the write lock with an uncommitted change.
        let mut other = raw(&path);
        let transaction =
            other.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).unwrap();
        transaction
            .execute(
                "INSERT INTO changes (revision, at_ms, payload) VALUES (3, 0, 'uncommitted')",
                [],
            )
            .unwrap();

        let started = Instant::now();
        assert_eq!(store.head().unwrap(), 2, "the uncommitted change is not visible");
        assert_eq!(store.changes_after(0, 10).unwrap().len(), 2);
        assert_eq!(verify_activity(&store).unwrap(), VerifyReport::Intact { entries: 4 });
        assert!(store.load_checkpoint().unwrap().is_none());
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "reads took {:?}: they waited for the writer",
            started.elapsed()
        );
        transaction.rollback().unwrap();
    }

    #[test]
    fn two_stores_on_one_file_keep_the_revision_precondition() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("deputy.db");
        let (first, second) =
            (SqliteStore::open(&path).unwrap(), SqliteStore::open(&path).unwrap());
        assert_eq!(first.epoch().unwrap(), second.epoch().unwrap());
        let commit = Commit { at_ms: 1, payload: "\"p\"".to_owned(), activity: vec![] };
        assert_eq!(first.commit(0, &commit).unwrap(), 1);
        match second.commit(0, &commit) {
            Err(StoreError::Conflict { expected: 0, actual: 1 }) => {}
            other => panic!("expected Conflict {{ expected: 0, actual: 1 }}, got {other:?}"),
        }
        assert_eq!(second.head().unwrap(), 1, "the other store sees the commit at once");
        assert_eq!(second.commit(1, &commit).unwrap(), 2);
    }
}

mod tampering {
    use super::*;

    /// A file store with 5 commits of 2 entries each (seq 1..=10), and its path.
    fn store_with_history() -> (TempDir, std::path::PathBuf, SqliteStore) {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("deputy.db");
        let store = SqliteStore::open(&path).unwrap();
        commit_some(&store, 5);
        assert_eq!(verify_activity(&store).unwrap(), VerifyReport::Intact { entries: 10 });
        (directory, path, store)
    }

    fn broken_seq(store: &SqliteStore) -> (u64, String) {
        match verify_activity(store).unwrap() {
            VerifyReport::Broken { seq, reason } => (seq, reason),
            intact => panic!("tampering went unnoticed: {intact:?}"),
        }
    }

    #[test]
    fn r22_verify_names_first_tampered_entry() {
        let (_directory, path, store) = store_with_history();
        let connection = raw(&path);
        connection
            .execute_batch(
                "DROP TRIGGER activity_append_only_update;
                 UPDATE activity SET action = 'role.revoked' WHERE seq = 4;
                 UPDATE activity SET details = '{\"forged\":true}' WHERE seq = 8;",
            )
            .unwrap();
        let (seq, reason) = broken_seq(&store);
        assert_eq!(seq, 4, "the first tampered entry is named ({reason})");
        assert!(reason.contains("content does not match"), "{reason}");
    }

    #[test]
    fn r22_rehashing_a_tampered_entry_breaks_the_next_link() {
        let (_directory, path, store) = store_with_history();
        let tampered = store
            .activity(&deputy_store::ActivityQuery { after_seq: 3, limit: 1, ..Default::default() })
            .unwrap()
            .remove(0);
        let mut content = tampered.entry.clone();
        content.actor = Some("mallory".to_owned());
        let forged_hash = deputy_store::chain_hash(
            &tampered.prev_hash,
            tampered.seq,
            tampered.revision,
            &content,
        );
        let connection = raw(&path);
        connection.execute_batch("DROP TRIGGER activity_append_only_update").unwrap();
        connection
            .execute(
                "UPDATE activity SET actor = 'mallory', hash = ?1 WHERE seq = 4",
                [&forged_hash],
            )
            .unwrap();
        let (seq, reason) = broken_seq(&store);
        assert_eq!(seq, 5, "entry 4 now hashes correctly, but entry 5 no longer follows it");
        assert!(reason.contains("previous-hash"), "{reason}");
    }

    #[test]
    fn r22_deleted_entry_is_detected() {
        let (_directory, path, store) = store_with_history();
        raw(&path)
            .execute_batch(
                "DROP TRIGGER activity_append_only_delete; DELETE FROM activity WHERE seq = 6;",
            )
            .unwrap();
        let (seq, reason) = broken_seq(&store);
        assert_eq!(seq, 7, "{reason}");
        assert!(reason.contains("expected entry 6"), "{reason}");
    }

    #[test]
    fn r22_logs_refuse_update_and_delete_through_sql() {
        let (_directory, path, store) = store_with_history();
        let connection = raw(&path);
        for statement in [
            "UPDATE activity SET action = 'x' WHERE seq = 1",
            "DELETE FROM activity WHERE seq = 10",
            "UPDATE changes SET payload = 'x' WHERE revision = 1",
            "DELETE FROM changes WHERE revision = 5",
        ] {
            let error = connection.execute(statement, []).unwrap_err().to_string();
            assert!(error.contains("append-only"), "`{statement}` failed with: {error}");
        }
        assert_eq!(verify_activity(&store).unwrap(), VerifyReport::Intact { entries: 10 });
        assert_eq!(store.head().unwrap(), 5);
    }
}

mod crash {
    //! The parent re-runs this test binary as a child that commits in a loop, printing each
    //! revision once `commit` has returned, and kills it with SIGKILL at a random instant.

    use std::collections::BTreeSet;
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use deputy_store::{ActivityQuery, CommittedChange};

    use super::*;

    const CHILD_ENV: &str = "DEPUTY_CRASH_CHILD";
    const KILLS: u32 = 20;

    fn payload(revision: u64) -> String {
        // Several pages per commit, of varying length.
        let pad = "x".repeat(3_000 + (revision as usize * 397) % 5_000);
        format!("{{\"revision\":{revision},\"pad\":\"{pad}\"}}")
    }

    fn committed(revision: u64) -> Commit {
        Commit {
            at_ms: revision as i64 * 10,
            payload: payload(revision),
            activity: (0..2)
                .map(|i| NewActivity {
                    details: format!("{{\"revision\":{revision},\"i\":{i}}}"),
                    ..entry("crash.committed", "child")
                })
                .collect(),
        }
    }

    fn appended(after_revision: u64) -> NewActivity {
        NewActivity {
            details: format!("{{\"after\":{after_revision}}}"),
            ..entry("crash.appended", "child")
        }
    }

    /// Not a test of its own: the child process of `r64_acknowledged_commits_survive_sigkill`.
    /// Without the environment variable it returns at once.
    #[test]
    fn child_commits_until_killed() {
        let Some(path) = std::env::var_os(CHILD_ENV) else {
            return;
        };
        let store = SqliteStore::open(&path).unwrap();
        let mut stdout = std::io::stdout().lock();
        loop {
            let head = store.head().unwrap();
            let revision = store.commit(head, &committed(head + 1)).unwrap();
            writeln!(stdout, "{revision}").unwrap();
            stdout.flush().unwrap();
            if revision.is_multiple_of(5) {
                store.append_activity(&[appended(revision)]).unwrap();
                writeln!(stdout, "a{revision}").unwrap();
                stdout.flush().unwrap();
            }
        }
    }

    fn random_below(bound: u64, salt: u64) -> u64 {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
        let mut x = u64::from(nanos) ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x % bound
    }

    /// Runs the child until killed after `delay`; returns its complete stdout lines.
    fn run_child_and_kill(path: &Path, delay: Duration) -> Vec<String> {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "crash::child_commits_until_killed", "--nocapture"])
            .args(["--test-threads", "1", "--quiet"])
            .env(CHILD_ENV, path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut text = String::new();
            stdout.read_to_string(&mut text).unwrap();
            text
        });
        std::thread::sleep(delay);
        if let Some(status) = child.try_wait().unwrap() {
            let mut errors = String::new();
            stderr.read_to_string(&mut errors).unwrap();
            panic!("the child exited by itself ({status}) before it was killed:\n{errors}");
        }
        child.kill().unwrap(); // SIGKILL on unix.
        child.wait().unwrap();
        let text = reader.join().unwrap();
        // Only complete lines were acknowledged; a torn last line was not.
        let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
        lines.pop();
        lines
    }

    /// Every acknowledged commit and append is present with its exact content, the feed has
    /// no gap, and the activity log verifies intact.
    fn check_survivors(
        store: &SqliteStore,
        acked_commits: &BTreeSet<u64>,
        acked_appends: &BTreeSet<u64>,
    ) {
        let head = store.head().unwrap();
        if let Some(last) = acked_commits.last() {
            assert!(*last <= head, "acknowledged revision {last} lost: head is {head}");
        }
        let changes = store.changes_after(0, usize::MAX).unwrap();
        let expected: Vec<CommittedChange> = (1..=head)
            .map(|revision| CommittedChange {
                revision,
                at_ms: revision as i64 * 10,
                payload: payload(revision),
            })
            .collect();
        assert!(changes == expected, "the feed after a kill differs from what was committed");

        let entries =
            store.activity(&ActivityQuery { limit: usize::MAX, ..Default::default() }).unwrap();
        let mut n_committed = 0;
        let mut appends = BTreeSet::new();
        for stored in &entries {
            match stored.revision {
                Some(revision) => {
                    n_committed += 1;
                    assert!(
                        committed(revision).activity.contains(&stored.entry),
                        "entry {} has content that was never committed",
                        stored.seq
                    );
                }
                None => {
                    let after: u64 = stored.entry.details["{\"after\":".len()..]
                        .trim_end_matches('}')
                        .parse()
                        .unwrap();
                    assert_eq!(stored.entry, appended(after), "entry {}", stored.seq);
                    appends.insert(after);
                }
            }
        }
        assert_eq!(n_committed, 2 * head, "every commit keeps both of its activity entries");
        assert!(acked_appends.is_subset(&appends), "an acknowledged append was lost");
        assert_eq!(
            verify_activity(store).unwrap(),
            VerifyReport::Intact { entries: entries.len() as u64 }
        );
    }

    #[test]
    fn r64_acknowledged_commits_survive_sigkill() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("deputy.db");
        let mut acked_commits = BTreeSet::new();
        let mut acked_appends = BTreeSet::new();
        for kill in 0..KILLS {
            let delay = Duration::from_millis(5 + random_below(200, u64::from(kill)));
            for line in run_child_and_kill(&path, delay) {
                match line.strip_prefix('a') {
                    Some(revision) => acked_appends.insert(revision.parse::<u64>().unwrap()),
                    None => match line.parse::<u64>() {
                        Ok(revision) => acked_commits.insert(revision),
                        Err(_) => false, // The test harness's own output.
                    },
                };
            }
            let store = SqliteStore::open(&path)
                .unwrap_or_else(|error| panic!("reopening after kill #{kill} failed: {error}"));
            check_survivors(&store, &acked_commits, &acked_appends);
        }
        eprintln!(
            "{KILLS} kills: {} commits and {} appends acknowledged, all present after every kill",
            acked_commits.len(),
            acked_appends.len()
        );
        assert!(
            acked_commits.len() > 20,
            "the children acknowledged only {} commits: the test proved little",
            acked_commits.len()
        );
    }
}

mod backup {
    use deputy_store::{Commit, Maintenance, Store};
    use deputy_store_sqlite::SqliteStore;

    #[test]
    fn r66_backup_of_a_live_database_restores_with_a_new_epoch() {
        let dir = tempfile::tempdir().unwrap();
        let live = SqliteStore::open(dir.path().join("live.db")).unwrap();
        for i in 0..5u64 {
            live.commit(i, &Commit { at_ms: 1, payload: format!("\"c{i}\""), activity: vec![] })
                .unwrap();
        }
        let backup = dir.path().join("backup.db");
        live.backup_to(&backup).unwrap();
        // The live database keeps going after the backup.
        live.commit(5, &Commit { at_ms: 1, payload: "\"after\"".into(), activity: vec![] })
            .unwrap();
        assert!(live.backup_to(&backup).is_err(), "never overwrites");
        let restored = SqliteStore::restore(&backup, &dir.path().join("restored.db")).unwrap();
        assert_eq!(restored.head().unwrap(), 5, "the backup holds what was committed before it");
        assert_ne!(
            restored.epoch().unwrap(),
            live.epoch().unwrap(),
            "a restore starts a new epoch"
        );
        assert_eq!(restored.changes_after(0, 10).unwrap()[4].payload, "\"c4\"");
    }
}

mod checkpoint_parts {
    use deputy_store::{Checkpoint, Store};
    use deputy_store_sqlite::{CHECKPOINT_PART_BYTES, SqliteStore};

    #[test]
    fn r63_checkpoint_larger_than_a_part_round_trips() {
        let store = SqliteStore::open_in_memory().unwrap();
        let blob: Vec<u8> = (0..CHECKPOINT_PART_BYTES + 1_000).map(|i| (i % 251) as u8).collect();
        store.save_checkpoint(&Checkpoint { revision: 7, blob: blob.clone() }).unwrap();
        let loaded = store.load_checkpoint().unwrap().unwrap();
        assert_eq!(loaded.revision, 7);
        assert!(loaded.blob == blob, "the parts join back into the same bytes");
        let mut sizes = Vec::new();
        let revision = store
            .load_checkpoint_parts(&mut |part| {
                sizes.push(part.len());
                Ok(())
            })
            .unwrap();
        assert_eq!(revision, Some(7));
        assert_eq!(sizes, vec![CHECKPOINT_PART_BYTES, 1_000], "streamed one part at a time");
        store.save_checkpoint(&Checkpoint { revision: 8, blob: b"small".to_vec() }).unwrap();
        assert_eq!(
            store.load_checkpoint().unwrap().unwrap().blob,
            b"small",
            "no stale parts remain"
        );
    }

    #[test]
    fn r65_migration_keeps_a_version_1_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        {
            // A version-1 database, as the first release wrote it.
            let c = rusqlite::Connection::open(&path).unwrap();
            c.execute_batch(include_str!("../migrations/0001_init.sql")).unwrap();
            c.pragma_update(None, "application_id", 0x4450_5459).unwrap();
            c.pragma_update(None, "user_version", 1).unwrap();
            c.execute("INSERT INTO meta (key, value) VALUES ('epoch', '42')", []).unwrap();
            c.execute("INSERT INTO checkpoint (id, revision, blob) VALUES (1, 0, x'0102')", [])
                .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let cp = store.load_checkpoint().unwrap().unwrap();
        assert_eq!((cp.revision, cp.blob), (0, vec![1, 2]));
        assert_eq!(store.epoch().unwrap(), 42);
    }
}

mod secret_conformance_in_memory {
    use super::*;

    deputy_store_conformance::secret_conformance_tests!(|| SqliteStore::open_in_memory().unwrap());
}

mod secret_conformance_on_file {
    use super::*;

    deputy_store_conformance::secret_conformance_tests!(on_file());
}

/// Secrets at rest (docs/security.md): the database and its backups hold password hashes,
/// signing keys and undelivered mail, so only their owner may read them.
#[cfg(unix)]
#[test]
fn r66_database_and_backup_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.db");
    let store = SqliteStore::open(&path).unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    let backup = dir.path().join("backup.db");
    store.backup_to(&backup).unwrap();
    assert_eq!(mode(&backup), 0o600);
}

mod maintenance_conformance_in_memory {
    use deputy_store_sqlite::SqliteStore;

    deputy_store_conformance::maintenance_conformance_tests!(
        || SqliteStore::open_in_memory().unwrap()
    );
}

mod maintenance_conformance_on_file {
    use super::*;

    deputy_store_conformance::maintenance_conformance_tests!(on_file());
}
