//! Checks over HTTP (issue 3's load benchmark): the API on the demo deployment, driven
//! over loopback keep-alive connections, beside an empty endpoint of the same server
//! (`/healthz`) as the floor. Reported as medians and as ratios to the floor.

use deputy_core::{Actor, Bundle, Scope};
use deputy_http::{AppState, HttpConfig};
use deputy_service::auth::{Auth, AuthSettings};
use deputy_service::{Deputy, demo};
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub name: String,
    pub connections: usize,
    pub requests: usize,
    pub p50_us: f64,
    pub p99_us: f64,
    pub per_second: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct HttpFigures {
    pub series: Vec<Series>,
    /// Checks per second answered through `/v1/check/batch` (1,000 per request).
    pub batch_checks_per_second: f64,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i].as_secs_f64() * 1e6
}

async fn series(
    name: &str,
    expect: u16,
    connections: usize,
    requests_per_connection: usize,
    request: Arc<dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync>,
) -> Series {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            // One client per connection, one connection per client: keep-alive.
            let client =
                reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap_or_default();
            let mut times = Vec::with_capacity(requests_per_connection);
            for _ in 0..requests_per_connection {
                let t = Instant::now();
                let ok = request(&client)
                    .send()
                    .await
                    .map(|r| r.status().as_u16() == expect)
                    .unwrap_or(false);
                if ok {
                    times.push(t.elapsed());
                }
            }
            times
        }));
    }
    let mut times = Vec::new();
    for t in tasks {
        times.extend(t.await.unwrap_or_default());
    }
    let elapsed = started.elapsed().as_secs_f64();
    times.sort_unstable();
    Series {
        name: name.to_owned(),
        connections,
        requests: times.len(),
        p50_us: percentile(&times, 0.5),
        p99_us: percentile(&times, 0.99),
        per_second: times.len() as f64 / elapsed,
    }
}

