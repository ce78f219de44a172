//! The box everything above the port holds passes every conformance suite on every backend,
//! so it forwards each operation to the backend it opened; a backup restores through the
//! opener into a new epoch (R66); and the service runs on PostgreSQL as on SQLite.
//!
//! The PostgreSQL cases run against a real server (`DEPUTY_TEST_POSTGRES`, by default the
//! local one `.ci/run` starts), each in a database of its own; an unreachable server fails
//! them with a message saying so.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::cell::RefCell;

use deputy_store::{BoxedBackend, Commit, Maintenance, Store};
use deputy_store_postgres::scratch::ScratchDatabase;

mod store {
    deputy_store_conformance::conformance_tests!(|| deputy_backends::in_memory().unwrap());
}

mod secrets {
    deputy_store_conformance::secret_conformance_tests!(|| deputy_backends::in_memory().unwrap());
}

mod maintenance {
    deputy_store_conformance::maintenance_conformance_tests!(
        || deputy_backends::in_memory().unwrap()
    );
}

/// A fresh database on the test server, or a failed test that says why.
fn scratch_database() -> ScratchDatabase {
    ScratchDatabase::create().unwrap_or_else(|error| panic!("{error}"))
}

/// Opens `postgres://…` through the opener, as the binary does.
fn open(url: &str) -> BoxedBackend {
    deputy_backends::open(url).unwrap_or_else(|error| panic!("{error}"))
}

/// A factory of boxed PostgreSQL backends, each on a database of its own, dropped with it.
fn postgres() -> impl Fn() -> BoxedBackend {
    let databases = RefCell::new(Vec::<ScratchDatabase>::new());
    move || {
        let database = scratch_database();
        let backend = open(database.url());
        databases.borrow_mut().push(database);
        backend
    }
}

mod postgres_store {
    deputy_store_conformance::conformance_tests!(if deputy_store_postgres::scratch::server_available() => super::postgres());
}

mod postgres_secrets {
    deputy_store_conformance::secret_conformance_tests!(if deputy_store_postgres::scratch::server_available() => super::postgres());
}

mod postgres_maintenance {
    deputy_store_conformance::maintenance_conformance_tests!(if deputy_store_postgres::scratch::server_available() => super::postgres());
}

#[test]
fn r66_a_backup_restores_through_the_opener_with_a_new_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("live.db").display());
    let live = deputy_backends::open(&url).unwrap();
    assert_eq!(live.location(), url);
    live.commit(0, &Commit { at_ms: 1, payload: "{\"n\":1}".into(), activity: vec![] }).unwrap();
    let backup = dir.path().join("backup.db");
    live.backup_to(&backup).unwrap();
    let target = format!("sqlite:{}", dir.path().join("restored.db").display());
    let restored = deputy_backends::restore(&backup, &target).unwrap();
    assert_eq!(restored.head().unwrap(), 1);
    assert_ne!(restored.epoch().unwrap(), live.epoch().unwrap(), "a restore starts a new epoch");
    assert!(deputy_backends::restore(&backup, &target).is_err(), "never over an existing database");
    assert!(deputy_backends::restore(&backup, "sqlite::memory:").is_err());
}

