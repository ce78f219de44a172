//! The conformance suite of [`Maintenance`]: a backup is made of a live store, never over
//! an existing target, and holds what was committed before it. Restoring is the opener's
//! (`deputy-backends`) and is tested there.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use deputy_store::{Commit, Maintenance, Store};

/// A backup of a store with data is written where asked, refused over an existing target
/// (which it leaves as it was), and the store keeps serving writes meanwhile.
pub fn r66_backups_are_new_files_of_a_live_store<S: Store + Maintenance>(
    new_store: impl Fn() -> S,
) {
    let store = new_store();
    let commit = Commit { at_ms: 1, payload: "{\"n\":1}".into(), activity: vec![] };
    store.commit(0, &commit).expect("commit");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let target = dir.path().join("backup");
    store.backup_to(&target).expect("a backup to a new path");
    let written = std::fs::read(&target).expect("the backup exists");
    assert!(!written.is_empty(), "the backup holds something");
    assert!(store.backup_to(&target).is_err(), "a backup never overwrites");
    assert_eq!(
        std::fs::read(&target).expect("still there"),
        written,
        "the old backup is untouched"
    );
    store.commit(1, &commit).expect("the store keeps serving writes");
}

/// The location names the backend, for operators.
pub fn location_names_the_backend<S: Store + Maintenance>(new_store: impl Fn() -> S) {
    let location = new_store().location();
    assert!(location.contains(':') && location.len() > 2, "`{location}` names a backend");
}

/// One `#[test]` per case, each on a fresh store.
#[macro_export]
macro_rules! maintenance_conformance_tests {
    // `if READY => NEW_STORE`: each case returns at once when READY is false (a server
    // the machine does not have, and was not required to). First: an expression arm
    // would try to read `if …` as an expression and fail.
    (if $ready:expr => $new_store:expr) => {
        $crate::maintenance_conformance_tests!(@cases $ready, $new_store;
            r66_backups_are_new_files_of_a_live_store,
            location_names_the_backend,
        );
    };
    ($new_store:expr) => {
        $crate::maintenance_conformance_tests!(if true => $new_store);
    };
    (@cases $ready:expr, $new_store:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                if !$ready {
                    return;
                }
                $crate::maintenance::$case($new_store);
            }
        )*
    };
}
