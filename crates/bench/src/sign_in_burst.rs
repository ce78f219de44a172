//! Sign-in bursts (R15): a real `deputy serve` process hit by waves of anonymous wrong
//! sign-ins, its memory sampled from `/proc`, while real users sign in and honour
//! `Retry-After`. Each client claims its own address through `X-Forwarded-For` (the
//! server trusts loopback as its proxy), as clients behind a load balancer would.

use serde::Serialize;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Serialize)]
pub struct BurstFigures {
    /// Anonymous requests per wave, and waves (one a second).
    pub burst: usize,
    pub waves: usize,
    pub attacker_401: u64,
    pub attacker_503: u64,
    pub idle_rss_mib: f64,
    /// The highest resident size sampled during the waves, and the kernel's high-water mark.
    pub peak_rss_mib: f64,
    pub hwm_mib: f64,
    pub after_rss_mib: f64,
    /// Real users' sign-ins: how many, how many got in at the first try, and the time
    /// from first try to success (retries after `Retry-After` included).
    pub user_sign_ins: usize,
    pub user_first_try: usize,
    pub user_p50_ms: f64,
    pub user_p99_ms: f64,
    pub user_max_ms: f64,
    pub server_alive: bool,
}

struct Server {
    child: Child,
    addr: String,
    password: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(deputy: &Path, db: &Path) -> Result<Server, String> {
    let mut child = Command::new(deputy)
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(db)
        .env_remove("DEPUTY_CONFIG")
        .env("DEPUTY_TRUSTED_PROXIES", "127.0.0.1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start `{}`: {e}", deputy.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (mut password, mut addr) = (None, None);
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| e.to_string())?;
        if let Some(p) = line.trim().strip_prefix("password:") {
            password = Some(p.trim().to_owned());
        }
        if let Some(rest) = line.strip_prefix("deputy: serving http://") {
            addr = rest.split_whitespace().next().map(str::to_owned);
            break;
        }
    }
    Ok(Server {
        child,
        addr: addr.ok_or("the server printed no address")?,
        password: password.ok_or("the server printed no password (not a fresh database?)")?,
    })
}

/// One sign-in from `client`; the status and `Retry-After` seconds, if any.
fn sign_in(addr: &str, client: &str, logon: &str, password: &str) -> Option<(u16, Option<u64>)> {
    let body = format!("{{\"logon\":\"{logon}\",\"password\":\"{password}\"}}");
    let request = format!(
        "POST /v1/auth/sign-in HTTP/1.1\r\nHost: {addr}\r\nX-Forwarded-For: {client}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let retry = response
        .lines()
        .find_map(|l| l.strip_prefix("retry-after: ").or_else(|| l.strip_prefix("Retry-After: ")))
        .and_then(|v| v.trim().parse().ok());
    Some((status, retry))
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Runs `waves` waves of `burst` parallel wrong sign-ins, one a second, against a fresh
/// server from the binary `deputy`, with `users` real users signing in throughout.
pub fn run(
    deputy: &Path,
    burst: usize,
    waves: usize,
    users: usize,
) -> Result<BurstFigures, String> {
    let dir = std::env::temp_dir().join(format!("deputy-burst-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let server = start(deputy, &dir.join("burst.db"))?;
    let pid = server.child.id();
    let addr = server.addr.clone();
    // The first admin is the real user; one sign-in warms the hashing buffers.
    let warm = sign_in(&addr, "192.0.2.1", "admin", &server.password);
    if warm.map(|w| w.0) != Some(200) {
        return Err(format!("the warm-up sign-in failed: {warm:?}"));
    }
    std::thread::sleep(Duration::from_millis(300));
    let idle = rss_kib(pid, "VmRSS:");
    let running = Arc::new(AtomicBool::new(true));
    let peak = Arc::new(AtomicU64::new(idle));
    let sampler = {
        let (running, peak) = (running.clone(), peak.clone());
        std::thread::spawn(move || {
            while running.load(Ordering::SeqCst) {
                peak.fetch_max(rss_kib(pid, "VmRSS:"), Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let real_users: Vec<_> = (0..users)
        .map(|u| {
            let (running, addr, password) =
                (running.clone(), addr.clone(), server.password.clone());
            std::thread::spawn(move || {
                let mut times = Vec::new();
                let mut first_try = 0;
                let client = format!("192.0.2.{}", 10 + u);
                while running.load(Ordering::SeqCst) {
                    let started = Instant::now();
                    let mut tries = 0;
                    loop {
                        tries += 1;
                        match sign_in(&addr, &client, "admin", &password) {
                            Some((200, _)) => break,
                            Some((503, retry)) => {
                                std::thread::sleep(Duration::from_secs(retry.unwrap_or(1)));
                            }
                            _ => std::thread::sleep(Duration::from_millis(100)),
                        }
                    }
                    first_try += usize::from(tries == 1);
                    times.push(started.elapsed().as_secs_f64() * 1e3);
                    std::thread::sleep(Duration::from_millis(150));
                }
                (times, first_try)
            })
        })
        .collect();
    let (unauthorized, busy) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    for wave in 0..waves {
        let started = Instant::now();
        let attackers: Vec<_> = (0..burst)
            .map(|n| {
                let (addr, unauthorized, busy) = (addr.clone(), unauthorized.clone(), busy.clone());
                std::thread::spawn(move || {
                    let client = format!("10.{}.{}.{}", wave % 250, n / 250, n % 250);
                    match sign_in(&addr, &client, &format!("nobody{n}"), "not the password at all")
                    {
                        Some((401, _)) => unauthorized.fetch_add(1, Ordering::SeqCst),
                        Some((503, _)) => busy.fetch_add(1, Ordering::SeqCst),
                        _ => 0,
                    };
                })
            })
            .collect();
        for a in attackers {
            let _ = a.join();
        }
        std::thread::sleep(Duration::from_secs(1).saturating_sub(started.elapsed()));
    }
    running.store(false, Ordering::SeqCst);
    let _ = sampler.join();
    let mut times = Vec::new();
    let mut first_try = 0;
    for u in real_users {
        let (t, f) = u.join().map_err(|_| "a real user's thread failed")?;
        times.extend(t);
        first_try += f;
    }
    times.sort_by(f64::total_cmp);
    std::thread::sleep(Duration::from_millis(500));
    let mib = |kib: u64| kib as f64 / 1024.0;
    let figures = BurstFigures {
        burst,
        waves,
        attacker_401: unauthorized.load(Ordering::SeqCst),
        attacker_503: busy.load(Ordering::SeqCst),
        idle_rss_mib: mib(idle),
        peak_rss_mib: mib(peak.load(Ordering::SeqCst)),
        hwm_mib: mib(rss_kib(pid, "VmHWM:")),
        after_rss_mib: mib(rss_kib(pid, "VmRSS:")),
        user_sign_ins: times.len(),
        user_first_try: first_try,
        user_p50_ms: percentile(&times, 0.5),
        user_p99_ms: percentile(&times, 0.99),
        user_max_ms: times.last().copied().unwrap_or(0.0),
        server_alive: sign_in(&addr, "192.0.2.200", "admin", &server.password).map(|r| r.0)
            == Some(200),
    };
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(figures)
}
