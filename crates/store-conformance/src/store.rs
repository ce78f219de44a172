//! The conformance suite of the [`Store`] port: revisions, preconditioned and batched
//! commits (all or nothing), the change feed, the hash-chained activity log, checkpoints
//! and the epoch.
//!
//! Each case takes a factory that returns a fresh, empty store. A backend's integration
//! tests run them all, one `#[test]` per case, with
//! [`conformance_tests!`](crate::conformance_tests), the one list of the cases. Cases that
//! need backend-specific tampering (editing a row behind the store's back to prove that
//! `verify_activity` notices) live in the backend's own tests.

// This module is test-support code: it is called from backend tests and reports a broken
// expectation by panicking, like `assert!` does.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Barrier;

use deputy_store::activity::GENESIS;
use deputy_store::{
    ActivityEntry, ActivityQuery, Checkpoint, Commit, CommittedChange, NewActivity, Revision,
    Store, StoreError, VerifyReport, chain_hash, verify_activity,
};

/// Generates one `#[test]` per conformance case in the calling module, each on a fresh
/// store from `$new_store` (an expression of a type implementing `Fn() -> S`, evaluated
/// once per test). This is the list of the cases: a case not named here is not run.
#[macro_export]
macro_rules! conformance_tests {
    // `if READY => NEW_STORE`: each case returns at once when READY is false (a server
    // the machine does not have, and was not required to). First: an expression arm
    // would try to read `if …` as an expression and fail.
    (if $ready:expr => $new_store:expr) => {
        $crate::conformance_tests!(@cases $ready, $new_store;
            empty_store_has_head_zero_and_nothing_in_it,
            commit_at_head_appends_the_next_revision,
            stale_commit_conflicts_and_changes_nothing,
            changes_after_pages_oldest_first,
            payloads_round_trip_exactly,
            r22_commit_activity_is_chained_and_carries_the_revision,
            r21_appended_activity_has_no_revision,
            r21_activity_query_filters,
            checkpoints_round_trip_and_the_newest_wins,
            racing_commits_exactly_one_wins,
            readers_see_whole_commits_only,
            r66_epoch_is_stable,
            batch_commit_appends_consecutive_revisions_or_nothing,
            a_batch_failing_in_its_middle_leaves_nothing_behind,
            a_change_set_no_replica_could_replay_is_refused,
        );
    };
    ($new_store:expr) => {
        $crate::conformance_tests!(if true => $new_store);
    };
    (@cases $ready:expr, $new_store:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                if !$ready {
                    return;
                }
                $crate::store::$case($new_store);
            }
        )*
    };
}

/// A commit with a payload and activity derived from `label`.
fn commit_labelled(label: &str, n_activity: usize) -> Commit {
    Commit {
        at_ms: 1_700_000_000_000,
        payload: format!("{{\"change\":\"{label}\"}}"),
        activity: (0..n_activity)
            .map(|i| activity(&format!("test.{label}.{i}"), Some("alice"), Some("bob"), Some("t1")))
            .collect(),
    }
}

fn activity(
    action: &str,
    actor: Option<&str>,
    subject: Option<&str>,
    tenant: Option<&str>,
) -> NewActivity {
    NewActivity {
        at_ms: 1_700_000_000_123,
        action: action.to_owned(),
        actor: actor.map(str::to_owned),
        subject: subject.map(str::to_owned),
        tenant: tenant.map(str::to_owned),
        acting_as: "[]".to_owned(),
        source: Some("192.0.2.7".to_owned()),
        details: "{}".to_owned(),
    }
}

fn all_changes(store: &dyn Store) -> Vec<CommittedChange> {
    store.changes_after(0, usize::MAX).expect("changes_after(0, MAX) failed")
}

fn all_activity(store: &dyn Store) -> Vec<ActivityEntry> {
    store
        .activity(&ActivityQuery { limit: usize::MAX, ..ActivityQuery::default() })
        .expect("activity(everything) failed")
}