#[test]
fn r66_a_postgres_backup_restores_through_the_opener_with_a_new_epoch() {
    if !deputy_store_postgres::scratch::server_available() {
        return;
    }
    use deputy_store::secrets::{NewMail, SecretStore};
    let (live_database, target_database) = (scratch_database(), scratch_database());
    let live = open(live_database.url());
    assert!(live.location().starts_with("postgres://"), "{}", live.location());
    let activity = deputy_store::NewActivity {
        at_ms: 1,
        action: "user.created".into(),
        acting_as: "[]".into(),
        details: "{\"note\":\"tab\\there, newline\\nthere, back\\\\slash\"}".into(),
        ..Default::default()
    };
    let commit = Commit { at_ms: 1, payload: "{\"n\":1}".into(), activity: vec![activity] };
    live.commit(0, &commit).unwrap();
    live.commit(1, &Commit { payload: "{\"n\":2}".into(), ..commit.clone() }).unwrap();
    let mail =
        NewMail { recipient: "a@example.com".into(), subject: "s".into(), body: "b\n".into() };
    let queued = live.queue_mail(&mail, 5).unwrap();
    live.save_checkpoint(&deputy_store::Checkpoint { revision: 1, blob: vec![0, 1, 255] }).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup");
    live.backup_to(&backup).unwrap();

    let restored = deputy_backends::restore(&backup, target_database.url()).unwrap();
    assert_eq!(restored.head().unwrap(), 2);
    assert_eq!(restored.changes_after(0, 10).unwrap(), live.changes_after(0, 10).unwrap());
    assert_eq!(restored.load_checkpoint().unwrap(), live.load_checkpoint().unwrap());
    assert_eq!(restored.outbox(0, 10).unwrap(), live.outbox(0, 10).unwrap());
    assert!(matches!(
        deputy_store::verify_activity(&restored).unwrap(),
        deputy_store::VerifyReport::Intact { entries: 2 }
    ));
    assert_ne!(restored.epoch().unwrap(), live.epoch().unwrap(), "a restore starts a new epoch");
    assert_eq!(restored.commit(2, &commit).unwrap(), 3, "the restored feed goes on");
    assert!(restored.queue_mail(&mail, 6).unwrap() > queued, "and so do the outbox's ids");
    assert!(
        deputy_backends::restore(&backup, target_database.url()).is_err(),
        "never over an existing deputy schema"
    );
}

/// The service on PostgreSQL: S1's world is built through `Deputy`, Jim (Jane's secondary
/// logon) may file on the bakery's withholding account, and a replica opened afresh replays
/// the feed from PostgreSQL to the same answer at the same revision.
#[test]
fn r63_the_service_runs_and_replays_on_postgres() {
    if !deputy_store_postgres::scratch::server_available() {
        return;
    }
    use deputy_core::{Context, Decision, Target};
    use deputy_service::{CheckItem, Deputy};

    let database = scratch_database();
    let d = Deputy::open(open(database.url())).unwrap();
    d.initialise(None, "root", "Tax Agency").unwrap();
    let demo = deputy_service::demo::build(&d).unwrap();
    let file = d.snapshot().catalog.permission_id("returns.file").unwrap();
    let items = [
        CheckItem {
            principal: demo.jim,
            permission: file,
            target: Target::Resource(demo.bakery_withholding),
            ctx: Context::HOME,
        },
        CheckItem {
            principal: demo.jim,
            permission: file,
            target: Target::Resource(demo.bakery_sales),
            ctx: Context::HOME,
        },
    ];
    let revision = d.snapshot().revision;
    let (answers, at) = d.check_batch(&items, Some(revision)).unwrap();
    assert_eq!(at, revision);
    assert_eq!(answers[0], Ok(Decision::Allowed), "S1: Jim files on the bakery's withholding");
    assert!(answers[1] != Ok(Decision::Allowed), "S1: but not on its sales and use account");
    drop(d);

    let replica = Deputy::open(open(database.url())).unwrap();
    assert_eq!(replica.snapshot().revision, revision, "replayed to the same revision");
    let (again, at) = replica.check_batch(&items, Some(revision)).unwrap();
    assert_eq!((again, at), (answers, revision), "and to the same answers");
}

/// Two replicas on one PostgreSQL database (R63a, R63b): each follows what the other
/// commits, and a write decided on stale state meets the revision precondition, catches
/// up and decides again instead of overwriting.
#[test]
fn r63a_r63b_two_replicas_on_postgres_follow_each_other_and_never_overwrite() {
    if !deputy_store_postgres::scratch::server_available() {
        return;
    }
    use deputy_core::Actor;
    use deputy_core::commands::tenants::NewTenant;
    use deputy_service::Deputy;

    let database = scratch_database();
    let a = Deputy::open(open(database.url())).unwrap();
    a.initialise(None, "root", "Root").unwrap();
    let b = Deputy::open(open(database.url())).unwrap();
    let root = a.snapshot().root().unwrap();
    let tenant = |key: &str| NewTenant { key: key.into(), name: key.into(), ..Default::default() };
    let acme = tenant("acme");
    a.execute(Actor::System, None, |tx| tx.create_tenant(root, acme.clone())).unwrap();
    assert!(b.snapshot().tenant_by_key("acme").is_none(), "b has not followed yet");
    // b writes on its stale state: the precondition refuses, b catches up and decides again.
    let globex = tenant("globex");
    let made = b.execute(Actor::System, None, |tx| tx.create_tenant(root, globex.clone())).unwrap();
    assert_eq!(made.revision, 3, "after a's revision 2, not over it");
    assert!(b.snapshot().tenant_by_key("acme").is_some(), "b caught up on the way");
    let dup = b.execute(Actor::System, None, |tx| tx.create_tenant(root, acme.clone()));
    assert!(dup.is_err(), "a key a's write took is refused on b too");
    assert_eq!(a.follow().unwrap(), 1, "a follows b's one commit");
    assert_eq!(a.snapshot().tenant_by_key("globex"), Some(made.output));
    assert_eq!(a.revision_lag().unwrap(), 0);
}

