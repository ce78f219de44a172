//! The figures of one `deputy-bench run`, as JSON or as a Markdown table.

use crate::durable::{Breakdown, CheckpointFigures, ColdStart, WriteRun, Writes};
use crate::generate::Size;
use crate::measure::{CategoryFigures, Latency};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// What the dataset holds, as the built state counts it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Counts {
    pub tenants: usize,
    pub users: usize,
    pub delegates: usize,
    pub resources: usize,
    pub grants: usize,
    pub groups: usize,
    pub placements: usize,
    pub changes: usize,
}

/// Writing the dataset into a new SQLite file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Import {
    pub ms: f64,
    pub revisions: u64,
    pub db_bytes: u64,
}

/// A lookup of every target the fixture's auditor may act on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LookupFigures {
    pub principal: String,
    pub permission: String,
    pub results: usize,
    pub resources: usize,
    pub runs: usize,
    pub p50_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    /// Results re-checked with `check` (a sample), all allowed.
    pub agrees_on_sample: bool,
}

/// Everything one run measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub size: Size,
    pub seed: u64,
    pub counts: Counts,
    pub generate_ms: f64,
    pub apply_ms: f64,
    pub import: Option<Import>,
    /// Peak RSS of the benchmark process while it held the change list and the state.
    pub run_vm_hwm_kb: u64,
    pub timer_overhead_ns: f64,
    pub checks: usize,
    pub allowed_fraction: f64,
    /// Single checks, timer overhead subtracted.
    pub check_single: Latency,
    /// Blocks of 64 checks: per-check mean of each block.
    pub check_block: Latency,
    /// The same check repeated 16 times: caches hot.
    pub check_hot: Latency,
    pub categories: Vec<CategoryFigures>,
    pub lookup: LookupFigures,
    pub cold_start: Option<ColdStart>,
    pub breakdown: Option<Breakdown>,
    pub writes: Option<Writes>,
    pub checkpoint: Option<CheckpointFigures>,
    pub cold_start_from_checkpoint: Option<ColdStart>,
    /// Why reopening the database after the writes failed, if it did.
    pub reopen_error: Option<String>,
    /// `/proc/loadavg` (1, 5, 15 minutes) before and after the run: the machine is shared.
    pub load_before: String,
    pub load_after: String,
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ns(v: f64) -> String {
    if v >= 10_000.0 { format!("{:.1} µs", v / 1_000.0) } else { format!("{v:.0} ns") }
}

fn ms(v: f64) -> String {
    if v >= 10_000.0 { format!("{:.1} s", v / 1_000.0) } else { format!("{v:.1} ms") }
}

fn mib(kb: u64) -> String {
    format!("{:.0} MiB", kb as f64 / 1024.0)
}

/// The run with the median rate, and the range of all rates.
fn write_runs(runs: &[WriteRun]) -> String {
    let mut sorted: Vec<&WriteRun> = runs.iter().collect();
    sorted.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
    let Some(median) = sorted.get(sorted.len() / 2) else { return "—".into() };
    let (lo, hi) = (sorted[0].per_second, sorted[sorted.len() - 1].per_second);
    format!("{}; {} runs: {lo:.0}–{hi:.0} writes/s", write_run(median), runs.len())
}

fn write_run(r: &WriteRun) -> String {
    let failed = if r.failed > 0 {
        format!(", {} failed: {}", r.failed, r.first_error.as_deref().unwrap_or("?"))
    } else {
        String::new()
    };
    format!(
        "{:.0} writes/s ({} commands in {:.2} s; per command p50 {:.2} ms, p99 {:.2} ms{failed})",
        r.per_second,
        thousands(r.commands),
        r.seconds,
        r.latency.p50_ns / 1e6,
        r.latency.p99_ns / 1e6
    )
}