fn head(store: &dyn Store) -> Revision {
    store.head().expect("head() failed")
}

fn commit_ok(store: &dyn Store, expected: Revision, commit: &Commit) -> Revision {
    match store.commit(expected, commit) {
        Ok(revision) => revision,
        Err(error) => panic!("commit at expected head {expected} failed: {error}"),
    }
}

fn assert_intact(store: &dyn Store, entries: u64, context: &str) {
    let report = verify_activity(store).expect("verify_activity failed");
    assert_eq!(
        report,
        VerifyReport::Intact { entries },
        "{context}: the activity log should verify intact with {entries} entries"
    );
}

/// A store nobody has written to is at revision 0, with an empty feed, activity log and no
/// checkpoint.
pub fn empty_store_has_head_zero_and_nothing_in_it<S: Store>(new_store: impl Fn() -> S) {
    let store = new_store();
    assert_eq!(head(&store), 0, "an empty store's head must be revision 0");
    assert_eq!(all_changes(&store), vec![], "an empty store's change feed must be empty");
    assert_eq!(all_activity(&store), vec![], "an empty store's activity log must be empty");
    assert_intact(&store, 0, "empty store");
    assert_eq!(
        store.load_checkpoint().expect("load_checkpoint failed"),
        None,
        "an empty store has no checkpoint"
    );
}

/// Committing at the head appends revision head + 1, visible in the feed with its payload
/// and time.
pub fn commit_at_head_appends_the_next_revision<S: Store>(new_store: impl Fn() -> S) {
    let store = new_store();
    let first = Commit { at_ms: 1_000, payload: "\"first\"".to_owned(), activity: vec![] };
    let second = Commit { at_ms: 2_000, payload: "\"second\"".to_owned(), activity: vec![] };
    assert_eq!(commit_ok(&store, 0, &first), 1, "the first commit must be revision 1");
    assert_eq!(head(&store), 1, "head after one commit");
    assert_eq!(commit_ok(&store, 1, &second), 2, "the second commit must be revision 2");
    assert_eq!(head(&store), 2, "head after two commits");
    assert_eq!(
        all_changes(&store),
        vec![
            CommittedChange { revision: 1, at_ms: 1_000, payload: "\"first\"".to_owned() },
            CommittedChange { revision: 2, at_ms: 2_000, payload: "\"second\"".to_owned() },
        ],
        "the feed must hold both commits, oldest first, with their payloads and times"
    );
}

/// A batch commits its change sets as consecutive revisions with chained activity; a stale
/// batch conflicts and changes nothing.
pub fn batch_commit_appends_consecutive_revisions_or_nothing<S: Store>(new_store: impl Fn() -> S) {
    let store = new_store();
    commit_ok(&store, 0, &commit_labelled("a", 1));
    let batch = [commit_labelled("b", 2), commit_labelled("c", 0), commit_labelled("d", 1)];
    assert_eq!(
        store.commit_batch(1, &batch).expect("batch at the head"),
        4,
        "the batch ends at revision 4"
    );
    let revisions: Vec<u64> = all_changes(&store).iter().map(|c| c.revision).collect();
    assert_eq!(revisions, vec![1, 2, 3, 4], "one revision per change set, in order");
    let entries = store
        .activity(&ActivityQuery { limit: 100, ..ActivityQuery::default() })
        .expect("activity");
    let revs: Vec<Option<u64>> = entries.iter().map(|e| e.revision).collect();
    assert_eq!(
        revs,
        vec![Some(1), Some(2), Some(2), Some(4)],
        "activity carries each change set's revision"
    );
    assert!(matches!(
        deputy_store::verify_activity(&store).expect("verify"),
        deputy_store::VerifyReport::Intact { entries: 4 }
    ));
    let before = all_changes(&store);
    match store.commit_batch(2, &[commit_labelled("e", 1), commit_labelled("f", 1)]) {
        Err(StoreError::Conflict { expected: 2, actual: 4 }) => {}
        other => panic!("a stale batch must conflict, got {other:?}"),
    }
    assert_eq!(all_changes(&store), before, "a conflicting batch writes nothing");
}