/// R5 across replicas (R63b): two admins of one tenant demote each other at the same time
/// through two replicas on one PostgreSQL database, 200 rounds: exactly one demotion wins
/// each time, and the tenant never lacks an admin.
#[test]
fn r5_r63b_admins_demoting_each_other_through_two_replicas_never_leave_none() {
    if !deputy_store_postgres::scratch::server_available() {
        return;
    }
    use deputy_core::commands::tenants::NewTenant;
    use deputy_core::commands::users::NewUser;
    use deputy_core::{Actor, Bundle, Status};
    use deputy_service::Deputy;
    use std::sync::{Arc, Barrier};

    let database = scratch_database();
    let a = Arc::new(Deputy::open(open(database.url())).unwrap());
    a.initialise(None, "root", "Root").unwrap();
    let b = Arc::new(Deputy::open(open(database.url())).unwrap());
    let root = a.snapshot().root().unwrap();
    let admin = a.snapshot().catalog.admin_role;
    let (mut wins_a, mut wins_b) = (0, 0);
    for round in 0..200 {
        let key = format!("t{round}");
        let new = NewTenant { key: key.clone(), name: key.clone(), ..Default::default() };
        let tenant = a.execute(Actor::System, None, |tx| tx.create_tenant(root, new.clone()));
        let tenant = tenant.unwrap().output;
        let user = |logon: String| NewUser {
            home: tenant,
            logon: logon.clone(),
            first_name: logon.clone(),
            last_name: "Admin".into(),
            email: format!("{logon}@example.com"),
            phone: None,
            roles: vec![admin],
            status: Status::Active,
        };
        let (x, y) = (user(format!("x{round}")), user(format!("y{round}")));
        let x = a.execute(Actor::System, None, |tx| tx.create_user(x.clone())).unwrap().output;
        let y = a.execute(Actor::System, None, |tx| tx.create_user(y.clone())).unwrap().output;
        let s = a.snapshot();
        let admin_of = |p| {
            let found = s
                .principal(p)
                .unwrap()
                .assignments
                .iter()
                .find(|g| g.bundle == Bundle::Role(admin));
            found.unwrap().id
        };
        let (x_admin, y_admin) = (admin_of(x), admin_of(y));
        let barrier = Arc::new(Barrier::new(2));
        let (ra, rb) = (a.clone(), b.clone());
        let (ga, gb) = (barrier.clone(), barrier);
        let one = std::thread::spawn(move || {
            ga.wait();
            ra.execute(Actor::at_home(x), None, |tx| tx.unassign(y, y_admin)).is_ok()
        });
        let two = std::thread::spawn(move || {
            gb.wait();
            rb.execute(Actor::at_home(y), None, |tx| tx.unassign(x, x_admin)).is_ok()
        });
        let (won_a, won_b) = (one.join().unwrap(), two.join().unwrap());
        assert!(won_a != won_b, "round {round}: exactly one demotion wins ({won_a}, {won_b})");
        wins_a += usize::from(won_a);
        wins_b += usize::from(won_b);
        for replica in [&a, &b] {
            replica.follow().unwrap();
            let left = deputy_core::tx::active_admins(&replica.snapshot(), tenant).count();
            assert_eq!(left, 1, "round {round}: the tenant keeps one admin");
        }
    }
    assert_eq!(wins_a + wins_b, 200);
}
