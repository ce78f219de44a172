//! Scenarios S1–S4 of SPEC §11, end to end through the service layer on a SQLite file: the
//! files of `deputy-scenarios` run by its driver, and what a file cannot say (reopening the
//! file, racing replicas).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use deputy_core::commands::tenants::NewTenant;
use deputy_core::*;
use deputy_scenarios::commands::{Commands, operator};
use deputy_scenarios::{ScenarioFile, driver};
use deputy_service::demo::layer::Service;
use deputy_service::demo::{self, Demo};
use deputy_service::{Deputy, ServiceError};
use deputy_store::BoxedBackend;
use deputy_store::Store;

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    d: Deputy<BoxedBackend>,
    demo: Demo,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deputy.db");
    let d = Deputy::open(deputy_backends::open_file(&path).unwrap()).unwrap();
    d.initialise(None, "root", "Tax Agency").unwrap();
    let demo = demo::build(&d).unwrap();
    Fixture { _dir: dir, path, d, demo }
}

impl Fixture {
    fn role(&self, name: &str) -> RoleId {
        self.d.snapshot().catalog.role_id(name).unwrap()
    }
}

/// Runs a scenario file on a fresh deployment on a SQLite file: the root, its first admin
/// `operator`, then the file's world and steps, every command committed through `Deputy`.
fn run_file(file: &ScenarioFile) -> (tempfile::TempDir, Deputy<BoxedBackend>) {
    let dir = tempfile::tempdir().unwrap();
    let d =
        Deputy::open(deputy_backends::open_file(dir.path().join("deputy.db")).unwrap()).unwrap();
    let root = d.initialise(None, "root", "Tax Agency").unwrap().output;
    d.execute(Actor::System, None, |tx| tx.create_user(operator(root))).unwrap();
    let mut runner = Commands::new(Service::new(&d));
    if let Err(failures) = driver::run(&mut runner, file) {
        panic!("{failures}");
    }
    (dir, d)
}

#[test]
fn s1_tax_portal_secondary_logon() {
    run_file(&deputy_scenarios::S1);
}

#[test]
fn s2_data_platform_contact_person_customer_manager_entitlements() {
    run_file(&deputy_scenarios::S2);
}

#[test]
fn s3_backup_portal_ranked_admins() {
    let (_dir, d) = run_file(&deputy_scenarios::S3);
    // R49: the file's last step, a change made while impersonating, is logged with the
    // impersonator as the actor and the target named in the acting-as chain.
    let s = d.snapshot();
    let sitm = s.principal_by_logon("sitm").unwrap();
    let agent = s.principal_by_logon("globex-cs").unwrap();
    let query = deputy_store::ActivityQuery { after_seq: 0, limit: 100_000, ..Default::default() };
    let entries = d.store().activity(&query).unwrap();
    let last = entries.iter().rev().find(|e| e.revision == Some(s.revision)).unwrap();
    assert_eq!(
        last.entry.actor.as_deref(),
        Some(sitm.to_string().as_str()),
        "R49: the impersonator is the actor"
    );
    assert!(last.entry.acting_as.contains(&agent.to_string()), "and the target is named");
}

#[test]
fn s4_legal_tech_partner_access_and_revocation_token() {
    run_file(&deputy_scenarios::S4);
}

#[test]
fn r64_state_survives_reopen_and_replays_identically() {
    let f = fixture();
    let before = serde_json::to_string(&f.d.snapshot().to_changes()).unwrap();
    let revision = f.d.snapshot().revision;
    let path = f.path.clone();
    let reopened = Deputy::open(deputy_backends::open_file(&path).unwrap()).unwrap();
    assert_eq!(reopened.snapshot().revision, revision);
    assert_eq!(serde_json::to_string(&reopened.snapshot().to_changes()).unwrap(), before);
    // And from a checkpoint.
    reopened.checkpoint().unwrap();
    let again = Deputy::open(deputy_backends::open_file(&path).unwrap()).unwrap();
    assert_eq!(serde_json::to_string(&again.snapshot().to_changes()).unwrap(), before);
    let verified = deputy_store::verify_activity(again.store()).unwrap();
    assert!(matches!(verified, deputy_store::VerifyReport::Intact { entries } if entries > 50));
    // A checkpoint of many short lines (as a large state writes it) and one of a single
    // JSON array (as the first release wrote it) load the same state.
    let changes = again.snapshot().to_changes();
    let mut lines = Vec::new();
    for line in changes.chunks(7) {
        serde_json::to_writer(&mut lines, line).unwrap();
        lines.push(b'\n');
    }
    let single = serde_json::to_vec(&changes).unwrap();
    for blob in [lines, single] {
        let store = deputy_backends::open_file(&path).unwrap();
        deputy_store::Store::save_checkpoint(&store, &deputy_store::Checkpoint { revision, blob })
            .unwrap();
        let loaded = Deputy::open(store).unwrap();
        assert_eq!(loaded.snapshot().revision, revision);
        assert_eq!(serde_json::to_string(&loaded.snapshot().to_changes()).unwrap(), before);
    }
}

#[test]
fn r50_r63e_a_token_ahead_is_waited_for_then_refused_never_answered_from_older_data() {
    let f = fixture();
    let head = f.d.snapshot().revision;
    // Another process commits while this one waits for the revision it was shown.
    let other = Deputy::open(deputy_backends::open_file(&f.path).unwrap()).unwrap();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let root = other.snapshot().root().unwrap();
        let new = NewTenant { key: "late-co".into(), name: "Late".into(), ..Default::default() };
        other.execute(Actor::System, None, |tx| tx.create_tenant(root, new.clone())).unwrap()
    });
    let waited = f.d.snapshot_at_least(head + 1).unwrap();
    let made = writer.join().unwrap();
    assert_eq!(made.revision, head + 1);
    assert_eq!(waited.tenant_by_key("late-co"), Some(made.output), "answered on the new data");
    // A revision nobody made is waited for up to the bound, then refused.
    let Fixture { d, .. } = f;
    let d = d.with_token_wait(std::time::Duration::from_millis(50));
    assert!(matches!(d.snapshot_at_least(head + 50), Err(ServiceError::FutureRevision { .. })));
}

#[test]
fn r5_racing_replicas_leave_one_admin() {
    // Two replicas on one SQLite file; each demotes the other admin at the same time.
    let f = fixture();
    let m = f.demo.clone();
    let nora = m.nh_second_admin;
    let replica_b = Deputy::open(deputy_backends::open_file(&f.path).unwrap()).unwrap();
    let s = f.d.snapshot();
    let admin = f.role("admin");
    let jane_admin = s
        .principal(m.jane)
        .unwrap()
        .assignments
        .iter()
        .find(|a| a.bundle == Bundle::Role(admin))
        .unwrap()
        .id;
    let nora_admin = s
        .principal(nora)
        .unwrap()
        .assignments
        .iter()
        .find(|a| a.bundle == Bundle::Role(admin))
        .unwrap()
        .id;
    let a = f.d.execute(Actor::at_home(m.jane), None, |tx| tx.unassign(nora, nora_admin));
    let b = replica_b.execute(Actor::at_home(nora), None, |tx| tx.unassign(m.jane, jane_admin));
    assert!(a.is_ok() != b.is_ok(), "exactly one demotion wins: {a:?} / {b:?}");
    replica_b.refresh().unwrap();
    let admins = deputy_core::tx::active_admins(&replica_b.snapshot(), m.natural_health).count();
    assert_eq!(admins, 1);
}