/// A commit whose payload is not a JSON document (`Commit::check_replayable`).
fn unreplayable(label: &str) -> Commit {
    Commit { payload: format!("not json: {label}"), ..commit_labelled(label, 1) }
}

/// A batch is all or nothing: when a change set in its middle is refused, the ones before
/// it in the same batch are not kept either, no activity of it is appended, the head stays,
/// and the next batch continues from there with an intact chain.
pub fn a_batch_failing_in_its_middle_leaves_nothing_behind<S: Store>(new_store: impl Fn() -> S) {
    let store = new_store();
    commit_ok(&store, 0, &commit_labelled("a", 1));
    let (changes, activity) = (all_changes(&store), all_activity(&store));
    let batch = [
        commit_labelled("b", 2),
        commit_labelled("c", 1),
        unreplayable("d"),
        commit_labelled("e", 1),
    ];
    match store.commit_batch(1, &batch) {
        Err(StoreError::Invalid(_)) => {}
        other => {
            panic!("a batch holding a change set that is not JSON must be refused, got {other:?}")
        }
    }
    assert_eq!(head(&store), 1, "the head stays where the failed batch began");
    assert_eq!(all_changes(&store), changes, "no change set of the failed batch is kept");
    assert_eq!(all_activity(&store), activity, "no activity of the failed batch is kept");
    assert_eq!(
        store
            .commit_batch(1, &[commit_labelled("f", 1), commit_labelled("g", 1)])
            .expect("the next batch"),
        3,
        "the next batch takes the revisions the failed one did not"
    );
    assert_intact(&store, 3, "after a failed batch");
}

/// A single commit of a change set no replica could replay is refused and changes nothing.
pub fn a_change_set_no_replica_could_replay_is_refused<S: Store>(new_store: impl Fn() -> S) {
    let store = new_store();
    match store.commit(0, &unreplayable("x")) {
        Err(StoreError::Invalid(_)) => {}
        other => panic!("a change set that is not JSON must be refused, got {other:?}"),
    }
    assert_eq!(head(&store), 0);
    assert!(all_changes(&store).is_empty() && all_activity(&store).is_empty());
}

/// A commit whose expected revision is not the head fails with `Conflict` and leaves the
/// head, the feed and the activity log as they were; the next good commit continues the
/// activity sequence without a gap.
pub fn stale_commit_conflicts_and_changes_nothing<S: Store>(new_store: impl Fn() -> S) {
    let store = new_store();
    commit_ok(&store, 0, &commit_labelled("a", 1));
    commit_ok(&store, 1, &commit_labelled("b", 1));
    let changes_before = all_changes(&store);
    let activity_before = all_activity(&store);

    for stale in [0, 1, 3, 99] {
        match store.commit(stale, &commit_labelled("stale", 2)) {
            Err(StoreError::Conflict { expected, actual }) => {
                assert_eq!(
                    (expected, actual),
                    (stale, 2),
                    "Conflict must report the caller's expected revision and the real head"
                );
            }
            Ok(revision) => panic!(
                "commit at stale expected revision {stale} (head is 2) succeeded as revision {revision}"
            ),
            Err(other) => panic!(
                "commit at stale expected revision {stale} must fail with Conflict, got: {other}"
            ),
        }
        assert_eq!(head(&store), 2, "a conflicting commit must not move the head");
        assert_eq!(
            all_changes(&store),
            changes_before,
            "a conflicting commit must not change the feed"
        );
        assert_eq!(
            all_activity(&store),
            activity_before,
            "a conflicting commit must not append its activity"
        );
    }

    assert_eq!(commit_ok(&store, 2, &commit_labelled("c", 1)), 3, "commit after conflicts");
    let seqs: Vec<u64> = all_activity(&store).iter().map(|entry| entry.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3], "conflicts must not consume activity sequence numbers");
    assert_intact(&store, 3, "after conflicts");
}

