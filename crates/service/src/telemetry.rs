//! What the service layer measures for operators (R62): how long commits take, how often
//! they lose a revision race, and why sign-ins fail. The handles are cheap atomics that the
//! HTTP layer registers in its `/metrics` registry; nothing here renders or serves them.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use std::time::Duration;

/// Why a sign-in failed, for operators only: the caller is told the same for all (R15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignInFailure {
    /// No principal has this logon.
    UnknownLogon,
    /// The logon exists and the password does not match.
    WrongPassword,
    /// Over the failure limit of the logon or of the source address (R16).
    Throttled,
    /// Right password, but the account, its owner or its tenant cannot sign in now.
    CannotSignIn,
    /// Every hashing permit was taken and the queue was full (R15): answered 503.
    Busy,
}

impl SignInFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            SignInFailure::UnknownLogon => "unknown_logon",
            SignInFailure::WrongPassword => "wrong_password",
            SignInFailure::Throttled => "throttled",
            SignInFailure::CannotSignIn => "cannot_sign_in",
            SignInFailure::Busy => "busy",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: &'static str,
}

/// The service's series; clones share them.
#[derive(Clone, Debug)]
pub struct Telemetry {
    /// Time from taking the flush lock to a durable batch (or its failure).
    pub commit_seconds: Histogram,
    /// Change sets made durable.
    pub commits: Counter,
    /// Batches that met a newer revision in the store and were decided again (R63b).
    pub commit_conflicts: Counter,
    pub sign_in_failures: Family<ReasonLabels, Counter>,
}

impl Default for Telemetry {
    fn default() -> Self {
        Telemetry {
            // 100 µs to about 6.5 s: an fsync on a busy disk is the slow case.
            commit_seconds: Histogram::new(exponential_buckets(0.000_1, 3.0, 11)),
            commits: Counter::default(),
            commit_conflicts: Counter::default(),
            sign_in_failures: Family::default(),
        }
    }
}

impl Telemetry {
    pub(crate) fn committed(&self, took: Duration, change_sets: usize) {
        self.commit_seconds.observe(took.as_secs_f64());
        self.commits.inc_by(change_sets as u64);
    }

    pub(crate) fn sign_in_failed(&self, why: SignInFailure) {
        self.sign_in_failures.get_or_create(&ReasonLabels { reason: why.as_str() }).inc();
    }
}
