//! Concurrent writers through group commit: every acknowledged write is durable, has its
//! own revision, and replays to the same state (R50, R56, R64).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use deputy_core::commands::tenants::NewTenant;
use deputy_core::commands::users::NewUser;
use deputy_core::*;
use deputy_service::Deputy;
use deputy_store::Store;
use deputy_store_sqlite::SqliteStore;
use std::sync::Arc;

#[test]
fn r64_concurrent_writers_each_get_a_durable_revision() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let d = Arc::new(Deputy::open(SqliteStore::open(&path).unwrap()).unwrap());
    let root = d.initialise(None, "root", "Root").unwrap().output;
    let acme = d
        .execute(Actor::System, None, |tx| {
            tx.create_tenant(
                root,
                NewTenant { key: "acme".into(), name: "Acme".into(), ..Default::default() },
            )
        })
        .unwrap()
        .output;
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let d = d.clone();
            std::thread::spawn(move || {
                let mut revisions = Vec::new();
                for i in 0..40 {
                    let new = NewUser {
                        home: acme,
                        logon: format!("u{t}-{i}"),
                        first_name: "U".into(),
                        last_name: "X".into(),
                        email: format!("u{t}-{i}@example.com"),
                        phone: None,
                        roles: vec![],
                        status: Status::Active,
                    };
                    let c =
                        d.execute(Actor::System, None, |tx| tx.create_user(new.clone())).unwrap();
                    // Acknowledged means visible to checks at once (read-your-writes).
                    assert!(d.snapshot().revision >= c.revision);
                    assert!(d.snapshot().principal(c.output).is_some());
                    revisions.push(c.revision);
                }
                revisions
            })
        })
        .collect();
    let mut all: Vec<u64> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    all.sort();
    let n = all.len();
    all.dedup();
    assert_eq!(all.len(), n, "every write has its own revision");
    assert_eq!(d.snapshot().revision, d.store().head().unwrap());
    assert_eq!(d.snapshot().members(acme).count(), 240);
    // A refused command in the middle of the traffic changes nothing.
    let dup = NewUser {
        home: acme,
        logon: "U0-0".into(),
        first_name: "U".into(),
        last_name: "X".into(),
        email: "x@example.com".into(),
        phone: None,
        roles: vec![],
        status: Status::Active,
    };
    assert!(d.execute(Actor::System, None, |tx| tx.create_user(dup.clone())).is_err());
    let expected = serde_json::to_string(&d.snapshot().to_changes()).unwrap();
    drop(d);
    let reopened = Deputy::open(SqliteStore::open(&path).unwrap()).unwrap();
    assert_eq!(serde_json::to_string(&reopened.snapshot().to_changes()).unwrap(), expected);
    assert!(matches!(
        deputy_store::verify_activity(reopened.store()).unwrap(),
        deputy_store::VerifyReport::Intact { .. }
    ));
}