/// `changes_after(after, limit)` returns up to `limit` changes after `after`, oldest first.
pub fn changes_after_pages_oldest_first<S: Store>(new_store: impl Fn() -> S) {
    let store = new_store();
    for revision in 1..=10 {
        commit_ok(&store, revision - 1, &commit_labelled(&format!("c{revision}"), 0));
    }
    let revisions = |after: Revision, limit: usize| -> Vec<Revision> {
        let page = store
            .changes_after(after, limit)
            .unwrap_or_else(|error| panic!("changes_after({after}, {limit}) failed: {error}"));
        for change in &page {
            assert_eq!(
                change.payload,
                format!("{{\"change\":\"c{}\"}}", change.revision),
                "changes_after({after}, {limit}) returned revision {} with another revision's payload",
                change.revision
            );
        }
        page.iter().map(|change| change.revision).collect()
    };
    assert_eq!(revisions(0, 3), vec![1, 2, 3], "changes_after(0, 3)");
    assert_eq!(revisions(3, 3), vec![4, 5, 6], "changes_after(3, 3)");
    assert_eq!(revisions(6, 3), vec![7, 8, 9], "changes_after(6, 3)");
    assert_eq!(revisions(9, 3), vec![10], "changes_after(9, 3) must return the last one only");
    assert_eq!(revisions(10, 3), Vec::<Revision>::new(), "changes_after(head, _) must be empty");
    assert_eq!(
        revisions(11, 3),
        Vec::<Revision>::new(),
        "changes_after(beyond head) must be empty"
    );
    assert_eq!(
        revisions(u64::MAX, 3),
        Vec::<Revision>::new(),
        "changes_after(u64::MAX) must be empty"
    );
    assert_eq!(revisions(0, 0), Vec::<Revision>::new(), "changes_after(_, 0) must be empty");
    assert_eq!(revisions(4, usize::MAX), vec![5, 6, 7, 8, 9, 10], "changes_after(4, MAX)");
}

/// Payloads and activity fields come back byte for byte: quotes, newlines, non-ASCII text
/// and large payloads. (Not NUL characters: the service stores JSON, which escapes them, and
/// PostgreSQL's `text` cannot hold them.)
pub fn payloads_round_trip_exactly<S: Store>(new_store: impl Fn() -> S) {
    let store = new_store();
    let tricky = [
        String::new(),
        "'; DROP TABLE changes; --\"quoted\"\n\ttabbed\r\n".to_owned(),
        "Zürich · 東京 · 🦀 · \u{202e}rtl".to_owned(),
        "x".repeat(1 << 20),
    ];
    for (index, text) in tricky.iter().enumerate() {
        // A change set is a JSON document: the tricky text as a JSON string.
        let payload = &serde_json::to_string(text).expect("a string is JSON");
        let mut entry = activity(text, Some(text), None, Some(text));
        entry.details = format!("{{\"payload\":{index}}}");
        entry.at_ms = -1 - index as i64;
        let commit = Commit {
            at_ms: i64::MAX - index as i64,
            payload: payload.clone(),
            activity: vec![entry],
        };
        let revision = commit_ok(&store, index as u64, &commit);
        let change = store.changes_after(revision - 1, 1).expect("changes_after failed");
        assert_eq!(
            change,
            vec![CommittedChange { revision, at_ms: commit.at_ms, payload: payload.clone() }],
            "payload #{index} must round-trip exactly"
        );
        let stored = store
            .activity(&ActivityQuery {
                after_seq: revision - 1,
                limit: 1,
                ..ActivityQuery::default()
            })
            .expect("activity failed");
        assert_eq!(
            stored.first().map(|entry| &entry.entry),
            Some(&commit.activity[0]),
            "activity entry #{index} must round-trip exactly"
        );
    }
    assert_intact(&store, tricky.len() as u64, "tricky payloads");
}

