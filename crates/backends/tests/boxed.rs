//! The box everything above the port holds passes every conformance suite, so it forwards
//! each operation to the backend it opened; and a backup restores through the opener into
//! a new epoch (R66).
#![allow(clippy::unwrap_used)]

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

#[test]
fn r66_a_backup_restores_through_the_opener_with_a_new_epoch() {
    use deputy_store::{Commit, Maintenance, Store};
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
