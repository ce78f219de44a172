//! The Store port: how Deputy makes decided changes durable and reads them back.
//!
//! The engine (`deputy-core`) decides every change on an immutable in-memory state; the
//! store only has to keep an ordered, durable log of those decisions and hand it back.
//! That keeps every backend small and interchangeable:
//!
//! - a **commit** appends one change set as revision `expected + 1`, and only if the head is
//!   still `expected` (the revision precondition: two writers racing on different replicas
//!   cannot both win, which is what keeps R5 true under races);
//! - the **change feed** (`changes_after`) lets a replica catch up from any revision;
//! - a **checkpoint** is an opaque serialized state at a revision, so a cold start replays
//!   only the tail of the feed;
//! - the **activity log** (R21, R22) is append-only and hash-chained; its entries are
//!   written in the same transaction as the change they describe.
//!
//! The payloads are opaque strings: the service serializes the engine's change sets, so this
//! crate and its backends never depend on the engine's types.
//!
//! The suite every backend must pass is the `deputy-store-conformance` crate.

pub mod activity;
pub mod backend;
pub mod secrets;

pub use activity::{
    ActivityEntry, ActivityQuery, NewActivity, VerifyReport, chain_hash, verify_chain,
};
pub use backend::{Backend, BoxedBackend, Maintenance};

/// A monotonically increasing number given to every committed change set. Revision 0 is the
/// empty deployment.
pub type Revision = u64;

/// One change set to commit: the engine's serialized decision plus the activity entries
/// that describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// Milliseconds since the Unix epoch at which the change was decided.
    pub at_ms: i64,
    /// The serialized change set: a JSON document, otherwise opaque to the store (see
    /// [`Commit::check_replayable`]).
    pub payload: String,
    /// Activity entries appended in the same transaction, in order.
    pub activity: Vec<NewActivity>,
}

impl Commit {
    /// A backend writes only change sets a replica could replay: the payload must be a
    /// JSON document, else the commit (and its whole batch) is refused with
    /// [`StoreError::Invalid`] before anything is durable. Backends call this for each
    /// commit inside their transaction.
    pub fn check_replayable(&self) -> Result<(), StoreError> {
        serde_json::from_str::<serde::de::IgnoredAny>(&self.payload)
            .map(|_| ())
            .map_err(|e| StoreError::Invalid(format!("a change set must be a JSON document: {e}")))
    }
}

/// A change set as read back from the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedChange {
    pub revision: Revision,
    pub at_ms: i64,
    pub payload: String,
}

/// A serialized engine state at a revision, used to shorten cold starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub revision: Revision,
    pub blob: Vec<u8>,
}

/// Errors every backend reports the same way.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The revision precondition failed: somebody else committed first. The caller catches up
    /// and decides again.
    #[error("revision conflict: expected head {expected}, found {actual}")]
    Conflict { expected: Revision, actual: Revision },
    /// The database was written by a newer Deputy (R65).
    #[error(
        "database schema version {found} is newer than this binary supports ({supported}); upgrade deputy"
    )]
    TooNew { found: i64, supported: i64 },
    /// The database is not a Deputy database, or is damaged.
    #[error("database is not usable: {0}")]
    Corrupt(String),
    /// The data given cannot be stored as it is (a change set that is not JSON); nothing
    /// of the call was written.
    #[error("refused by the store: {0}")]
    Invalid(String),
    /// The backend failed (IO, driver); the message says how.
    #[error("storage backend failed: {0}")]
    Backend(String),
}

/// The port every storage backend implements.
///
/// INVARIANT: `commit` returns only after the change set and its activity entries are
/// durable (survive kill -9 and power loss), and a change set is visible to `changes_after`
/// exactly when its `commit` has returned `Ok`.
pub trait Store: Send + Sync {
    /// The deployment's epoch (R66): a restore starts a new one.
    fn epoch(&self) -> Result<u64, StoreError>;

    /// The newest committed revision (0 when nothing was ever committed).
    fn head(&self) -> Result<Revision, StoreError>;

    /// Appends `commit` as revision `expected + 1` if the head is still `expected`.
    fn commit(&self, expected: Revision, commit: &Commit) -> Result<Revision, StoreError>;

