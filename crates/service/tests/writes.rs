//! Concurrent writers through group commit: every acknowledged write is durable, has its
//! own revision, and replays to the same state (R50, R56, R64).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use deputy_core::commands::tenants::NewTenant;
use deputy_core::commands::users::NewUser;
use deputy_core::*;
use deputy_service::Deputy;
use deputy_store::Store;
use std::sync::Arc;

#[test]
fn r64_concurrent_writers_each_get_a_durable_revision() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let d = Arc::new(Deputy::open(deputy_backends::open_file(&path).unwrap()).unwrap());
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
    let reopened = Deputy::open(deputy_backends::open_file(&path).unwrap()).unwrap();
    assert_eq!(serde_json::to_string(&reopened.snapshot().to_changes()).unwrap(), expected);
    assert!(matches!(
        deputy_store::verify_activity(reopened.store()).unwrap(),
        deputy_store::VerifyReport::Intact { .. }
    ));
}

#[test]
fn r56_checks_do_not_wait_for_a_writer() {
    let d = Arc::new(Deputy::open(deputy_backends::in_memory().unwrap()).unwrap());
    let root = d.initialise(None, "root", "Root").unwrap().output;
    let op = d
        .execute(Actor::System, None, |tx| {
            tx.create_user(NewUser {
                home: root,
                logon: "op".into(),
                first_name: "O".into(),
                last_name: "P".into(),
                email: "op@example.com".into(),
                phone: None,
                roles: vec![],
                status: Status::Active,
            })
        })
        .unwrap()
        .output;
    let (entered_tx, entered_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let release_rx = std::sync::Mutex::new(release_rx);
    let writer = {
        let d = d.clone();
        std::thread::spawn(move || {
            d.execute(Actor::System, None, |tx| {
                // The writer is stuck inside its decision until the test lets it go.
                let _ = entered_tx.send(());
                let _ = release_rx.lock().unwrap().recv();
                tx.create_tenant(
                    root,
                    NewTenant { key: "late".into(), name: "Late".into(), ..Default::default() },
                )
            })
        })
    };
    entered_rx.recv().unwrap();
    // While the writer holds the write path, checks on the published snapshot answer.
    let s = d.snapshot();
    let x = s.catalog.permission_id("users.view").unwrap();
    for _ in 0..1_000 {
        assert!(
            d.snapshot()
                .check(op, x, Target::Tenant(root), Context::HOME, d.now())
                .unwrap()
                .is_allowed()
        );
    }
    assert!(d.snapshot().tenant_by_key("late").is_none(), "nothing visible before it is durable");
    release_tx.send(()).unwrap();
    let c = writer.join().unwrap().unwrap();
    assert!(d.snapshot_at_least(c.revision).unwrap().tenant_by_key("late").is_some());
}

#[test]
fn r21_every_change_is_audited_with_actor_tenant_and_acting_as_chain() {
    let d = Deputy::open(deputy_backends::in_memory().unwrap()).unwrap();
    d.initialise(None, "root", "Agency").unwrap();
    let m = deputy_service::demo::build(&d).unwrap();
    let cm_in_acme = Actor::Principal { id: m.dataco_cm, ctx: Context::switched(m.acme) };
    let new = NewUser {
        home: m.acme,
        logon: "audited".into(),
        first_name: "A".into(),
        last_name: "U".into(),
        email: "audited@example.com".into(),
        phone: None,
        roles: vec![],
        status: Status::Pending,
    };
    let c = d.execute(cm_in_acme, Some("192.0.2.7"), |tx| tx.create_user(new.clone())).unwrap();
    let entries = d
        .store()
        .activity(&deputy_store::ActivityQuery { limit: 100_000, ..Default::default() })
        .unwrap();
    let created = entries
        .iter()
        .find(|e| e.revision == Some(c.revision) && e.entry.action == "principal.created")
        .unwrap();
    assert_eq!(created.entry.actor.as_deref(), Some(m.dataco_cm.to_string().as_str()));
    assert_eq!(created.entry.subject.as_deref(), Some(c.output.to_string().as_str()));
    assert_eq!(created.entry.tenant.as_deref(), Some(m.acme.to_string().as_str()));
    assert_eq!(created.entry.source.as_deref(), Some("192.0.2.7"));
    assert!(created.entry.acting_as.contains(&format!("\"switched_into\":\"{}\"", m.acme)));
}

#[test]
fn r49_r68_impersonation_is_audited_with_both_identities_and_reason() {
    let d = Deputy::open(deputy_backends::in_memory().unwrap()).unwrap();
    d.initialise(None, "root", "Agency").unwrap();
    let m = deputy_service::demo::build(&d).unwrap();
    let max = deputy_core::commands::access::MAX_IMPERSONATION_MS;
    // R68: a reason is required and the time is limited.
    let too_long = d.execute(Actor::at_home(m.acme_first), None, |tx| {
        tx.start_impersonation(m.acme_first, "x", max + 1, max)
    });
    assert!(too_long.is_err());
    let bob = d
        .execute(Actor::at_home(m.acme_first), None, |tx| {
            tx.create_user(NewUser {
                home: m.acme,
                logon: "bob".into(),
                first_name: "B".into(),
                last_name: "B".into(),
                email: "bob@example.com".into(),
                phone: None,
                roles: vec![],
                status: Status::Active,
            })
        })
        .unwrap()
        .output;
    let started = d
        .execute(Actor::at_home(m.acme_first), Some("198.51.100.4"), |tx| {
            tx.start_impersonation(bob, "ticket 77", 30 * 60 * 1000, max)
        })
        .unwrap();
    let as_bob = Actor::Principal {
        id: bob,
        ctx: Context { switched: None, impersonation: Some(started.output), sessionless: false },
    };
    let changed = d
        .execute(as_bob, None, |tx| {
            tx.update_profile(
                bob,
                deputy_core::commands::users::ProfileUpdate {
                    phone: Some("+1 555 0101".into()),
                    ..Default::default()
                },
            )
        })
        .unwrap();
    // R49: the target sees in its own activity that it was impersonated, and by whom.
    let mine = d
        .store()
        .activity(&deputy_store::ActivityQuery {
            limit: 1_000,
            principal: Some(bob.to_string()),
            ..Default::default()
        })
        .unwrap();
    let start = mine.iter().find(|e| e.entry.action == "impersonation.started").unwrap();
    assert_eq!(start.entry.actor.as_deref(), Some(m.acme_first.to_string().as_str()));
    assert!(start.entry.details.contains("ticket 77"), "R68: the reason is kept");
    let action = mine.iter().find(|e| e.revision == Some(changed.revision)).unwrap();
    assert_eq!(
        action.entry.actor.as_deref(),
        Some(m.acme_first.to_string().as_str()),
        "the impersonator is the actor"
    );
    assert_eq!(
        action.entry.subject.as_deref(),
        Some(bob.to_string().as_str()),
        "the target is the subject"
    );
}

#[test]
fn r63a_follow_replays_what_another_process_committed_to_the_same_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deputy.db");
    let server = Deputy::open(deputy_backends::open_file(&path).unwrap()).unwrap();
    server.initialise(None, "root", "Root").unwrap();
    let console = Deputy::open(deputy_backends::open_file(&path).unwrap()).unwrap();
    assert_eq!(server.follow().unwrap(), 0, "nothing new: one read of the head");
    let root = console.snapshot().root().unwrap();
    let new = NewTenant { key: "acme".into(), name: "Acme".into(), ..Default::default() };
    let made =
        console.execute(Actor::System, None, |tx| tx.create_tenant(root, new.clone())).unwrap();
    assert!(server.snapshot().tenant_by_key("acme").is_none(), "not seen before following");
    assert_eq!(server.revision_lag().unwrap(), 1);
    assert_eq!(server.follow().unwrap(), 1);
    assert_eq!(server.snapshot().tenant_by_key("acme"), Some(made.output));
    assert_eq!(server.revision_lag().unwrap(), 0);
}
