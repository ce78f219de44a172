//! The conformance suite of the [`SecretStore`] port: every backend runs it
//! (`secret_conformance_tests!`, the one list of its cases), as [`crate::store`] for the
//! change log.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use deputy_store::secrets::{
    AttemptCount, Idempotent, NewMail, PasswordRow, SecretKind, SecretRow, SecretStore,
    SigningKeyRow, StoredAnswer,
};

fn token(hash: &str, kind: SecretKind, principal: u32, expires_ms: Option<i64>) -> SecretRow {
    SecretRow {
        hash: hash.to_owned(),
        kind,
        principal,
        created_ms: 1_000,
        expires_ms,
        last_used_ms: None,
        used_ms: None,
        data: "{}".to_owned(),
    }
}

/// A password is replaced, never duplicated, and unknown principals have none.
pub fn passwords_round_trip_and_replace<S: SecretStore>(new_store: impl Fn() -> S) {
    let store = new_store();
    assert_eq!(store.password(7).unwrap(), None);
    let first =
        PasswordRow { principal: 7, phc: "$argon2id$a".into(), must_change: true, changed_ms: 1 };
    store.put_password(&first).unwrap();
    assert_eq!(store.password(7).unwrap(), Some(first));
    let second =
        PasswordRow { principal: 7, phc: "$argon2id$b".into(), must_change: false, changed_ms: 2 };
    store.put_password(&second).unwrap();
    assert_eq!(store.password(7).unwrap(), Some(second));
    assert_eq!(store.password(8).unwrap(), None);
}

/// R12: a single-use token is redeemed once, not after expiry, and only as its own kind.
pub fn r12_tokens_are_single_use_and_expire<S: SecretStore>(new_store: impl Fn() -> S) {
    let store = new_store();
    store.insert_secret(&token("h1", SecretKind::Invitation, 3, Some(10_000))).unwrap();
    assert!(
        store.redeem_secret("h1", SecretKind::PasswordReset, 2_000).unwrap().is_none(),
        "an invitation is not a reset token"
    );
    assert!(
        store.redeem_secret("h1", SecretKind::Invitation, 10_000).unwrap().is_none(),
        "expired"
    );
    let won = store.redeem_secret("h1", SecretKind::Invitation, 2_000).unwrap().unwrap();
    assert_eq!((won.principal, won.used_ms), (3, Some(2_000)));
    assert!(store.redeem_secret("h1", SecretKind::Invitation, 2_001).unwrap().is_none(), "used");
    assert!(store.redeem_secret("nope", SecretKind::Invitation, 2_000).unwrap().is_none());
}

/// R12 under a race: of many concurrent redemptions exactly one wins.
pub fn r12_concurrent_redemptions_have_one_winner<S: SecretStore>(new_store: impl Fn() -> S) {
    let store = new_store();
    store.insert_secret(&token("race", SecretKind::Invitation, 1, None)).unwrap();
    let winners = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                scope.spawn(|| store.redeem_secret("race", SecretKind::Invitation, 5).unwrap())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).filter(Option::is_some).count()
    });
    assert_eq!(winners, 1);
}

/// Sessions are touched, listed per principal, and deleted one by one or all at once (R20).
pub fn r20_secrets_touch_list_and_delete<S: SecretStore>(new_store: impl Fn() -> S) {
    let store = new_store();
    store.insert_secret(&token("s1", SecretKind::Session, 4, Some(99_000))).unwrap();
    store.insert_secret(&token("s2", SecretKind::Session, 4, Some(99_000))).unwrap();
    store.insert_secret(&token("k1", SecretKind::ApiKey, 4, None)).unwrap();
    store.insert_secret(&token("s3", SecretKind::Session, 5, Some(99_000))).unwrap();
    store.touch_secret("s1", 5_000, Some("{\"switched\":2}")).unwrap();
    let s1 = store.secret("s1").unwrap().unwrap();
    assert_eq!((s1.last_used_ms, s1.data.as_str()), (Some(5_000), "{\"switched\":2}"));
    store.touch_secret("s1", 6_000, None).unwrap();
    assert_eq!(store.secret("s1").unwrap().unwrap().data, "{\"switched\":2}", "data kept");
    assert_eq!(store.secrets_of(4, SecretKind::Session).unwrap().len(), 2);
    assert!(store.delete_secret("s2").unwrap());
    assert!(!store.delete_secret("s2").unwrap());
    assert_eq!(store.delete_secrets_of(4, &[SecretKind::Session, SecretKind::ApiKey]).unwrap(), 2);
    assert!(store.secret("k1").unwrap().is_none());
    assert!(store.secret("s3").unwrap().is_some(), "another principal's session stays");
}