/// Activity committed with a change gets that change's revision and consecutive sequence
/// numbers from 1, each hashed over the previous one (R22).
pub fn r22_commit_activity_is_chained_and_carries_the_revision<S: Store>(
    new_store: impl Fn() -> S,
) {
    let store = new_store();
    let first = Commit {
        at_ms: 10,
        payload: "\"one\"".to_owned(),
        activity: vec![
            activity("user.created", Some("alice"), Some("bob"), Some("t1")),
            NewActivity {
                at_ms: 11,
                action: "role.granted".to_owned(),
                actor: None,
                subject: None,
                tenant: None,
                acting_as: "[{\"tenant\":\"t2\"}]".to_owned(),
                source: None,
                details: "{\"role\":\"admin\"}".to_owned(),
            },
        ],
    };
    let second = Commit {
        at_ms: 20,
        payload: "\"two\"".to_owned(),
        activity: vec![activity("user.suspended", Some("carol"), Some("bob"), Some("t1"))],
    };
    let third = Commit { at_ms: 30, payload: "\"three\"".to_owned(), activity: vec![] };
    commit_ok(&store, 0, &first);
    commit_ok(&store, 1, &second);
    commit_ok(&store, 2, &third);

    let entries = all_activity(&store);
    let expected_rows: Vec<(u64, Option<u64>, &NewActivity)> = vec![
        (1, Some(1), &first.activity[0]),
        (2, Some(1), &first.activity[1]),
        (3, Some(2), &second.activity[0]),
    ];
    assert_eq!(entries.len(), expected_rows.len(), "three activity entries were committed");
    let mut prev_hash = GENESIS.to_owned();
    for (entry, (seq, revision, content)) in entries.iter().zip(expected_rows) {
        assert_eq!(entry.seq, seq, "activity sequence numbers start at 1 without gaps");
        assert_eq!(entry.revision, revision, "entry {seq} must carry its change's revision");
        assert_eq!(&entry.entry, content, "entry {seq} must round-trip its content");
        assert_eq!(entry.prev_hash, prev_hash, "entry {seq}'s prev_hash");
        let hash = chain_hash(&prev_hash, seq, revision, content);
        assert_eq!(entry.hash, hash, "entry {seq}'s hash must be chain_hash(prev_hash, ...)");
        prev_hash = hash;
    }
    assert_intact(&store, 3, "after three commits");
}

/// Activity appended without a change (a failed sign-in) has no revision, and shares the
/// chain with committed activity.
pub fn r21_appended_activity_has_no_revision<S: Store>(new_store: impl Fn() -> S) {
    let store = new_store();
    store.append_activity(&[]).expect("append_activity(&[]) failed");
    assert_eq!(all_activity(&store), vec![], "appending nothing appends nothing");
    store
        .append_activity(&[
            activity("signin.failed", None, Some("bob"), Some("t1")),
            activity("signin.failed", None, Some("bob"), Some("t1")),
        ])
        .expect("append_activity failed");
    assert_eq!(head(&store), 0, "append_activity must not create a revision");
    commit_ok(&store, 0, &commit_labelled("a", 1));
    store
        .append_activity(&[activity("signin.succeeded", Some("bob"), Some("bob"), Some("t1"))])
        .expect("append_activity failed");
    let rows: Vec<(u64, Option<u64>)> =
        all_activity(&store).iter().map(|entry| (entry.seq, entry.revision)).collect();
    assert_eq!(
        rows,
        vec![(1, None), (2, None), (3, Some(1)), (4, None)],
        "appended entries have no revision; committed ones have theirs; seq is shared"
    );
    assert_eq!(head(&store), 1, "append_activity must not create a revision");
    assert_intact(&store, 4, "mixed appended and committed activity");
}