    /// Appends `commits` as revisions `expected + 1 ..= expected + n` if the head is still
    /// `expected`, all or nothing, durably, and returns the last revision (group commit:
    /// one fsync for many writers). A batch that fails anywhere (a conflict, a change set
    /// [`Commit::check_replayable`] refuses, an IO error) leaves nothing of itself behind.
    fn commit_batch(&self, expected: Revision, commits: &[Commit]) -> Result<Revision, StoreError>;

    /// Up to `limit` committed change sets with revision `> after`, oldest first.
    fn changes_after(
        &self,
        after: Revision,
        limit: usize,
    ) -> Result<Vec<CommittedChange>, StoreError>;

    /// Appends activity that changes no state (a failed sign-in, say), durably.
    fn append_activity(&self, entries: &[NewActivity]) -> Result<(), StoreError>;

    /// Activity entries matching `query`, oldest first, starting after `query.after_seq`.
    fn activity(&self, query: &ActivityQuery) -> Result<Vec<ActivityEntry>, StoreError>;

    /// Saves a checkpoint, replacing any older one.
    fn save_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError>;

    /// The newest checkpoint, if any.
    fn load_checkpoint(&self) -> Result<Option<Checkpoint>, StoreError>;

    /// The newest checkpoint handed over in consecutive byte parts (concatenated, they are
    /// its blob), so a large one is never all in memory at once; returns its revision.
    /// The default loads it whole; backends that store parts stream them.
    fn load_checkpoint_parts(
        &self,
        part: &mut dyn FnMut(Vec<u8>) -> Result<(), StoreError>,
    ) -> Result<Option<Revision>, StoreError> {
        match self.load_checkpoint()? {
            Some(checkpoint) => {
                part(checkpoint.blob)?;
                Ok(Some(checkpoint.revision))
            }
            None => Ok(None),
        }
    }
}

/// Walks the whole activity log of `store` and recomputes its hash chain (R22).
pub fn verify_activity(store: &dyn Store) -> Result<VerifyReport, StoreError> {
    const PAGE: usize = 10_000;
    let mut checker = activity::ChainChecker::default();
    let mut after_seq = 0;
    loop {
        let page = store.activity(&ActivityQuery {
            after_seq,
            limit: PAGE,
            ..ActivityQuery::default()
        })?;
        for entry in &page {
            if let Some(report) = checker.feed(entry) {
                return Ok(report);
            }
        }
        match page.last() {
            Some(last) if page.len() == PAGE => after_seq = last.seq,
            _ => return Ok(checker.finish()),
        }
    }
}

/// A boxed store is a store, so a backend can be chosen at run time (`Box<dyn Store>`).
impl<S: Store + ?Sized> Store for Box<S> {
    fn epoch(&self) -> Result<u64, StoreError> {
        (**self).epoch()
    }

    fn head(&self) -> Result<Revision, StoreError> {
        (**self).head()
    }

    fn commit(&self, expected: Revision, commit: &Commit) -> Result<Revision, StoreError> {
        (**self).commit(expected, commit)
    }

    fn commit_batch(&self, expected: Revision, commits: &[Commit]) -> Result<Revision, StoreError> {
        (**self).commit_batch(expected, commits)
    }

    fn changes_after(
        &self,
        after: Revision,
        limit: usize,
    ) -> Result<Vec<CommittedChange>, StoreError> {
        (**self).changes_after(after, limit)
    }

    fn append_activity(&self, entries: &[NewActivity]) -> Result<(), StoreError> {
        (**self).append_activity(entries)
    }

    fn activity(&self, query: &ActivityQuery) -> Result<Vec<ActivityEntry>, StoreError> {
        (**self).activity(query)
    }

    fn save_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        (**self).save_checkpoint(checkpoint)
    }

    fn load_checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        (**self).load_checkpoint()
    }

    fn load_checkpoint_parts(
        &self,
        part: &mut dyn FnMut(Vec<u8>) -> Result<(), StoreError>,
    ) -> Result<Option<Revision>, StoreError> {
        (**self).load_checkpoint_parts(part)
    }
}
