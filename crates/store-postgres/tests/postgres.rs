//! The PostgreSQL backend's tests, against a real server (`DEPUTY_TEST_POSTGRES`, by default
//! the local one `.ci/run` starts), each in a database of its own: the three shared
//! conformance suites, plus what only this backend can show: schema migrations and
//! refusals (R65), the revision precondition kept by the database itself across stores
//! (replicas), reads that do not wait for a writer (R56), and tamper detection (R22).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::time::{Duration, Instant};

use deputy_store::{
    Commit, Maintenance, NewActivity, Store, StoreError, VerifyReport, verify_activity,
};
use deputy_store_postgres::scratch::{ScratchDatabase, server_available};
use deputy_store_postgres::{PostgresStore, SCHEMA_VERSION};

/// A fresh database, or a failed test that says why.
fn database() -> ScratchDatabase {
    ScratchDatabase::create().unwrap_or_else(|error| panic!("{error}"))
}

fn open(database: &ScratchDatabase) -> PostgresStore {
    PostgresStore::open(database.url()).unwrap_or_else(|error| panic!("{error}"))
}

/// A factory of stores, each on a database of its own, dropped with the factory.
fn scratch() -> impl Fn() -> PostgresStore {
    let databases = RefCell::new(Vec::<ScratchDatabase>::new());
    move || {
        let database = database();
        let store = open(&database);
        databases.borrow_mut().push(database);
        store
    }
}