/// The activity query's filters: principal (actor or subject), tenant, action prefix
/// (case-sensitive, no wildcards), `after_seq` and `limit`, combined with AND.
pub fn r21_activity_query_filters<S: Store>(new_store: impl Fn() -> S) {
    let store = new_store();
    let rows = [
        activity("user.created", Some("alice"), Some("bob"), Some("t1")), // 1
        activity("user.suspended", Some("bob"), Some("carol"), Some("t1")), // 2
        activity("signin.failed", None, Some("alice"), Some("t2")),       // 3
        activity("role.granted", Some("carol"), Some("dave"), Some("t2")), // 4
        activity("userXcreated", Some("erin"), None, None),               // 5
        activity("User.created", Some("frank"), Some("frank"), Some("t1")), // 6
        activity("user_created", Some("grace"), None, Some("t3")),        // 7
        activity("user.deleted", Some("system"), Some("alice"), Some("t1")), // 8
    ];
    commit_ok(
        &store,
        0,
        &Commit { at_ms: 1, payload: "\"p\"".to_owned(), activity: rows[..4].to_vec() },
    );
    store.append_activity(&rows[4..]).expect("append_activity failed");

    let seqs = |query: ActivityQuery| -> Vec<u64> {
        store
            .activity(&query)
            .unwrap_or_else(|error| panic!("activity({query:?}) failed: {error}"))
            .iter()
            .map(|entry| entry.seq)
            .collect()
    };
    let query = ActivityQuery { limit: 100, ..ActivityQuery::default() };
    let principal =
        |name: &str| ActivityQuery { principal: Some(name.to_owned()), ..query.clone() };
    let tenant = |name: &str| ActivityQuery { tenant: Some(name.to_owned()), ..query.clone() };
    let prefix =
        |text: &str| ActivityQuery { action_prefix: Some(text.to_owned()), ..query.clone() };

    assert_eq!(seqs(query.clone()), vec![1, 2, 3, 4, 5, 6, 7, 8], "no filter");
    assert_eq!(seqs(principal("alice")), vec![1, 3, 8], "principal matches actor or subject");
    assert_eq!(seqs(principal("bob")), vec![1, 2], "principal matches actor or subject");
    assert_eq!(seqs(principal("frank")), vec![6], "actor and subject both match: listed once");
    assert_eq!(seqs(principal("nobody")), Vec::<u64>::new(), "unknown principal");
    assert_eq!(seqs(principal("ali")), Vec::<u64>::new(), "principal is an exact match");
    assert_eq!(seqs(tenant("t1")), vec![1, 2, 6, 8], "tenant filter");
    assert_eq!(seqs(tenant("t2")), vec![3, 4], "tenant filter");
    assert_eq!(seqs(tenant("t")), Vec::<u64>::new(), "tenant is an exact match");
    assert_eq!(seqs(prefix("user.")), vec![1, 2, 8], "action prefix");
    assert_eq!(seqs(prefix("user")), vec![1, 2, 5, 7, 8], "action prefix");
    assert_eq!(seqs(prefix("User.")), vec![6], "action prefix is case-sensitive");
    assert_eq!(seqs(prefix("user_")), vec![7], "`_` in a prefix is not a wildcard");
    assert_eq!(seqs(prefix("%")), Vec::<u64>::new(), "`%` in a prefix is not a wildcard");
    assert_eq!(seqs(prefix("")), vec![1, 2, 3, 4, 5, 6, 7, 8], "the empty prefix matches all");
    assert_eq!(seqs(prefix("user.created.more")), Vec::<u64>::new(), "prefix longer than action");
    assert_eq!(
        seqs(ActivityQuery { after_seq: 5, ..query.clone() }),
        vec![6, 7, 8],
        "after_seq skips entries up to and including it"
    );
    assert_eq!(
        seqs(ActivityQuery { after_seq: 8, ..query.clone() }),
        Vec::<u64>::new(),
        "after_seq at the end"
    );
    assert_eq!(seqs(ActivityQuery { limit: 3, ..query.clone() }), vec![1, 2, 3], "limit");
    assert_eq!(seqs(ActivityQuery { limit: 0, ..query.clone() }), Vec::<u64>::new(), "limit 0");
    assert_eq!(
        seqs(ActivityQuery {
            principal: Some("alice".to_owned()),
            tenant: Some("t1".to_owned()),
            ..query.clone()
        }),
        vec![1, 8],
        "principal and tenant combine with AND"
    );
    assert_eq!(
        seqs(ActivityQuery {
            principal: Some("alice".to_owned()),
            action_prefix: Some("user.".to_owned()),
            after_seq: 1,
            limit: 1,
            ..query.clone()
        }),
        vec![8],
        "all filters combine with AND; limit applies after filtering"
    );
    assert_eq!(
        seqs(ActivityQuery { tenant: Some("t1".to_owned()), limit: 2, after_seq: 1, ..query }),
        vec![2, 6],
        "limit counts matching entries only"
    );
}

