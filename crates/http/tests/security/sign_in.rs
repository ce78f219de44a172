//! Sign-in under attack: bursts (R15), parallel and interleaved guesses (R16), and what
//! its timing tells (R15).

use crate::support::*;
use deputy_service::hashing::HashLimits;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r15_a_burst_of_sign_ins_is_bounded_and_told_to_retry() {
    let s = start_with(|auth, _| {
        auth.hash_limits = HashLimits { permits: 1, queue: 2, max_wait: Duration::from_secs(5) };
    })
    .await;
    let answers = futures_join_all((0..60).map(|n| {
        let s = &s;
        async move {
            let r = s
                .http
                .post(s.url("/v1/auth/sign-in"))
                .json(&json!({"logon": format!("nobody-{n}"), "password": "wrong password here"}))
                .send()
                .await
                .unwrap();
            let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
            let kind = r.headers()["content-type"].to_str().unwrap().to_owned();
            (r.status(), retry, kind, r.json::<Value>().await.unwrap())
        }
    }))
    .await;
    let busy: Vec<_> =
        answers.iter().filter(|(status, ..)| *status == StatusCode::SERVICE_UNAVAILABLE).collect();
    assert!(!busy.is_empty(), "one hash at a time and two waiting: most of 60 must be refused");
    for (_, retry, kind, body) in &busy {
        assert_eq!(retry.as_deref(), Some("1"));
        assert_eq!(kind, "application/problem+json");
        assert_eq!(body["type"], "urn:deputy:problem:busy");
    }
    assert!(answers.iter().all(|(status, ..)| matches!(
        *status,
        StatusCode::UNAUTHORIZED | StatusCode::SERVICE_UNAVAILABLE
    )));
    // A refused attempt was never counted: the burst cost the address only what it verified.
    let verified =
        answers.iter().filter(|(status, ..)| *status == StatusCode::UNAUTHORIZED).count();
    let counted = s
        .blocking(|app| {
            use deputy_store::secrets::SecretStore;
            app.deputy().store().sign_in_failures("source:127.0.0.1").unwrap().map(|c| c.0)
        })
        .await;
    assert_eq!(counted, Some(verified as u32));
    // After the burst, people sign in as always.
    s.sign_in(s.demo.jane).await;
}

