//! `deputy-bench`: generates datasets into SQLite files and measures, in one run, check
//! latency, lookups, cold start with peak RSS, and durable writes (see docs/benchmarks.md).

use clap::{Parser, Subcommand};
use deputy_bench::durable::{self, Breakdown, CheckpointFigures, ColdStart, Writes};
use deputy_bench::generate::{DEFAULT_SEED, build_state};
use deputy_bench::measure::{self, CategoryFigures, Latency};
use deputy_bench::report::{Counts, Import, LookupFigures, Report};
use deputy_bench::rng::Rng;
use deputy_bench::{Category, Dataset, Error, Mixer, Size, generate};
use deputy_core::{Context, Target};
use deputy_service::Deputy;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::Instant;

#[derive(Debug, Parser)]
#[command(
    name = "deputy-bench",
    about = "Deputy's benchmark: datasets S, M, L and one-run figures"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generates a dataset and imports it into a new SQLite database.
    Generate {
        #[arg(long)]
        size: Size,
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value_t = DEFAULT_SEED)]
        seed: u64,
        /// Changes per committed revision.
        #[arg(long, default_value_t = 10_000)]
        batch: usize,
    },
    /// Measures everything in one run and prints a Markdown table (or JSON).
    Run {
        #[arg(long)]
        size: Size,
        /// The database to cold-start from; generated first when missing. Default:
        /// `deputy-bench-<size>.sqlite` in the temporary directory.
        #[arg(long)]
        db: Option<PathBuf>,
        /// Regenerate the database even if it exists.
        #[arg(long)]
        fresh: bool,
        #[arg(long, default_value_t = DEFAULT_SEED)]
        seed: u64,
        /// Checks in the timed mix.
        #[arg(long, default_value_t = 1_000_000)]
        checks: usize,
        /// Checks per category for the per-category block timings.
        #[arg(long, default_value_t = 128_000)]
        category_checks: usize,
        #[arg(long, default_value_t = 10)]
        lookup_runs: usize,
        /// Durable write commands per series (0: skip writes).
        #[arg(long, default_value_t = 2_000)]
        writes: usize,
        #[arg(long, default_value_t = 4)]
        threads: usize,
        /// Repetitions of each durable write series (the median is reported).
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        /// Skip cold start and writes (no database at all).
        #[arg(long)]
        no_db: bool,
        #[arg(long)]
        json: bool,
    },
    /// Opens a database and prints the cold start figures as JSON (run as a child).
    Coldstart {
        #[arg(long)]
        db: PathBuf,
    },
    /// Opens a database and runs durable writes, printing JSON (run as a child). Changes the
    /// database: point it at a copy.
    Writes {
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value_t = 2_000)]
        n: usize,
        #[arg(long, default_value_t = 4)]
        threads: usize,
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
    /// Prints the Markdown table of a report saved with `run --json`.
    Render { json: PathBuf },
    /// Replays a database's change feed timing read, parse and apply, printing JSON.
    Breakdown {
        #[arg(long)]
        db: PathBuf,
    },
    /// Opens a database and writes a checkpoint, printing JSON. Changes the database.
    Checkpoint {
        #[arg(long)]
        db: PathBuf,
    },
    /// Checks over HTTP on loopback, beside an empty endpoint of the same server as the
    /// floor, with 1 and 8 keep-alive connections, and batch checks; prints JSON.
    Http {
        /// Requests per series.
        #[arg(long, default_value_t = 20_000)]
        requests: usize,
    },
    /// Waves of parallel anonymous wrong sign-ins against a real `deputy serve` (R15):
    /// its memory, the answers, and real users' sign-in times meanwhile; prints JSON.
    SignInBurst {
        /// The `deputy` binary to start (build it with `cargo build --release -p deputy`).
        #[arg(long, default_value = "target/release/deputy")]
        deputy: PathBuf,
        /// Parallel sign-ins per wave.
        #[arg(long, default_value_t = 500)]
        burst: usize,
        /// Waves, one a second.
        #[arg(long, default_value_t = 10)]
        waves: usize,
        /// Real users signing in meanwhile.
        #[arg(long, default_value_t = 4)]
        users: usize,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate { size, db, seed, batch } => generate_db(size, &db, seed, batch),
        Command::Run {
            size,
            db,
            fresh,
            seed,
            checks,
            category_checks,
            lookup_runs,
            writes,
            threads,
            repeat,
            no_db,
            json,
        } => {
            let options = RunOptions {
                size,
                db: (!no_db).then(|| {
                    db.unwrap_or_else(|| {
                        std::env::temp_dir().join(format!("deputy-bench-{size}.sqlite"))
                    })
                }),
                fresh,
                seed,
                checks,
                category_checks,
                lookup_runs,
                writes,
                threads,
                repeat,
            };
            run(&options).and_then(|report| {
                if json {
                    println!("{}", serde_json::to_string_pretty(&report)?);
                } else {
                    print!("{}", report.markdown());
                }
                Ok(())
            })
        }
        Command::Coldstart { db } => durable::cold_start(&db).and_then(|(_deputy, figures)| {
            println!("{}", serde_json::to_string(&figures)?);
            Ok(())
        }),
        Command::Writes { db, n, threads, repeat } => writes_child(&db, n, threads, repeat),
        Command::Http { requests } => {
            deputy_bench::http_load::run(requests).map_err(Error::Apply).and_then(|figures| {
                println!("{}", serde_json::to_string_pretty(&figures)?);
                Ok(())
            })
        }
        Command::SignInBurst { deputy, burst, waves, users } => {
            deputy_bench::sign_in_burst::run(&deputy, burst, waves, users)
                .map_err(Error::Apply)
                .and_then(|figures| {
                    println!("{}", serde_json::to_string_pretty(&figures)?);
                    Ok(())
                })
        }
        Command::Render { json } => std::fs::read(&json).map_err(Error::from).and_then(|bytes| {
            let report: Report = serde_json::from_slice(&bytes)?;
            print!("{}", report.markdown());
            Ok(())
        }),
        Command::Breakdown { db } => durable::replay_breakdown(&db).and_then(|figures| {
            println!("{}", serde_json::to_string(&figures)?);
            Ok(())
        }),
        Command::Checkpoint { db } => durable::write_checkpoint(&db).and_then(|figures| {
            println!("{}", serde_json::to_string(&figures)?);
            Ok(())
        }),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("deputy-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn note(message: impl AsRef<str>) {
    eprintln!("[deputy-bench] {}", message.as_ref());
}

fn remove_db(path: &Path) -> Result<(), Error> {
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", path.display()));
        if p.exists() {
            std::fs::remove_file(&p)?;
        }
    }
    Ok(())
}

