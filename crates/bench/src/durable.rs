//! What needs the SQLite file: cold start (`Deputy::open` replaying the change feed) and
//! durable writes (small commands, each committed with fsync before it is acknowledged).
//!
//! `deputy-bench run` runs both in child processes of itself, so that the peak RSS reported
//! for a cold start is that of a process which did nothing else.

use crate::Error;
use crate::measure::{Latency, ms_since, proc_status_kb};
use deputy_core::commands::roles::NewAssignment;
use deputy_core::commands::users::NewUser;
use deputy_core::*;
use deputy_service::Deputy;
use deputy_store::BoxedBackend;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;

/// A cold start: opening the deployment from its file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColdStart {
    pub open_ms: f64,
    /// Peak resident set size of the process after `open` (`VmHWM`).
    pub vm_hwm_kb: u64,
    /// Resident set size after `open` (`VmRSS`): roughly the state's own footprint.
    pub vm_rss_kb: u64,
    pub revision: u64,
    pub tenants: usize,
    pub principals: usize,
    pub resources: usize,
    pub grants: usize,
    pub db_bytes: u64,
}

/// Opens the deployment in `path` and measures it.
pub fn cold_start(path: &Path) -> Result<(Deputy<BoxedBackend>, ColdStart), Error> {
    let db_bytes = std::fs::metadata(path)?.len();
    let start = Instant::now();
    let deputy = Deputy::open(deputy_backends::open_file(path)?)?;
    let open_ms = ms_since(start);
    let s = deputy.snapshot();
    let figures = ColdStart {
        open_ms,
        vm_hwm_kb: proc_status_kb("VmHWM").unwrap_or(0),
        vm_rss_kb: proc_status_kb("VmRSS").unwrap_or(0),
        revision: s.revision,
        tenants: s.n_tenants(),
        principals: s.n_principals(),
        resources: s.n_resources(),
        grants: s.n_grants(),
        db_bytes,
    };
    Ok((deputy, figures))
}

/// One series of durable writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WriteRun {
    pub threads: usize,
    pub commands: usize,
    pub failed: usize,
    pub first_error: Option<String>,
    pub seconds: f64,
    pub per_second: f64,
    /// Latency of one `execute`, in nanoseconds.
    pub latency: Latency,
}

/// Both series, each repeated, measured on one opened file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Writes {
    pub open: ColdStart,
    pub sequential: Vec<WriteRun>,
    pub concurrent: Vec<WriteRun>,
}

/// Where a cold start's time goes: reading the change feed, parsing its JSON, applying it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Breakdown {
    pub revisions: u64,
    pub payload_bytes: u64,
    pub read_ms: f64,
    pub parse_ms: f64,
    pub apply_ms: f64,
    pub vm_hwm_kb: u64,
}

/// Replays the change feed of `path` the way `Deputy::open` does (batches of 1,000
/// revisions), timing each stage.
pub fn replay_breakdown(path: &Path) -> Result<Breakdown, Error> {
    let store = deputy_backends::open_file(path)?;
    replay(&store).map(|(_, b)| b)
}

fn replay(store: &BoxedBackend) -> Result<(State, Breakdown), Error> {
    use deputy_store::Store;
    let mut state = State::new(Catalog::shipped());
    let mut b = Breakdown {
        revisions: 0,
        payload_bytes: 0,
        read_ms: 0.0,
        parse_ms: 0.0,
        apply_ms: 0.0,
        vm_hwm_kb: 0,
    };
    loop {
        let start = Instant::now();
        let batch = store.changes_after(state.revision, 1_000)?;
        b.read_ms += ms_since(start);
        if batch.is_empty() {
            break;
        }
        for c in batch {
            b.payload_bytes += c.payload.len() as u64;
            let start = Instant::now();
            let changes: Vec<Change> = serde_json::from_str(&c.payload)?;
            b.parse_ms += ms_since(start);
            let start = Instant::now();
            state.apply_owned(changes).map_err(|e| Error::Apply(e.to_string()))?;
            b.apply_ms += ms_since(start);
            b.revisions += 1;
        }
    }
    b.vm_hwm_kb = proc_status_kb("VmHWM").unwrap_or(0);
    Ok((state, b))
}

/// Writing a checkpoint of the whole state, exactly as `Deputy::checkpoint` does (the JSON
/// of `State::to_changes`, saved as one blob).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckpointFigures {
    pub replay_ms: f64,
    pub serialize_ms: f64,
    pub save_ms: f64,
    pub blob_bytes: u64,
    /// Why the store refused the checkpoint, if it did.
    pub error: Option<String>,
    pub db_bytes_before: u64,
    pub db_bytes_after: u64,
    pub vm_hwm_kb: u64,
}