/// One connection of a plain socket client that writes each request (headers and body) in
/// a single write, to tell the server's cost from the client's way of sending.
fn raw_series(name: &str, addr: &str, request: Vec<u8>, n: usize) -> Series {
    use std::io::{Read, Write};
    let started = Instant::now();
    let mut times = Vec::with_capacity(n);
    if let Ok(mut stream) = std::net::TcpStream::connect(addr) {
        let _ = stream.set_nodelay(true);
        let mut buffer = vec![0u8; 64 * 1024];
        for _ in 0..n {
            let t = Instant::now();
            if stream.write_all(&request).is_err() {
                break;
            }
            // Read until the headers end, then the body by its length.
            let mut got = 0;
            let complete = loop {
                match stream.read(&mut buffer[got..]) {
                    Ok(0) | Err(_) => break false,
                    Ok(k) => got += k,
                }
                let text = String::from_utf8_lossy(&buffer[..got]);
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if got >= end + 4 + length {
                        break text.starts_with("HTTP/1.1 200");
                    }
                }
            };
            if !complete {
                break;
            }
            times.push(t.elapsed());
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    times.sort_unstable();
    Series {
        name: name.to_owned(),
        connections: 1,
        requests: times.len(),
        p50_us: percentile(&times, 0.5),
        p99_us: percentile(&times, 0.99),
        per_second: times.len() as f64 / elapsed,
    }
}

/// Runs the whole benchmark; `requests` per connection and series.
pub fn run(requests: usize) -> Result<HttpFigures, String> {
    let dir = std::env::temp_dir().join(format!("deputy-bench-http-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let d =
        Deputy::open(deputy_backends::open_file(dir.join("deputy.db")).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    d.initialise(None, "root", "Tax Agency").map_err(|e| e.to_string())?;
    let m = demo::build(&d).map_err(|e| e.to_string())?;
    // A service account with `api` (checks.read) in the bakery, and its key.
    let robot = d
        .execute(Actor::at_home(m.bakery_admin), None, |tx| {
            tx.create_service_account(m.bakery, "bench-bot".into(), "Bench".into())
        })
        .map_err(|e| e.to_string())?
        .output;
    let api = d.snapshot().catalog.role_id("api").ok_or("no api role")?;
    d.execute(Actor::at_home(m.bakery_admin), None, |tx| {
        tx.assign(deputy_core::commands::roles::NewAssignment {
            principal: robot,
            bundle: Bundle::Role(api),
            scope: Scope::Tenant { tenant: m.bakery, subtree: false },
            expires_at: None,
        })
    })
    .map_err(|e| e.to_string())?;
    let auth = Auth::new(Arc::new(d), AuthSettings::default()).map_err(|e| e.to_string())?;
    let keys = auth
        .create_api_key(Actor::at_home(m.bakery_admin), robot, "bench", None)
        .map_err(|e| e.to_string())?;
    let app = AppState::new(
        auth,
        HttpConfig {
            public_origin: "http://127.0.0.1".into(),
            trusted_proxies: vec![],
            metrics: Default::default(),
        },
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let figures = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
        let base = format!("http://{}", listener.local_addr().map_err(|e| e.to_string())?);
        tokio::spawn(deputy_http::serve(listener, app, std::future::pending()));
        let floor_url = format!("{base}/healthz");
        let check_url = format!("{base}/v1/check");
        let batch_url = format!("{base}/v1/check/batch");
        let check_body = serde_json::json!({"principal": "jim", "permission": "returns.file", "target": "resource:bakery-withholding"});
        let floor: Arc<dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync> = Arc::new(move |c| c.get(&floor_url));
        let key = keys.clone();
        let check: Arc<dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync> =
            Arc::new(move |c| c.post(&check_url).bearer_auth(&key).json(&check_body));
        let anonymous_url = format!("{base}/v1/check");
        let anonymous_body = serde_json::json!({"principal": "jim", "permission": "returns.file", "target": "resource:bakery-withholding"});
        let anonymous: Arc<dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync> =
            Arc::new(move |c| c.post(&anonymous_url).json(&anonymous_body));
        // Warm up both paths.
        series("warm-up", 200, 1, 200, floor.clone()).await;
        series("warm-up", 200, 1, 200, check.clone()).await;
        let mut out = Vec::new();
        for connections in [1, 8] {
            let per = (requests / connections).max(1);
            out.push(series("floor: GET /healthz", 200, connections, per, floor.clone()).await);
            out.push(series("POST /v1/check without credentials (401)", 401, connections, per, anonymous.clone()).await);
            out.push(series("POST /v1/check", 200, connections, per, check.clone()).await);
        }
        // The same check from a client that sends each request in one write.
        let addr = base.trim_start_matches("http://").to_owned();
        let body = serde_json::json!({"principal": "jim", "permission": "returns.file", "target": "resource:bakery-withholding"}).to_string();
        let raw = format!(
            "POST /v1/check HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {keys}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes();
        let floor_raw = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes();
        let n = requests;
        let a2 = addr.clone();
        out.push(tokio::task::spawn_blocking(move || raw_series("floor: GET /healthz, one-write client", &a2, floor_raw, n)).await.map_err(|e| e.to_string())?);
        out.push(tokio::task::spawn_blocking(move || raw_series("POST /v1/check, one-write client", &addr, raw, n)).await.map_err(|e| e.to_string())?);
        let items: Vec<_> = (0..1000)
            .map(|_| serde_json::json!({"principal": "jim", "permission": "returns.file", "target": "resource:bakery-withholding"}))
            .collect();
        let batch_body = serde_json::json!({"checks": items});
        let key = keys.clone();
        let batch: Arc<dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync> =
            Arc::new(move |c| c.post(&batch_url).bearer_auth(&key).json(&batch_body));
        let b = series("POST /v1/check/batch (1,000 checks)", 200, 2, 50, batch.clone()).await;
        let batch_checks_per_second = b.per_second * 1000.0;
        out.push(b);
        Ok::<_, String>(HttpFigures { series: out, batch_checks_per_second })
    })?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(figures)
}