/// Imports `dataset` into a new database at `path`.
fn import(dataset: &Dataset, path: &Path, batch: usize) -> Result<Import, Error> {
    if path.exists() {
        return Err(Error::Other(format!("`{}` exists already", path.display())));
    }
    let start = Instant::now();
    let deputy = Deputy::open(deputy_backends::open_file(path)?)?;
    let mut last_note = Instant::now();
    let revisions = deputy.import(&dataset.changes, batch, &mut |done, all| {
        if last_note.elapsed().as_secs() >= 10 {
            note(format!("imported {done} of {all} changes"));
            last_note = Instant::now();
        }
    })?;
    drop(deputy);
    let ms = measure::ms_since(start);
    Ok(Import { ms, revisions, db_bytes: std::fs::metadata(path)?.len() })
}

fn generate_db(size: Size, path: &Path, seed: u64, batch: usize) -> Result<(), Error> {
    let start = Instant::now();
    let dataset = generate(size, seed)?;
    note(format!(
        "generated {} changes in {:.1} s",
        dataset.changes.len(),
        start.elapsed().as_secs_f64()
    ));
    let i = import(&dataset, path, batch)?;
    note(format!(
        "imported into `{}`: {} revisions, {:.0} MiB, {:.1} s",
        path.display(),
        i.revisions,
        i.db_bytes as f64 / 1_048_576.0,
        i.ms / 1_000.0
    ));
    Ok(())
}

fn writes_child(path: &Path, n: usize, threads: usize, repeat: usize) -> Result<(), Error> {
    let (deputy, open) = durable::cold_start(path)?;
    let tag = format!("{}", std::process::id());
    // Untimed: brings the WAL to its steady size, as on a server that has been running.
    durable::durable_writes(&deputy, 200, 1, &format!("{tag}w"))?;
    let mut sequential = Vec::new();
    let mut concurrent = Vec::new();
    for i in 0..repeat.max(1) {
        sequential.push(durable::durable_writes(&deputy, n, 1, &format!("{tag}s{i}"))?);
        concurrent.push(durable::durable_writes(&deputy, n, threads, &format!("{tag}c{i}"))?);
    }
    println!("{}", serde_json::to_string(&Writes { open, sequential, concurrent })?);
    Ok(())
}