impl Report {
    /// The figures as a two-column Markdown table.
    pub fn markdown(&self) -> String {
        let c = &self.counts;
        let mut rows: Vec<(String, String)> = vec![
            (
                "dataset".into(),
                format!(
                    "{}: {} tenants, {} users, {} delegates, {} resources, {} grants, {} groups, {} placements ({} changes)",
                    self.size,
                    thousands(c.tenants),
                    thousands(c.users),
                    thousands(c.delegates),
                    thousands(c.resources),
                    thousands(c.grants),
                    thousands(c.groups),
                    thousands(c.placements),
                    thousands(c.changes)
                ),
            ),
            ("generate change list".into(), ms(self.generate_ms)),
            ("build state (`State::apply`)".into(), ms(self.apply_ms)),
        ];
        if let Some(i) = &self.import {
            rows.push((
                "import into SQLite (batches of 10,000 changes)".into(),
                format!(
                    "{} ({} revisions, file {})",
                    ms(i.ms),
                    i.revisions,
                    mib(i.db_bytes / 1024)
                ),
            ));
        }
        let s = &self.check_single;
        let b = &self.check_block;
        rows.extend([
            (
                format!("check p50 / p99 / p99.9 ({} single checks)", thousands(self.checks)),
                format!(
                    "{} / {} / {} (timer overhead {:.0} ns subtracted)",
                    ns(s.p50_ns),
                    ns(s.p99_ns),
                    ns(s.p999_ns),
                    self.timer_overhead_ns
                ),
            ),
            (
                "check, blocks of 64: mean / p50 / p99 per check".into(),
                format!("{} / {} / {}", ns(b.mean_ns), ns(b.p50_ns), ns(b.p99_ns)),
            ),
            (
                format!(
                    "check, caches hot (same check ×16; {} checks): p50 / p99",
                    thousands(self.check_hot.n)
                ),
                format!("{} / {}", ns(self.check_hot.p50_ns), ns(self.check_hot.p99_ns)),
            ),
            ("checks allowed".into(), format!("{:.1} %", self.allowed_fraction * 100.0)),
        ]);
        for cat in &self.categories {
            rows.push((
                format!("… {} ({} %)", cat.name, cat.share_percent),
                format!(
                    "p50 {} / p99 {}; blocks p50 {}; hot p50 {}; {:.0} % allowed",
                    ns(cat.single.p50_ns),
                    ns(cat.single.p99_ns),
                    ns(cat.block.p50_ns),
                    ns(cat.hot.p50_ns),
                    cat.allowed_fraction * 100.0
                ),
            ));
        }
        let l = &self.lookup;
        rows.push((
            format!(
                "lookup-resources, {} targets ({} resources)",
                thousands(l.results),
                thousands(l.resources)
            ),
            format!(
                "p50 {} (min {}, max {}, {} runs){}",
                ms(l.p50_ms),
                ms(l.min_ms),
                ms(l.max_ms),
                l.runs,
                if l.agrees_on_sample { "" } else { " — DISAGREES WITH CHECK" }
            ),
        ));
        rows.push(("peak RSS of the run (change list + state)".into(), mib(self.run_vm_hwm_kb)));
        if let Some(cs) = &self.cold_start {
            rows.push((
                "cold start (`Deputy::open`, replay of the change feed from SQLite)".into(),
                format!(
                    "{} (revision {}, file {})",
                    ms(cs.open_ms),
                    cs.revision,
                    mib(cs.db_bytes / 1024)
                ),
            ));
            rows.push((
                "cold start peak RSS (VmHWM) / RSS after open".into(),
                format!("{} / {}", mib(cs.vm_hwm_kb), mib(cs.vm_rss_kb)),
            ));
        }
        if let Some(b) = &self.breakdown {
            rows.push((
                "… replay breakdown: read feed / parse JSON / apply".into(),
                format!(
                    "{} / {} / {} ({} revisions, {} of JSON)",
                    ms(b.read_ms),
                    ms(b.parse_ms),
                    ms(b.apply_ms),
                    b.revisions,
                    mib(b.payload_bytes / 1024)
                ),
            ));
        }
        if let Some(w) = &self.writes {
            rows.push(("durable writes, 1 thread (median run)".into(), write_runs(&w.sequential)));
            let threads = w.concurrent.first().map_or(0, |r| r.threads);
            rows.push((
                format!("durable writes, {threads} threads (median run)"),
                write_runs(&w.concurrent),
            ));
        }
        if let Some(c) = &self.checkpoint {
            rows.push((
                "checkpoint (as `Deputy::checkpoint`): serialize / save / JSON blob".into(),
                format!(
                    "{} / {} / {}{}",
                    ms(c.serialize_ms),
                    ms(c.save_ms),
                    mib(c.blob_bytes / 1024),
                    c.error.as_ref().map_or(String::new(), |e| format!(" — REFUSED: {e}"))
                ),
            ));
        }
        if let Some(e) = &self.reopen_error {
            rows.push(("reopening after 12,000+ revisions".into(), format!("FAILED: {e}")));
        }
        if let Some(cs) = &self.cold_start_from_checkpoint {
            rows.push((
                "cold start from that checkpoint / its peak RSS".into(),
                format!("{} / {}", ms(cs.open_ms), mib(cs.vm_hwm_kb)),
            ));
        }
        rows.push((
            "load average before / after (1, 5, 15 min)".into(),
            format!("{} / {}", self.load_before, self.load_after),
        ));
        let mut out = String::from("| metric | value |\n|---|---|\n");
        for (k, v) in rows {
            let _ = writeln!(out, "| {k} | {v} |");
        }
        out
    }
}