/// `join_all` without another dependency: every future polled to completion concurrently,
/// on this task (the futures borrow the server, so they cannot be spawned).
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.map(Box::pin).collect();
    let mut done: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in pinned.iter_mut().zip(done.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    done.into_iter().flatten().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r16_parallel_guesses_cannot_pass_the_limit() {
    // Hashing is not the bottleneck here: every guess of a burst reaches the counters.
    let s = start_with(|auth, _| {
        auth.hash_limits =
            HashLimits { permits: 4, queue: 1_000, max_wait: Duration::from_secs(60) };
    })
    .await;
    let backoff_after = s.app.auth().settings().backoff_after as usize;
    // Ten bursts, each on an account of its own: 39 wrong guesses and the right one, all
    // at once. Counted before verifying, only the first five counted may succeed; counted
    // after (the defect), the right one got in nearly every time.
    let mut accepted = 0;
    for round in 0..10 {
        let logon = format!("victim{round}");
        let id = s
            .blocking({
                let logon = logon.clone();
                move |app| {
                    let root = app.deputy().snapshot().root().unwrap();
                    let p = app
                        .deputy()
                        .execute(deputy_core::Actor::System, None, |tx| {
                            tx.create_user(deputy_core::commands::users::NewUser {
                                home: root,
                                logon: logon.clone(),
                                first_name: "V".into(),
                                last_name: "Ictim".into(),
                                email: format!("{logon}@example.com"),
                                phone: None,
                                roles: vec![],
                                status: deputy_core::Status::Active,
                            })
                        })
                        .unwrap()
                        .output;
                    app.auth().set_password(p, PASSWORD, false).unwrap();
                    p
                }
            })
            .await;
        let right = (round * 7) % 40;
        let answers = futures_join_all((0..40).map(|n| {
            let (s, logon) = (&s, logon.clone());
            let password =
                if n == right { PASSWORD.to_owned() } else { format!("wrong guess {n:04}") };
            async move { s.try_sign_in(&logon, &password).await.0 }
        }))
        .await;
        let ok = answers.iter().filter(|status| **status == StatusCode::OK).count();
        assert!(ok <= 1);
        accepted += ok;
        let counted = s
            .blocking(move |app| {
                use deputy_store::secrets::SecretStore;
                let key = deputy_service::auth::Auth::<deputy_store::BoxedBackend>::failure_key(
                    &app.deputy().snapshot().principal(id).unwrap().logon,
                );
                app.deputy().store().sign_in_failures(&key).unwrap().map_or(0, |c| c.0)
            })
            .await;
        // Every guess was counted, unless the right one got in and cleared the count.
        assert!(ok == 1 || counted as usize == 40, "round {round}: {counted} counted");
    }
    // Each burst lets at most `backoff_after` of 40 guesses be verified, so the right one
    // gets in with probability at most 5/40; more than 5 of 10 bursts would be a
    // one-in-ten-thousand event (binomial, p = 0.125).
    assert!(backoff_after == 5);
    assert!(accepted <= 5, "the right password got in {accepted} times of 10");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r16_a_success_clears_only_its_own_account_never_the_address() {
    let s = start().await;
    let guess = |n: usize| {
        let s = &s;
        async move { s.try_sign_in(&format!("someone-{n}"), "wrong password here").await.0 }
    };
    // The attack: 49 guesses on other people's logons, then one sign-in to one's own
    // account, to wipe the address's count; again and again.
    for n in 0..49 {
        assert_eq!(guess(n).await, StatusCode::UNAUTHORIZED);
    }
    let (status, _) = s.try_sign_in("jane", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "under the address's back-off: allowed");
    for n in 49..98 {
        guess(n).await;
    }
    // 98 failures from this address: it is throttled, and the own sign-in wiped nothing.
    let (status, _) = s.try_sign_in("jane", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let counted = s
        .blocking(|app| {
            use deputy_store::secrets::SecretStore;
            app.deputy().store().sign_in_failures("source:127.0.0.1").unwrap().map(|c| c.0)
        })
        .await;
    assert_eq!(counted, Some(99), "98 failures and the throttled attempt; the success forgiven");
    // Jane's own success cleared her own count.
    let jane_key = deputy_service::auth::Auth::<deputy_store::BoxedBackend>::failure_key("jane");
    let jane = s
        .blocking(move |app| {
            use deputy_store::secrets::SecretStore;
            app.deputy().store().sign_in_failures(&jane_key).unwrap().map(|c| c.0)
        })
        .await;
    assert_eq!(jane, Some(1), "only the throttled attempt after her success");
}

/// The two-sample Kolmogorov–Smirnov statistic: the largest gap between the empirical
/// distribution functions of `a` and `b`.
fn ks_statistic(a: &mut [f64], b: &mut [f64]) -> f64 {
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let (mut i, mut j, mut gap) = (0usize, 0usize, 0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        gap = gap.max((i as f64 / a.len() as f64 - j as f64 / b.len() as f64).abs());
    }
    gap
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r15_a_wrong_password_takes_as_long_as_an_unknown_logon() {
    // No throttling in the way: every attempt does the full work.
    let s = start_with(|auth, _| {
        auth.backoff_after = u32::MAX - 1;
        auth.lock_after = u32::MAX;
        auth.source_backoff_after = u32::MAX - 1;
        auth.source_lock_after = u32::MAX;
    })
    .await;
    // The same writes: one failed-sign-in entry whether or not the logon exists.
    let before = s.actions("auth.sign_in_failed").await.len();
    s.try_sign_in("jane", "wrong password here").await;
    s.try_sign_in("no-such-person", "wrong password here").await;
    assert_eq!(s.actions("auth.sign_in_failed").await.len(), before + 2);
    // In a shuffled order, so the machine's noise (and any rhythm of the database's own,
    // such as WAL checkpoints) falls on both alike.
    const N: usize = 1_000;
    let mut order: Vec<bool> = (0..2 * N).map(|n| n % 2 == 0).collect();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for i in (1..order.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        order.swap(i, (seed % (i as u64 + 1)) as usize);
    }
    let warm_up = std::iter::repeat_n(true, 50).chain(std::iter::repeat_n(false, 50));
    let (mut known, mut unknown) = (Vec::with_capacity(N), Vec::with_capacity(N));
    for (n, exists) in warm_up.chain(order).enumerate() {
        let logon = if exists { "jane" } else { "ghost" };
        let started = Instant::now();
        let (status, _) = s.try_sign_in(logon, "wrong password here").await;
        let micros = started.elapsed().as_secs_f64() * 1e6;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        if n >= 100 {
            if exists { known.push(micros) } else { unknown.push(micros) }
        }
    }
    // At α = 0.001 the critical value of D for two samples of n is 1.949·√(2/n) ≈ 0.087
    // at n = 1000: a larger gap says the two are told apart. (The defect, an extra
    // durable write for existing logons, gave D near 1.)
    let critical = 1.949 * (2.0 / N as f64).sqrt();
    let d = ks_statistic(&mut known, &mut unknown);
    let median = |v: &[f64]| v[v.len() / 2];
    eprintln!(
        "KS D = {d:.3} (critical {critical:.3}), medians {:.0} / {:.0} µs",
        median(&known),
        median(&unknown)
    );
    assert!(
        d < critical,
        "D = {d:.3} ≥ {critical:.3}: medians {:.0} µs (existing) vs {:.0} µs (unknown)",
        median(&known),
        median(&unknown)
    );
}