/// Runs this binary with `args` and parses the JSON it prints; a failure carries the
/// child's last line of error output.
fn child<T: serde::de::DeserializeOwned>(args: &[&str]) -> Result<T, Error> {
    let exe = std::env::current_exe()?;
    let output = Process::new(exe).args(args).output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprint!("{stderr}");
    if !output.status.success() {
        let last = stderr.lines().last().unwrap_or("").to_owned();
        return Err(Error::Other(format!("`deputy-bench {}` failed: {last}", args[0])));
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}

#[derive(Debug)]
struct RunOptions {
    size: Size,
    db: Option<PathBuf>,
    fresh: bool,
    seed: u64,
    checks: usize,
    category_checks: usize,
    lookup_runs: usize,
    writes: usize,
    threads: usize,
    repeat: usize,
}

fn run(o: &RunOptions) -> Result<Report, Error> {
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let start = Instant::now();
    let dataset = generate(o.size, o.seed)?;
    let generate_ms = measure::ms_since(start);
    note(format!(
        "{}: generated {} changes in {:.1} s",
        o.size,
        dataset.changes.len(),
        generate_ms / 1e3
    ));

    let mut imported = None;
    if let Some(path) = &o.db {
        if o.fresh {
            remove_db(path)?;
        }
        if !path.exists() {
            note(format!("importing into `{}`", path.display()));
            let i = import(&dataset, path, 10_000)?;
            note(format!("imported in {:.1} s", i.ms / 1e3));
            imported = Some(i);
        } else {
            note(format!("reusing `{}` (pass --fresh to regenerate)", path.display()));
        }
    }

    let start = Instant::now();
    let state = build_state(&dataset.changes)?;
    let apply_ms = measure::ms_since(start);
    note(format!("built the state in {:.1} s", apply_ms / 1e3));
    let Dataset { changes, meta, now, .. } = dataset;
    let counts = Counts {
        tenants: state.n_tenants(),
        users: meta.first_delegate as usize,
        delegates: state.n_principals() - meta.first_delegate as usize,
        resources: state.n_resources(),
        grants: state.n_grants(),
        groups: state.n_groups(),
        placements: meta.placements,
        changes: changes.len(),
    };
    drop(changes);

    // ----- checks -------------------------------------------------------------------------
    let mut mixer = Mixer::new(&state, &meta, o.seed ^ 0x5EED);
    let probes = mixer.mix(o.checks);
    let decisions: Vec<bool> = probes.iter().map(|p| p.allowed(&state, now)).collect();
    let allowed = decisions.iter().filter(|d| **d).count();
    let overhead = measure::timer_overhead_ns();
    note(format!("timing {} checks (timer overhead {overhead:.0} ns)", probes.len()));
    let (mut single, _) = measure::time_each(&state, &probes, now, overhead);
    let hot_probes = &probes[..probes.len().min(100_000)];
    let hot = measure::time_hot(&state, hot_probes, now);
    let mut categories = Vec::new();
    for category in Category::ALL {
        let mut samples = measure::by_category(&probes, &single, category);
        let mut hot_samples = measure::by_category(hot_probes, &hot, category);
        let in_category: Vec<bool> = probes
            .iter()
            .zip(&decisions)
            .filter(|(p, _)| p.category == category)
            .map(|(_, d)| *d)
            .collect();
        let only = mixer.only(category, o.category_checks);
        measure::warm_up(&state, &only, now);
        let mut blocks = measure::time_blocks(&state, &only, now);
        categories.push(CategoryFigures {
            category,
            name: category.name().to_owned(),
            share_percent: category.weight(),
            n: samples.len(),
            allowed_fraction: in_category.iter().filter(|d| **d).count() as f64
                / in_category.len().max(1) as f64,
            single: Latency::of(&mut samples),
            block: Latency::of(&mut blocks),
            hot: Latency::of(&mut hot_samples),
        });
    }
    let check_single = Latency::of(&mut single);
    let check_hot = Latency::of(&mut hot.clone());
    let mut blocks = measure::time_blocks(&state, &probes, now);
    let check_block = Latency::of(&mut blocks);
    note(format!(
        "check p50 {:.0} ns, p99 {:.0} ns, block mean {:.0} ns",
        check_single.p50_ns, check_single.p99_ns, check_block.mean_ns
    ));

    // ----- lookup -------------------------------------------------------------------------
    let permission = state
        .catalog
        .permission_id(meta.lookup_permission)
        .ok_or_else(|| Error::Catalog(format!("no permission `{}`", meta.lookup_permission)))?;
    let mut times = Vec::new();
    let mut found = Vec::new();
    for _ in 0..o.lookup_runs.max(1) {
        let start = Instant::now();
        found = state.lookup_resources_all(
            meta.lookup_principal,
            permission,
            None,
            Context::HOME,
            now,
        )?;
        times.push(measure::ms_since(start));
    }
    times.sort_by(f64::total_cmp);
    let mut rng = Rng::new(o.seed);
    let agrees_on_sample = (0..1_000).all(|_| {
        rng.pick(&found).is_none_or(|t| {
            state
                .check(meta.lookup_principal, permission, *t, Context::HOME, now)
                .is_ok_and(|d| d.is_allowed())
        })
    });
    let lookup = LookupFigures {
        principal: meta.lookup_principal.to_string(),
        permission: meta.lookup_permission.to_owned(),
        results: found.len(),
        resources: found.iter().filter(|t| matches!(t, Target::Resource(_))).count(),
        runs: times.len(),
        p50_ms: measure::percentile(&times, 0.5),
        min_ms: times.first().copied().unwrap_or(0.0),
        max_ms: times.last().copied().unwrap_or(0.0),
        agrees_on_sample,
    };
    note(format!("lookup: {} targets in {:.1} ms", lookup.results, lookup.p50_ms));
    let run_vm_hwm_kb = measure::proc_status_kb("VmHWM").unwrap_or(0);
    drop(mixer);
    drop(probes);
    drop(state);

    // ----- cold start and durable writes, in child processes ------------------------------
    let mut cold_start: Option<ColdStart> = None;
    let mut breakdown: Option<Breakdown> = None;
    let mut writes: Option<Writes> = None;
    let mut checkpoint: Option<CheckpointFigures> = None;
    let mut cold_start_from_checkpoint: Option<ColdStart> = None;
    let mut reopen_error: Option<String> = None;
    if let Some(path) = &o.db {
        let db = path.display().to_string();
        note("cold start in a child process");
        let cs: ColdStart = child(&["coldstart", "--db", &db])?;
        note(format!("cold start {:.1} s, peak RSS {} MiB", cs.open_ms / 1e3, cs.vm_hwm_kb / 1024));
        cold_start = Some(cs);
        note("replay breakdown in a child process");
        breakdown = Some(child(&["breakdown", "--db", &db])?);
        if o.writes > 0 {
            let copy = PathBuf::from(format!("{db}.writes"));
            let copy_name = copy.display().to_string();
            remove_db(&copy)?;
            std::fs::copy(path, &copy)?;
            let wal = PathBuf::from(format!("{db}-wal"));
            if wal.exists() {
                std::fs::copy(&wal, format!("{copy_name}-wal"))?;
                std::fs::File::open(format!("{copy_name}-wal"))?.sync_all()?;
            }
            // Flush the copy now, or the first checkpoints of the timed writes would.
            std::fs::File::open(&copy)?.sync_all()?;
            note("durable writes in a child process, on a copy of the database");
            let n = o.writes.to_string();
            let threads = o.threads.to_string();
            let repeat = o.repeat.to_string();
            let result = (|| -> Result<(), Error> {
                writes = Some(child(&[
                    "writes",
                    "--db",
                    &copy_name,
                    "--n",
                    &n,
                    "--threads",
                    &threads,
                    "--repeat",
                    &repeat,
                ])?);
                note("checkpoint, then cold start from it, on the copy");
                checkpoint = Some(child(&["checkpoint", "--db", &copy_name])?);
                // With a checkpoint this loads it; without one, `open` replays more than
                // 5,000 revisions and tries to write one itself.
                match child::<ColdStart>(&["coldstart", "--db", &copy_name]) {
                    Ok(cs) => cold_start_from_checkpoint = Some(cs),
                    Err(e) => reopen_error = Some(e.to_string()),
                }
                Ok(())
            })();
            remove_db(&copy)?;
            result?;
        }
    }

    Ok(Report {
        size: o.size,
        seed: o.seed,
        counts,
        generate_ms,
        apply_ms,
        import: imported,
        run_vm_hwm_kb,
        timer_overhead_ns: overhead,
        checks: o.checks,
        allowed_fraction: allowed as f64 / o.checks.max(1) as f64,
        check_single,
        check_block,
        check_hot,
        categories,
        lookup,
        cold_start,
        breakdown,
        writes,
        checkpoint,
        cold_start_from_checkpoint,
        reopen_error,
        load_before: load_before.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
        load_after: std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    })
}