/// No checkpoint at first; a saved one loads back exactly; a newer one (or one at the same
/// revision) replaces it, an older one does not.
pub fn checkpoints_round_trip_and_the_newest_wins<S: Store>(new_store: impl Fn() -> S) {
    let store = new_store();
    assert_eq!(
        store.load_checkpoint().expect("load_checkpoint failed"),
        None,
        "no checkpoint at first"
    );
    commit_ok(&store, 0, &commit_labelled("a", 0));
    commit_ok(&store, 1, &commit_labelled("b", 0));
    let older = Checkpoint { revision: 1, blob: vec![0, 1, 2, 255, 0] };
    store.save_checkpoint(&older).expect("save_checkpoint failed");
    assert_eq!(
        store.load_checkpoint().expect("load_checkpoint failed"),
        Some(older),
        "a saved checkpoint must load back exactly"
    );
    let newer = Checkpoint { revision: 2, blob: (0..=255).cycle().take(100_000).collect() };
    store.save_checkpoint(&newer).expect("save_checkpoint failed");
    assert_eq!(
        store.load_checkpoint().expect("load_checkpoint failed"),
        Some(newer.clone()),
        "a newer checkpoint must replace the older one"
    );
    let mut streamed = Vec::new();
    let revision = store
        .load_checkpoint_parts(&mut |part| {
            streamed.extend_from_slice(&part);
            Ok(())
        })
        .expect("load_checkpoint_parts failed");
    assert_eq!(revision, Some(2), "the streamed checkpoint's revision");
    assert!(streamed == newer.blob, "the streamed parts, concatenated, are the blob");
    store
        .save_checkpoint(&Checkpoint { revision: 1, blob: vec![9] })
        .expect("save_checkpoint failed");
    assert_eq!(
        store.load_checkpoint().expect("load_checkpoint failed"),
        Some(newer),
        "a checkpoint older than the stored one must not replace it"
    );
    let same_revision = Checkpoint { revision: 2, blob: vec![4, 2] };
    store.save_checkpoint(&same_revision).expect("save_checkpoint failed");
    assert_eq!(
        store.load_checkpoint().expect("load_checkpoint failed"),
        Some(same_revision),
        "a checkpoint at the stored revision replaces it (a new serialization format, say)"
    );
    assert_eq!(head(&store), 2, "checkpoints do not create revisions");
}

