//! `deputy serve` as a user starts it (R60, R62): a fresh database, the one-time admin
//! password on stdout, the API answering on loopback, a clean stop on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

/// One HTTP/1.1 request; returns the status line's code and the body.
fn request(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
    bearer: Option<&str>,
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(token) = bearer {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let body = body.unwrap_or("");
    head.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    stream.write_all(head.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let code = response.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (code, body)
}

#[test]
fn r60_serve_creates_the_deployment_prints_a_one_time_password_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("deputy.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_deputy"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(&db)
        .env_remove("DEPUTY_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut password = None;
    let mut addr = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(p) = line.trim().strip_prefix("password:") {
            password = Some(p.trim().to_owned());
        }
        if let Some(rest) = line.strip_prefix("deputy: serving http://") {
            addr = Some(rest.split_whitespace().next().unwrap().to_owned());
            break;
        }
    }
    let (password, addr) = (password.expect("a one-time password"), addr.expect("an address"));
    assert!(password.len() >= 16, "a generated password, not a default one");
    assert_eq!(request(&addr, "GET", "/healthz", None, None), (200, "ok".to_owned()));
    assert_eq!(request(&addr, "GET", "/readyz", None, None).0, 200);
    let (code, body) = request(
        &addr,
        "POST",
        "/v1/auth/sign-in",
        Some(&format!("{{\"logon\":\"admin\",\"password\":\"{password}\"}}")),
        None,
    );
    assert_eq!(code, 200, "{body}");
    let session: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(session["must_change_password"], true);

    // Twenty wrong passwords lock the account (R16); the lock is in the database, so the
    // console can lift it while the server runs.
    let sign_in = |password: &str| {
        request(
            &addr,
            "POST",
            "/v1/auth/sign-in",
            Some(&format!("{{\"logon\":\"admin\",\"password\":\"{password}\"}}")),
            None,
        )
        .0
    };
    for _ in 0..20 {
        assert_eq!(sign_in("not the password!"), 401);
    }
    assert_eq!(sign_in(&password), 401, "locked");
    let out = Command::new(env!("CARGO_BIN_EXE_deputy"))
        .args(["unlock", "admin", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(sign_in(&password), 200, "unlocked from the console");

    // Without SMTP, mail waits in the outbox, which the CLI lists (R61).
    let (code, _) = request(
        &addr,
        "POST",
        "/v1/auth/forgot-password",
        Some("{\"logon_or_email\":\"admin\"}"),
        None,
    );
    assert_eq!(code, 202);
    let mut listed = String::new();
    for _ in 0..100 {
        let out = Command::new(env!("CARGO_BIN_EXE_deputy"))
            .args(["--json", "outbox", "--db"])
            .arg(&db)
            .output()
            .unwrap();
        listed = String::from_utf8_lossy(&out.stdout).into_owned();
        if listed.contains("/reset/") {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(listed.contains("admin@deputy.invalid") && listed.contains("/reset/"), "{listed}");

    // SIGTERM: the server finishes and exits successfully.
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");

    // A bad setting is refused before anything starts, naming the setting.
    let out = Command::new(env!("CARGO_BIN_EXE_deputy"))
        .args(["serve", "--listen", "nonsense", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a bad setting is a usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("listen:"));
}

#[test]
fn r60_demo_serves_the_portal_with_the_scenarios_people_and_printed_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_deputy"))
        .arg("--db")
        .arg(&db)
        .args(["demo", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut password, mut people, mut addr) = (None, String::new(), None);
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(p) = line.trim().strip_prefix("password (for everyone, this run):") {
            password = Some(p.trim().to_owned());
        }
        if line.starts_with("Sign in on the portal") {
            people = line;
            continue;
        }
        if let Some(rest) = line.strip_prefix("deputy: serving http://") {
            addr = Some(rest.split_whitespace().next().unwrap().to_owned());
            break;
        }
    }
    let (password, addr) = (password.expect("a printed password"), addr.expect("an address"));
    for who in ["jane", "jim", "carla", "sitm", "ann", "operator"] {
        assert!(people.contains(who), "{who} is offered: {people}");
    }
    let (code, page) = request(&addr, "GET", "/sign-in", None, None);
    assert_eq!(code, 200);
    assert!(page.contains("<form"), "the portal answers");
    let (code, body) = request(
        &addr,
        "POST",
        "/v1/auth/sign-in",
        Some(&format!("{{\"logon\":\"jane\",\"password\":\"{password}\"}}")),
        None,
    );
    assert_eq!(code, 200, "{body}");
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success());
}

/// A running `deputy serve` on a fresh database, with `env` set.
struct Running {
    child: std::process::Child,
    addr: String,
    password: String,
    origin: String,
    _dir: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_with(env: &[(&str, &str)]) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_deputy"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(dir.path().join("deputy.db"))
        .env_remove("DEPUTY_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut password, mut addr, mut origin) = (None, None, None);
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(p) = line.trim().strip_prefix("password:") {
            password = Some(p.trim().to_owned());
        }
        if let Some(rest) = line.strip_prefix("deputy: serving http://") {
            addr = Some(rest.split_whitespace().next().unwrap().to_owned());
            origin = line.rsplit("public origin ").next().map(str::to_owned);
            break;
        }
    }
    Running {
        child,
        addr: addr.unwrap(),
        password: password.unwrap(),
        origin: origin.unwrap(),
        _dir: dir,
    }
}

/// A process's resident memory now and at its peak, in KiB (Linux `/proc`).
fn rss_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap()
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[test]
fn r15_a_burst_of_500_anonymous_sign_ins_leaves_the_server_alive_and_small() {
    let server = serve_with(&[]);
    let pid = server.child.id();
    // Warm: one real sign-in has hashed once, so the pooled buffers exist.
    let body = format!("{{\"logon\":\"admin\",\"password\":\"{}\"}}", server.password);
    assert_eq!(request(&server.addr, "POST", "/v1/auth/sign-in", Some(&body), None).0, 200);
    let (idle, _) = rss_kib(pid);
    let burst: Vec<_> = (0..500)
        .map(|n| {
            let addr = server.addr.clone();
            std::thread::spawn(move || {
                let body =
                    format!("{{\"logon\":\"nobody{n}\",\"password\":\"not the password at all\"}}");
                request(&addr, "POST", "/v1/auth/sign-in", Some(&body), None).0
            })
        })
        .collect();
    let codes: Vec<u16> = burst.into_iter().map(|t| t.join().unwrap()).collect();
    let (after, peak) = rss_kib(pid);
    assert!(codes.iter().all(|c| *c == 401 || *c == 503), "{codes:?}");
    assert!(codes.contains(&503), "past the queue, sign-in answers 503");
    assert!(
        peak.saturating_sub(idle) < 300 * 1024,
        "peak RSS {peak} KiB is more than 300 MiB above idle {idle} KiB"
    );
    assert!(after < idle + 300 * 1024, "memory is back after the burst: {after} KiB");
    // Alive, and people sign in.
    assert_eq!(request(&server.addr, "POST", "/v1/auth/sign-in", Some(&body), None).0, 200);
}

#[test]
fn r61_the_default_public_origin_names_the_bound_port_and_r62_metrics_are_guarded() {
    let open = serve_with(&[]);
    let port = open.addr.rsplit(':').next().unwrap();
    assert_ne!(port, "0");
    assert_eq!(open.origin, format!("http://127.0.0.1:{port}"), "not `:0`");
    // On loopback without settings, metrics are open.
    assert_eq!(request(&open.addr, "GET", "/metrics", None, None).0, 200);
    let token = "a-metrics-token-of-some-length";
    let guarded = serve_with(&[("DEPUTY_METRICS_TOKEN", token)]);
    let (code, body) = request(&guarded.addr, "GET", "/metrics", None, None);
    assert_eq!(code, 404, "{body}");
    assert_eq!(request(&guarded.addr, "GET", "/metrics", None, Some("wrong-token")).0, 404);
    assert_eq!(request(&guarded.addr, "GET", "/metrics", None, Some(token)).0, 200);
}

#[test]
fn r63a_a_write_made_with_the_console_reaches_the_running_servers_checks() {
    let server = serve_with(&[]);
    let addr = &server.addr;
    let sign_in = |password: &str| {
        let body = format!("{{\"logon\":\"admin\",\"password\":\"{password}\"}}");
        let (code, body) = request(addr, "POST", "/v1/auth/sign-in", Some(&body), None);
        assert_eq!(code, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        v["token"].as_str().unwrap().to_owned()
    };
    // R14: the first admin changes the one-time password before anything else.
    let first = sign_in(&server.password);
    let new = "a much longer passphrase for the operator";
    let change =
        format!("{{\"current_password\":\"{}\",\"new_password\":\"{new}\"}}", server.password);
    let (code, body) = request(addr, "POST", "/v1/auth/password", Some(&change), Some(&first));
    assert!(code < 300, "{code} {body}");
    let token = sign_in(new);
    let check = r#"{"principal":"bob","permission":"users.view","target":"root"}"#;
    assert_eq!(request(addr, "POST", "/v1/check", Some(check), Some(&token)).0, 404, "no bob yet");
    let db = server._dir.path().join("deputy.db");
    let out = Command::new(env!("CARGO_BIN_EXE_deputy"))
        .args(["user", "create", "bob", "--tenant", "root", "--first", "Bob", "--last", "Console"])
        .args(["--email", "bob@example.com", "--status", "active", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // No consistency token is shown: the server finds the console's commit on its own.
    let mut answer = (0, String::new());
    for _ in 0..200 {
        answer = request(addr, "POST", "/v1/check", Some(check), Some(&token));
        if answer.0 == 200 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(answer.0, 200, "the server follows the store: {}", answer.1);
}