/// R61: mail is queued durably in order and marked sent or failed.
pub fn r61_outbox_keeps_mail_in_order<S: SecretStore>(new_store: impl Fn() -> S) {
    let store = new_store();
    let mail = |to: &str| NewMail { recipient: to.into(), subject: "s".into(), body: "b".into() };
    let a = store.queue_mail(&mail("a@example.com"), 1).unwrap();
    let b = store.queue_mail(&mail("b@example.com"), 2).unwrap();
    assert!(b > a);
    store.mark_mail(a, None, Some("connection refused")).unwrap();
    store.mark_mail(b, Some(3), None).unwrap();
    let all = store.outbox(0, 10).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!((all[0].attempts, all[0].last_error.as_deref()), (1, Some("connection refused")));
    assert_eq!(all[1].sent_ms, Some(3));
    assert_eq!(store.outbox(a, 10).unwrap().len(), 1, "paged after an id");
    store.redact_mail(b, "b without its link").unwrap();
    let all = store.outbox(0, 10).unwrap();
    assert_eq!((all[0].body.as_str(), all[1].body.as_str()), ("b", "b without its link"));
}

/// R71: signing keys are kept in order, retired together, and deleted once long retired.
pub fn r71_signing_keys_rotate<S: SecretStore>(new_store: impl Fn() -> S) {
    let store = new_store();
    let key = |kid: &str, at: i64| SigningKeyRow {
        kid: kid.into(),
        created_ms: at,
        activates_ms: at + 10,
        retired_ms: None,
        private_der: vec![1, 2, 3],
    };
    store.insert_signing_key(&key("k1", 100)).unwrap();
    store.insert_signing_key(&key("k2", 200)).unwrap();
    let keys = store.signing_keys().unwrap();
    assert_eq!(keys.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(), ["k1", "k2"]);
    assert_eq!(keys[0], key("k1", 100), "a key round-trips");
    store.retire_signing_key("k1", 300).unwrap();
    store.retire_signing_key("k1", 400).unwrap();
    let keys = store.signing_keys().unwrap();
    assert_eq!((keys[0].retired_ms, keys[1].retired_ms), (Some(300), None));
    store.delete_signing_keys_retired_before(301).unwrap();
    assert_eq!(store.signing_keys().unwrap().len(), 1);
}

/// R57: an idempotency key is claimed once, replays its answer, refuses another request,
/// and is free again when abandoned or expired.
pub fn r57_idempotency_keys_replay_answers<S: SecretStore>(new_store: impl Fn() -> S) {
    let store = new_store();
    let begin = |key: &str, fp: &str, now: i64| {
        store.begin_idempotent("scope", key, fp, now, now + 1_000).unwrap()
    };
    assert_eq!(begin("k", "POST /a 1", 0), Idempotent::Proceed);
    assert_eq!(begin("k", "POST /a 1", 1), Idempotent::InProgress);
    let answer = StoredAnswer { status: 201, headers: "[]".into(), body: b"{}".to_vec() };
    store.finish_idempotent("scope", "k", &answer).unwrap();
    assert_eq!(begin("k", "POST /a 1", 2), Idempotent::Done(answer));
    assert_eq!(begin("k", "POST /b 2", 3), Idempotent::Mismatch);
    assert_eq!(
        store.begin_idempotent("other", "k", "POST /b 2", 3, 1_003).unwrap(),
        Idempotent::Proceed,
        "scoped per caller"
    );
    assert_eq!(begin("k2", "x", 0), Idempotent::Proceed);
    store.abandon_idempotent("scope", "k2").unwrap();
    assert_eq!(begin("k2", "x", 1), Idempotent::Proceed, "an abandoned claim is free");
    assert_eq!(
        begin("k", "POST /b 2", 5_000),
        Idempotent::Proceed,
        "an expired answer is forgotten"
    );
}