/// Two threads committing at the same expected revision: exactly one wins, the other gets
/// `Conflict` (the revision precondition holds under races).
pub fn racing_commits_exactly_one_wins<S: Store>(new_store: impl Fn() -> S) {
    const ROUNDS: u64 = 50;
    let store = new_store();
    for round in 0..ROUNDS {
        let barrier = Barrier::new(2);
        let results: Vec<(usize, Result<Revision, StoreError>)> = std::thread::scope(|scope| {
            let racers: Vec<_> = (0..2)
                .map(|racer| {
                    let (store, barrier) = (&store, &barrier);
                    scope.spawn(move || {
                        let commit = commit_labelled(&format!("round{round}-racer{racer}"), 1);
                        barrier.wait();
                        (racer, store.commit(round, &commit))
                    })
                })
                .collect();
            racers.into_iter().map(|racer| racer.join().expect("racer panicked")).collect()
        });
        let winners: Vec<usize> = results
            .iter()
            .filter(|(_, result)| matches!(result, Ok(revision) if *revision == round + 1))
            .map(|(racer, _)| *racer)
            .collect();
        let losers = results
            .iter()
            .filter(|(_, result)| {
                matches!(result, Err(StoreError::Conflict { expected, actual })
                    if *expected == round && *actual == round + 1)
            })
            .count();
        assert!(
            winners.len() == 1 && losers == 1,
            "round {round}: exactly one racer must commit revision {} and the other get \
             Conflict {{ expected: {round}, actual: {} }}; got {results:?}",
            round + 1,
            round + 1,
        );
        let winner = winners[0];
        let last = store.changes_after(round, 10).expect("changes_after failed");
        assert_eq!(
            last.iter().map(|change| change.payload.as_str()).collect::<Vec<_>>(),
            vec![format!("{{\"change\":\"round{round}-racer{winner}\"}}")],
            "round {round}: the feed must hold the winner's change only"
        );
    }
    assert_eq!(head(&store), ROUNDS, "one revision per round");
    assert_intact(&store, ROUNDS, "after racing commits");
}

/// A reader running while commits happen sees each change set with all of its activity, or
/// not at all, and never a gap in the feed.
pub fn readers_see_whole_commits_only<S: Store>(new_store: impl Fn() -> S) {
    const COMMITS: u64 = 40;
    const PER_COMMIT: usize = 3;
    let store = new_store();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut observations = 0_u32;
            loop {
                let finished = done.load(std::sync::atomic::Ordering::Acquire);
                let seen_head = head(&store);
                let changes = all_changes(&store);
                let revisions: Vec<Revision> =
                    changes.iter().map(|change| change.revision).collect();
                let expected: Vec<Revision> = (1..=revisions.len() as u64).collect();
                assert_eq!(revisions, expected, "the feed must never have a gap");
                assert!(
                    revisions.len() as u64 >= seen_head,
                    "the feed read after head() = {seen_head} must hold at least that many changes"
                );
                let entries = all_activity(&store);
                let mut per_revision = std::collections::BTreeMap::<Revision, usize>::new();
                for entry in &entries {
                    *per_revision.entry(entry.revision.unwrap_or(0)).or_default() += 1;
                }
                for (revision, count) in &per_revision {
                    assert_eq!(
                        *count, PER_COMMIT,
                        "revision {revision}'s activity must be visible all at once"
                    );
                }
                assert_eq!(
                    deputy_store::verify_chain(&entries),
                    VerifyReport::Intact { entries: entries.len() as u64 },
                    "the activity log read while commits are running must verify intact"
                );
                observations += 1;
                if finished {
                    return observations;
                }
            }
        });
        for revision in 1..=COMMITS {
            commit_ok(&store, revision - 1, &commit_labelled(&format!("w{revision}"), PER_COMMIT));
        }
        done.store(true, std::sync::atomic::Ordering::Release);
        let observations = reader.join().expect("reader panicked");
        assert!(observations > 0, "the reader must have observed the store");
    });
    assert_intact(&store, COMMITS * PER_COMMIT as u64, "after concurrent reads");
}

/// The epoch does not change between calls or across commits (R66: only a restore starts a
/// new one).
pub fn r66_epoch_is_stable<S: Store>(new_store: impl Fn() -> S) {
    let store = new_store();
    let epoch = store.epoch().expect("epoch failed");
    assert_eq!(store.epoch().expect("epoch failed"), epoch, "epoch must be stable across calls");
    commit_ok(&store, 0, &commit_labelled("a", 1));
    store
        .save_checkpoint(&Checkpoint { revision: 1, blob: vec![1] })
        .expect("save_checkpoint failed");
    assert_eq!(store.epoch().expect("epoch failed"), epoch, "a commit must not change the epoch");
}