/// Replays `path` and saves a checkpoint of it. Changes the database: point it at a copy.
pub fn write_checkpoint(path: &Path) -> Result<CheckpointFigures, Error> {
    use deputy_store::{Checkpoint, Store};
    let db_bytes_before = std::fs::metadata(path)?.len();
    let store = deputy_backends::open_file(path)?;
    let start = Instant::now();
    let (state, _) = replay(&store)?;
    let replay_ms = ms_since(start);
    let start = Instant::now();
    let blob = deputy_service::checkpoint_blob(&state).map_err(|e| Error::Apply(e.to_string()))?;
    let serialize_ms = ms_since(start);
    let blob_bytes = blob.len() as u64;
    let start = Instant::now();
    let saved = store.save_checkpoint(&Checkpoint { revision: state.revision, blob });
    let save_ms = ms_since(start);
    drop(store);
    Ok(CheckpointFigures {
        replay_ms,
        serialize_ms,
        save_ms,
        blob_bytes,
        error: saved.err().map(|e| e.to_string()),
        db_bytes_before,
        db_bytes_after: std::fs::metadata(path)?.len(),
        vm_hwm_kb: proc_status_kb("VmHWM").unwrap_or(0),
    })
}

/// Tenants with an active admin contact who can assign roles there.
fn write_targets(state: &State) -> Vec<(TenantId, PrincipalId)> {
    state
        .tenants()
        .filter(|t| t.parent.is_some() && !t.partner && !t.blocked)
        .filter_map(|t| {
            let c = t.contact?;
            let p = state.principal(c)?;
            (p.is_active() && p.home == t.id).then_some((t.id, c))
        })
        .take(1_000)
        .collect()
}

/// Runs `n` commands alternating "create a user" (the console) and "give the new user
/// `read-only`" (the tenant's admin), on `threads` threads sharing the deployment.
pub fn durable_writes(
    deputy: &Deputy<BoxedBackend>,
    n: usize,
    threads: usize,
    tag: &str,
) -> Result<WriteRun, Error> {
    let state = deputy.snapshot();
    let targets = write_targets(&state);
    if targets.is_empty() {
        return Err(Error::Other("no tenant with an active admin to write in".into()));
    }
    let read_only = state
        .catalog
        .role_id("read-only")
        .ok_or_else(|| Error::Catalog("no role `read-only`".into()))?;
    let threads = threads.max(1);
    let per_thread = n / threads;
    let start = Instant::now();
    let results: Vec<Worker> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let targets =
                    &targets[i * targets.len() / threads..(i + 1) * targets.len() / threads];
                let targets = if targets.is_empty() { &[][..] } else { targets };
                let tag = format!("{tag}t{i}");
                scope.spawn(move || worker(deputy, targets, read_only, &tag, per_thread))
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let seconds = start.elapsed().as_secs_f64();
    let mut latencies: Vec<f64> = Vec::with_capacity(n);
    let mut failed = 0;
    let mut first_error = None;
    for w in results {
        latencies.extend(w.latencies);
        failed += w.failed;
        first_error = first_error.or(w.first_error);
    }
    let commands = latencies.len();
    Ok(WriteRun {
        threads,
        commands,
        failed,
        first_error,
        seconds,
        per_second: (commands - failed) as f64 / seconds.max(1e-9),
        latency: Latency::of(&mut latencies),
    })
}

struct Worker {
    latencies: Vec<f64>,
    failed: usize,
    first_error: Option<String>,
}

fn worker(
    deputy: &Deputy<BoxedBackend>,
    targets: &[(TenantId, PrincipalId)],
    read_only: RoleId,
    tag: &str,
    n: usize,
) -> Worker {
    let mut w = Worker { latencies: Vec::with_capacity(n), failed: 0, first_error: None };
    if targets.is_empty() {
        return w;
    }
    let mut last: Option<(PrincipalId, TenantId, PrincipalId)> = None;
    for i in 0..n {
        let start = Instant::now();
        let result = match last.take() {
            None => {
                let (home, admin) = targets[(i / 2) % targets.len()];
                let logon = format!("w{tag}-{i}");
                let new = NewUser {
                    home,
                    email: format!("{logon}@example.com"),
                    logon,
                    first_name: "Writer".into(),
                    last_name: "Bench".into(),
                    phone: None,
                    roles: vec![],
                    status: Status::Active,
                };
                deputy
                    .execute(Actor::System, Some("bench"), move |tx| tx.create_user(new.clone()))
                    .map(|c| last = Some((c.output, home, admin)))
            }
            Some((user, home, admin)) => {
                let a = NewAssignment {
                    principal: user,
                    bundle: Bundle::Role(read_only),
                    scope: Scope::Tenant { tenant: home, subtree: false },
                    expires_at: None,
                };
                deputy
                    .execute(Actor::at_home(admin), Some("bench"), move |tx| tx.assign(a))
                    .map(|_| ())
            }
        };
        w.latencies.push(start.elapsed().as_nanos() as f64);
        if let Err(e) = result {
            w.failed += 1;
            w.first_error.get_or_insert_with(|| e.to_string());
        }
    }
    w
}