/// R16: sign-in attempts are counted per key, start over once a lock ran out, are
/// forgiven one at a time and clear.
pub fn r16_sign_in_attempts_count_and_clear<S: SecretStore>(new_store: impl Fn() -> S) {
    let store = new_store();
    let count = |key: &str, now: i64| store.count_sign_in_attempt(key, now, 3, 1_000).unwrap();
    assert_eq!(store.sign_in_failures("logon:jane").unwrap(), None);
    assert_eq!(count("logon:jane", 100), AttemptCount { count: 1, previous_ms: None });
    assert_eq!(count("logon:jane", 200), AttemptCount { count: 2, previous_ms: Some(100) });
    assert_eq!(count("logon:jane", 300), AttemptCount { count: 3, previous_ms: Some(200) });
    assert_eq!(store.sign_in_failures("logon:jane").unwrap(), Some((3, 300)));
    assert_eq!(
        count("logon:jane", 400),
        AttemptCount { count: 4, previous_ms: Some(300) },
        "locked: still counting"
    );
    assert_eq!(
        count("logon:jane", 1_400),
        AttemptCount { count: 1, previous_ms: None },
        "the lock ran out"
    );
    assert_eq!(count("source:10.0.0.1", 1).count, 1, "keys are separate");
    assert_eq!(count("source:10.0.0.1", 2).count, 2);
    store.forgive_sign_in_attempt("source:10.0.0.1").unwrap();
    assert_eq!(store.sign_in_failures("source:10.0.0.1").unwrap(), Some((1, 2)));
    store.forgive_sign_in_attempt("source:10.0.0.1").unwrap();
    store.forgive_sign_in_attempt("source:10.0.0.1").unwrap();
    assert_eq!(store.sign_in_failures("source:10.0.0.1").unwrap().map(|c| c.0), Some(0));
    store.forgive_sign_in_attempt("source:unknown").unwrap();
    assert_eq!(store.sign_in_failures("source:unknown").unwrap(), None);
    store.clear_sign_in_failures("logon:jane").unwrap();
    assert_eq!(store.sign_in_failures("logon:jane").unwrap(), None);
}

/// R16: of many threads counting attempts at once, each gets its own count.
pub fn r16_parallel_attempts_get_distinct_counts<S: SecretStore + 'static>(
    new_store: impl Fn() -> S,
) {
    let store = std::sync::Arc::new(new_store());
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                (0..10)
                    .map(|_| store.count_sign_in_attempt("logon:x", 5, 1_000, 1_000).unwrap().count)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut counts: Vec<u32> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    counts.sort_unstable();
    assert_eq!(counts, (1..=80).collect::<Vec<u32>>());
}

/// R13: events are counted in fixed windows per key.
pub fn r13_counts_in_windows<S: SecretStore>(new_store: impl Fn() -> S) {
    let store = new_store();
    let count = |key: &str, now: i64| store.count_in_window(key, now, 1_000).unwrap();
    assert_eq!(count("mail-to:jane@example.com", 10), 1);
    assert_eq!(count("mail-to:jane@example.com", 500), 2);
    assert_eq!(count("mail-to:jane@example.com", 1_009), 3);
    assert_eq!(count("mail-to:bob@example.com", 1_009), 1, "keys are separate");
    assert_eq!(count("mail-to:jane@example.com", 1_010), 1, "a new window");
    assert_eq!(count("mail-to:jane@example.com", 1_500), 2);
}

/// One `#[test]` per case, each on a fresh store.
#[macro_export]
macro_rules! secret_conformance_tests {
    // `if READY => NEW_STORE`: each case returns at once when READY is false (a server
    // the machine does not have, and was not required to). First: an expression arm
    // would try to read `if …` as an expression and fail.
    (if $ready:expr => $new_store:expr) => {
        $crate::secret_conformance_tests!(@cases $ready, $new_store;
            passwords_round_trip_and_replace,
            r12_tokens_are_single_use_and_expire,
            r12_concurrent_redemptions_have_one_winner,
            r20_secrets_touch_list_and_delete,
            r61_outbox_keeps_mail_in_order,
            r71_signing_keys_rotate,
            r57_idempotency_keys_replay_answers,
            r16_sign_in_attempts_count_and_clear,
            r16_parallel_attempts_get_distinct_counts,
            r13_counts_in_windows,
        );
    };
    ($new_store:expr) => {
        $crate::secret_conformance_tests!(if true => $new_store);
    };
    (@cases $ready:expr, $new_store:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                if !$ready {
                    return;
                }
                $crate::secrets::$case($new_store);
            }
        )*
    };
}
