//! The activity log's entries and its hash chain (R21, R22).
//!
//! Every backend stores the same fields and computes the same hash:
//! `hash = sha256(prev_hash ‖ canonical content)`, hex encoded, where the canonical content
//! is the JSON of [`CanonicalContent`] (fields in declaration order). The first entry's
//! `prev_hash` is [`GENESIS`].

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An activity entry to append; the store gives it a sequence number and its hashes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewActivity {
    pub at_ms: i64,
    /// What happened, as a stable dotted name (`user.created`, `signin.failed`).
    pub action: String,
    /// Who did it (a principal id, or `system` / `cli`).
    pub actor: Option<String>,
    /// Whom or what it was done to.
    pub subject: Option<String>,
    /// The tenant it happened in.
    pub tenant: Option<String>,
    /// The acting-as chain: switched tenant, impersonated principal (JSON array, `[]` when none).
    pub acting_as: String,
    /// The source address, when known.
    pub source: Option<String>,
    /// Action-specific details (a JSON object).
    pub details: String,
}

/// A stored activity entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityEntry {
    /// Position in the log, from 1, without gaps.
    pub seq: u64,
    /// The revision of the change it describes, if it describes one.
    pub revision: Option<u64>,
    pub entry: NewActivity,
    pub prev_hash: String,
    pub hash: String,
}

/// Filters for reading the activity log. Empty filters match everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityQuery {
    /// Only entries with `seq > after_seq`.
    pub after_seq: u64,
    pub limit: usize,
    /// Entries whose actor or subject is this principal.
    pub principal: Option<String>,
    pub tenant: Option<String>,
    /// Entries whose action starts with this prefix.
    pub action_prefix: Option<String>,
}

impl Default for ActivityQuery {
    fn default() -> Self {
        Self { after_seq: 0, limit: 100, principal: None, tenant: None, action_prefix: None }
    }
}

/// The exact bytes that are hashed, in a fixed field order.
#[derive(Serialize)]
struct CanonicalContent<'a> {
    seq: u64,
    revision: Option<u64>,
    at_ms: i64,
    action: &'a str,
    actor: Option<&'a str>,
    subject: Option<&'a str>,
    tenant: Option<&'a str>,
    acting_as: &'a str,
    source: Option<&'a str>,
    details: &'a str,
}

/// `sha256(prev_hash ‖ canonical content)` of an entry, hex encoded.
pub fn chain_hash(prev_hash: &str, seq: u64, revision: Option<u64>, entry: &NewActivity) -> String {
    let content = CanonicalContent {
        seq,
        revision,
        at_ms: entry.at_ms,
        action: &entry.action,
        actor: entry.actor.as_deref(),
        subject: entry.subject.as_deref(),
        tenant: entry.tenant.as_deref(),
        acting_as: &entry.acting_as,
        source: entry.source.as_deref(),
        details: &entry.details,
    };
    // Serializing a struct of strings and integers cannot fail.
    let bytes = serde_json::to_vec(&content).unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(&bytes);
    hex::encode(hasher.finalize())
}

/// The outcome of verifying the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyReport {
    /// Every entry's hash matched; `entries` were checked.
    Intact { entries: u64 },
    /// The first entry whose stored hashes do not match the recomputed ones.
    Broken { seq: u64, reason: String },
}

/// Verifies entries fed in order.
#[derive(Debug)]
pub(crate) struct ChainChecker {
    prev_hash: String,
    expected_seq: u64,
}

impl Default for ChainChecker {
    fn default() -> Self {
        Self { prev_hash: GENESIS.to_owned(), expected_seq: 1 }
    }
}

impl ChainChecker {
    pub(crate) fn feed(&mut self, entry: &ActivityEntry) -> Option<VerifyReport> {
        let broken = |reason: String| Some(VerifyReport::Broken { seq: entry.seq, reason });
        if entry.seq != self.expected_seq {
            return broken(format!(
                "expected entry {} next, found {}",
                self.expected_seq, entry.seq
            ));
        }
        if entry.prev_hash != self.prev_hash {
            return broken("its previous-hash does not match the entry before it".to_owned());
        }
        let recomputed = chain_hash(&self.prev_hash, entry.seq, entry.revision, &entry.entry);
        if recomputed != entry.hash {
            return broken("its content does not match its hash".to_owned());
        }
        self.prev_hash = recomputed;
        self.expected_seq += 1;
        None
    }

    pub(crate) fn finish(self) -> VerifyReport {
        VerifyReport::Intact { entries: self.expected_seq - 1 }
    }
}

/// Verifies a complete, ordered list of entries (used by tests and small exports).
pub fn verify_chain(entries: &[ActivityEntry]) -> VerifyReport {
    let mut checker = ChainChecker::default();
    for entry in entries {
        if let Some(report) = checker.feed(entry) {
            return report;
        }
    }
    checker.finish()
}