/// A plain connection to the database, behind the store's back.
fn raw(database: &ScratchDatabase) -> postgres::Client {
    postgres::Client::connect(database.url(), postgres::NoTls).unwrap()
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
fn commit_some(store: &PostgresStore, n: u64) {
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

mod conformance {
    use super::*;

    deputy_store_conformance::conformance_tests!(if server_available() => scratch());
}

mod secret_conformance {
    use super::*;

    deputy_store_conformance::secret_conformance_tests!(if server_available() => scratch());
}

mod maintenance_conformance {
    use super::*;

    deputy_store_conformance::maintenance_conformance_tests!(if server_available() => scratch());
}

mod schema {
    use super::*;

    #[test]
    fn r65_creates_the_schema_and_reopen_keeps_data_checkpoint_and_epoch() {
        if !server_available() {
            return;
        }
        let database = database();
        let store = open(&database);
        let version: String = raw(&database)
            .query_one("SELECT value FROM deputy.meta WHERE key = 'schema_version'", &[])
            .unwrap()
            .get(0);
        assert_eq!(version, SCHEMA_VERSION.to_string());
        commit_some(&store, 3);
        store.append_activity(&[entry("signin.failed", "mallory")]).unwrap();
        let checkpoint = deputy_store::Checkpoint { revision: 2, blob: vec![7; 1000] };
        store.save_checkpoint(&checkpoint).unwrap();
        let (epoch, changes) = (store.epoch().unwrap(), store.changes_after(0, 100).unwrap());
        drop(store);

        let store = open(&database);
        assert_eq!(store.head().unwrap(), 3);
        assert_eq!(store.changes_after(0, 100).unwrap(), changes);
        assert_eq!(store.load_checkpoint().unwrap(), Some(checkpoint));
        assert_eq!(store.epoch().unwrap(), epoch);
        assert_eq!(verify_activity(&store).unwrap(), VerifyReport::Intact { entries: 7 });
        commit_some(&store, 1);
        assert_eq!(verify_activity(&store).unwrap(), VerifyReport::Intact { entries: 9 });
        assert_ne!(open(&super::database()).epoch().unwrap(), epoch, "each database its own");
    }

    #[test]
    fn r65_refuses_a_newer_schema_and_leaves_it_unchanged() {
        if !server_available() {
            return;
        }
        let database = database();
        commit_some(&open(&database), 2);
        let newer = (SCHEMA_VERSION + 1).to_string();
        raw(&database)
            .execute("UPDATE deputy.meta SET value = $1 WHERE key = 'schema_version'", &[&newer])
            .unwrap();
        match PostgresStore::open(database.url()) {
            Err(StoreError::TooNew { found, supported })
                if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION => {}
            other => panic!("expected TooNew, got {other:?}"),
        }
        let still: String = raw(&database)
            .query_one("SELECT value FROM deputy.meta WHERE key = 'schema_version'", &[])
            .unwrap()
            .get(0);
        assert_eq!(still, newer, "a refused schema is left as it was");
        let error = PostgresStore::open(database.url()).unwrap_err().to_string();
        assert!(error.contains("newer than this binary supports"), "{error}");
    }

    #[test]
    fn r65_refuses_a_deputy_schema_it_did_not_make() {
        if !server_available() {
            return;
        }
        let database = database();
        raw(&database)
            .batch_execute("CREATE SCHEMA deputy; CREATE TABLE deputy.contacts (name text)")
            .unwrap();
        match PostgresStore::open(database.url()) {
            Err(StoreError::Corrupt(message)) => {
                assert!(message.contains("did not make"), "{message}");
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
        let tables: i64 = raw(&database)
            .query_one("SELECT count(*) FROM pg_tables WHERE schemaname = 'deputy'", &[])
            .unwrap()
            .get(0);
        assert_eq!(tables, 1, "the foreign schema is left untouched");
    }

    #[test]
    fn r65_replicas_starting_together_migrate_once() {
        if !server_available() {
            return;
        }
        let database = database();
        let epochs: Vec<u64> = std::thread::scope(|scope| {
            let starting: Vec<_> =
                (0..4).map(|_| scope.spawn(|| open(&database).epoch().unwrap())).collect();
            starting.into_iter().map(|replica| replica.join().unwrap()).collect()
        });
        assert!(epochs.windows(2).all(|pair| pair[0] == pair[1]), "one epoch: {epochs:?}");
    }

    #[test]
    fn an_unreachable_server_is_a_clear_error() {
        let error = PostgresStore::open("postgres://deputy:pw@127.0.0.1:1/deputy").unwrap_err();
        let message = error.to_string();
        assert!(
            message
                .contains("cannot connect to PostgreSQL at `postgres://deputy@127.0.0.1:1/deputy`"),
            "{message}"
        );
        assert!(!message.contains("pw"), "no password in messages: {message}");
    }
}

mod replicas {
    use super::*;

    #[test]
    fn r63b_two_stores_on_one_database_keep_the_revision_precondition() {
        if !server_available() {
            return;
        }
        let database = database();
        let (first, second) = (open(&database), open(&database));
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

    #[test]
    fn r63b_the_database_refuses_a_change_that_is_not_at_the_head() {
        if !server_available() {
            return;
        }
        let database = database();
        let store = open(&database);
        commit_some(&store, 2);
        for revision in [2_i64, 4] {
            let refused = raw(&database).execute(
                "INSERT INTO deputy.changes (revision, at_ms, payload) VALUES ($1, 0, '{}')",
                &[&revision],
            );
            assert!(refused.is_err(), "revision {revision} written behind the head's back");
        }
        let refused = raw(&database).execute("DELETE FROM deputy.changes", &[]);
        assert!(refused.is_err(), "the feed is append-only");
        assert_eq!(store.head().unwrap(), 2);
        commit_some(&store, 1);
        assert_eq!(store.changes_after(0, 10).unwrap().len(), 3);
    }

    #[test]
    fn r56_reads_do_not_wait_for_a_writer() {
        if !server_available() {
            return;
        }
        let database = database();
        let store = open(&database);
        commit_some(&store, 2);
        // Another writer holds the head's lock with an uncommitted change.
        let mut other = raw(&database);
        let mut transaction = other.transaction().unwrap();
        transaction.batch_execute("SELECT revision FROM deputy.head FOR UPDATE").unwrap();
        transaction.batch_execute("UPDATE deputy.head SET revision = 3").unwrap();
        transaction
            .batch_execute(
                "INSERT INTO deputy.changes (revision, at_ms, payload) VALUES (3, 0, '{}')",
            )
            .unwrap();

        let started = Instant::now();
        assert_eq!(store.head().unwrap(), 2, "the uncommitted change is not visible");
        assert_eq!(store.changes_after(0, 10).unwrap().len(), 2);
        assert_eq!(verify_activity(&store).unwrap(), VerifyReport::Intact { entries: 4 });
        assert!(store.load_checkpoint().unwrap().is_none());
        store.append_activity(&[entry("signin.failed", "mallory")]).unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "reads took {:?}: they waited for the writer",
            started.elapsed()
        );
        transaction.rollback().unwrap();
    }
}

mod tampering {
    use super::*;

    #[test]
    fn r22_verify_names_the_first_tampered_entry() {
        if !server_available() {
            return;
        }
        let database = database();
        let store = open(&database);
        commit_some(&store, 5);
        assert_eq!(verify_activity(&store).unwrap(), VerifyReport::Intact { entries: 10 });
        raw(&database)
            .batch_execute(
                "ALTER TABLE deputy.activity DISABLE TRIGGER activity_append_only;
                 UPDATE deputy.activity SET action = 'role.revoked' WHERE seq = 4;
                 UPDATE deputy.activity SET details = '{\"forged\":true}' WHERE seq = 8;",
            )
            .unwrap();
        match verify_activity(&store).unwrap() {
            VerifyReport::Broken { seq: 4, reason } => {
                assert!(reason.contains("content does not match"), "{reason}");
            }
            other => panic!("tampering went unnoticed or misplaced: {other:?}"),
        }
    }
}

mod backups {
    use super::*;

    #[test]
    fn r66_a_backup_is_owner_only() {
        if !server_available() {
            return;
        }
        let database = database();
        let store = open(&database);
        commit_some(&store, 1);
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("backup");
        store.backup_to(&target).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "a backup holds secrets");
        }
    }
}
