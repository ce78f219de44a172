//! Timing: checks one by one (with the timer's own cost subtracted) and in blocks of 64,
//! percentiles by sorting, and the process's memory from `/proc/self/status`.

use crate::mix::{Category, Probe};
use deputy_core::{Millis, State};
use serde::{Deserialize, Serialize};
use std::hint::black_box;
use std::time::Instant;

/// Checks per timed block: enough to dwarf the timer (~20–30 ns a reading), few enough
/// that a block's mean still shows slow stretches.
pub const BLOCK: usize = 64;

/// A latency distribution, in nanoseconds.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Latency {
    pub n: usize,
    pub mean_ns: f64,
    pub p50_ns: f64,
    pub p90_ns: f64,
    pub p99_ns: f64,
    pub p999_ns: f64,
    pub max_ns: f64,
}

impl Latency {
    /// Summarises samples (sorted in place).
    pub fn of(samples: &mut [f64]) -> Latency {
        if samples.is_empty() {
            return Latency::default();
        }
        samples.sort_by(f64::total_cmp);
        let mean = samples.iter().sum::<f64>() / samples.len() as f64;
        Latency {
            n: samples.len(),
            mean_ns: mean,
            p50_ns: percentile(samples, 0.50),
            p90_ns: percentile(samples, 0.90),
            p99_ns: percentile(samples, 0.99),
            p999_ns: percentile(samples, 0.999),
            max_ns: samples.last().copied().unwrap_or(0.0),
        }
    }
}

/// The `q` quantile of sorted samples (nearest rank).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median cost of reading the clock twice, subtracted from single-check timings.
pub fn timer_overhead_ns() -> f64 {
    let mut samples: Vec<f64> = (0..200_000)
        .map(|_| {
            let start = Instant::now();
            black_box(());
            start.elapsed().as_nanos() as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    percentile(&samples, 0.5)
}

/// Runs every probe once, untimed (warms caches and branch predictors).
pub fn warm_up(state: &State, probes: &[Probe], now: Millis) -> usize {
    probes.iter().filter(|p| black_box(p.allowed(state, now))).count()
}

/// Each probe timed on its own, minus the timer's overhead; with how many were allowed.
pub fn time_each(state: &State, probes: &[Probe], now: Millis, overhead: f64) -> (Vec<f64>, usize) {
    let mut samples = Vec::with_capacity(probes.len());
    let mut allowed = 0;
    for p in probes {
        let start = Instant::now();
        let ok = black_box(p.allowed(state, black_box(now)));
        let ns = start.elapsed().as_nanos() as f64;
        samples.push((ns - overhead).max(0.0));
        allowed += usize::from(ok);
    }
    (samples, allowed)
}

/// Blocks of [`BLOCK`] probes timed together: each sample is a block's mean per check.
pub fn time_blocks(state: &State, probes: &[Probe], now: Millis) -> Vec<f64> {
    probes
        .chunks_exact(BLOCK)
        .map(|block| {
            let start = Instant::now();
            for p in block {
                black_box(p.allowed(state, black_box(now)));
            }
            start.elapsed().as_nanos() as f64 / BLOCK as f64
        })
        .collect()
}

/// Each probe repeated [`HOT_REPEAT`] times in a row, timed together: the cost of a check
/// whose data is already in the CPU caches (what a check computes, without memory misses).
pub fn time_hot(state: &State, probes: &[Probe], now: Millis) -> Vec<f64> {
    probes
        .iter()
        .map(|p| {
            let start = Instant::now();
            for _ in 0..HOT_REPEAT {
                black_box(p.allowed(state, black_box(now)));
            }
            start.elapsed().as_nanos() as f64 / HOT_REPEAT as f64
        })
        .collect()
}

/// Repetitions per probe in [`time_hot`].
pub const HOT_REPEAT: usize = 16;

/// Per-category figures of one run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CategoryFigures {
    pub category: Category,
    pub name: String,
    pub share_percent: u32,
    pub n: usize,
    pub allowed_fraction: f64,
    /// From the single-check timings of the mix.
    pub single: Latency,
    /// Blocks of 64 checks of this category alone.
    pub block: Latency,
    /// The same check repeated, caches hot (from the first probes of the mix).
    pub hot: Latency,
}

/// Splits single-check samples of a mix by category.
pub fn by_category(probes: &[Probe], samples: &[f64], category: Category) -> Vec<f64> {
    probes.iter().zip(samples).filter(|(p, _)| p.category == category).map(|(_, s)| *s).collect()
}

/// A field of `/proc/self/status` in kB (`VmHWM`, `VmRSS`), on Linux.
pub fn proc_status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// Milliseconds since `start`.
pub fn ms_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1_000.0
}
