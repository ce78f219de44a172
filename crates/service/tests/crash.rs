//! R64 through the whole write path: a child process writing from several threads (group
//! commit) is killed with SIGKILL at random instants; every write it acknowledged is there
//! after reopening, the state replays, and the activity log verifies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use deputy_core::commands::tenants::NewTenant;
use deputy_core::commands::users::NewUser;
use deputy_core::*;
use deputy_service::Deputy;
use std::io::{BufRead, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const CHILD_ENV: &str = "DEPUTY_SERVICE_CRASH_CHILD";
const KILLS: u64 = 12;

/// Not a test of its own: the child of `r64_acknowledged_writes_survive_sigkill`.
#[test]
fn child_writes_until_killed() {
    let Some(path) = std::env::var_os(CHILD_ENV) else { return };
    let round: u64 = std::env::var("DEPUTY_CRASH_ROUND").unwrap().parse().unwrap();
    let d = Arc::new(Deputy::open(deputy_backends::open_file(&path).unwrap()).unwrap());
    let acme = d.snapshot().tenant_by_key("acme").unwrap();
    let out = Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let threads: Vec<_> = (0..3)
        .map(|t| {
            let (d, out) = (d.clone(), out.clone());
            std::thread::spawn(move || {
                for i in 0.. {
                    let logon = format!("r{round}-t{t}-{i}");
                    let new = NewUser {
                        home: acme,
                        logon: logon.clone(),
                        first_name: "C".into(),
                        last_name: "K".into(),
                        email: format!("{logon}@example.com"),
                        phone: None,
                        roles: vec![],
                        status: Status::Active,
                    };
                    let c =
                        d.execute(Actor::System, None, |tx| tx.create_user(new.clone())).unwrap();
                    let mut out = out.lock().unwrap();
                    writeln!(out, "ok {logon} {}", c.revision).unwrap();
                    out.flush().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

fn random_below(bound: u64, salt: u64) -> u64 {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    let mut x = u64::from(nanos) ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^= x >> 31;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 29;
    x % bound
}

#[test]
fn r64_acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    {
        let d = Deputy::open(deputy_backends::open_file(&path).unwrap()).unwrap();
        let root = d.initialise(None, "root", "Root").unwrap().output;
        d.execute(Actor::System, None, |tx| {
            tx.create_tenant(
                root,
                NewTenant { key: "acme".into(), name: "Acme".into(), ..Default::default() },
            )
        })
        .unwrap();
    }
    let mut acknowledged: Vec<(String, u64)> = Vec::new();
    for round in 0..KILLS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "child_writes_until_killed",
                "--nocapture",
                "--test-threads",
                "1",
                "--quiet",
            ])
            .env(CHILD_ENV, &path)
            .env("DEPUTY_CRASH_ROUND", round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            std::io::BufReader::new(stdout).lines().map_while(Result::ok).collect::<Vec<String>>()
        });
        std::thread::sleep(Duration::from_millis(80 + random_below(400, round)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        for line in reader.join().unwrap() {
            // Only complete lines count as acknowledged.
            let parts: Vec<&str> = line.split(' ').collect();
            if let ["ok", logon, revision] = parts.as_slice() {
                acknowledged.push(((*logon).to_owned(), revision.parse().unwrap()));
            }
        }
        let d = Deputy::open(deputy_backends::open_file(&path).unwrap()).unwrap();
        let s = d.snapshot();
        for (logon, revision) in &acknowledged {
            let p = s.principal_by_logon(logon).unwrap_or_else(|| {
                panic!("acknowledged `{logon}` (revision {revision}) is missing after kill {round}")
            });
            assert!(s.principal(p).is_some());
            assert!(s.revision >= *revision);
        }
        assert!(matches!(
            deputy_store::verify_activity(d.store()).unwrap(),
            deputy_store::VerifyReport::Intact { .. }
        ));
    }
    assert!(
        acknowledged.len() > 20,
        "the child wrote something before being killed ({} writes)",
        acknowledged.len()
    );
}
