//! [`Deputy`]: the published state, the writer, and catching up from the store.

use crate::telemetry::Telemetry;
use arc_swap::ArcSwap;
use deputy_core::{Actor, Catalog, Change, CommandError, Decided, State, Tx};
use deputy_store::{Checkpoint, Commit, NewActivity, Revision, Store, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// Why a use case failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The command was refused by the rules; nothing changed.
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The change log cannot be replayed.
    #[error("change log is damaged at revision {revision}: {message}")]
    Replay { revision: Revision, message: String },
    /// A consistency token asks for a revision this process did not reach within the
    /// token wait (R63e): try again shortly.
    #[error("revision {wanted} is not known yet (newest is {head})")]
    FutureRevision { wanted: Revision, head: Revision },
    #[error("the deployment is not initialised: run `deputy init`")]
    NotInitialised,
    /// A consistency token from before a restore (R66).
    #[error(
        "consistency token `{token}` is from another epoch of this deployment (it was restored from a backup); fetch a new one"
    )]
    StaleEpoch { token: Token },
    #[error("`{0}` is not a consistency token (expected EPOCH.REVISION)")]
    BadToken(String),
}

/// A consistency token (R50, R66): the epoch and revision a write reached, written
/// `EPOCH.REVISION` with the epoch in hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub epoch: u64,
    pub revision: Revision,
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:x}.{}", self.epoch, self.revision)
    }
}

impl std::str::FromStr for Token {
    type Err = ServiceError;
    fn from_str(text: &str) -> Result<Token, ServiceError> {
        let bad = || ServiceError::BadToken(text.to_owned());
        let (epoch, revision) = text.split_once('.').ok_or_else(bad)?;
        Ok(Token {
            epoch: u64::from_str_radix(epoch, 16).map_err(|_| bad())?,
            revision: revision.parse().map_err(|_| bad())?,
        })
    }
}

/// The answer to a write: what the command returned and the revision that holds it.
#[derive(Debug, Clone)]
pub struct Committed<T> {
    pub output: T,
    pub revision: Revision,
    pub epoch: u64,
}

impl<T> Committed<T> {
    /// The consistency token to present to later reads (R50).
    pub fn token(&self) -> Token {
        Token { epoch: self.epoch, revision: self.revision }
    }
}

/// How long a read waits for a revision it was shown but this process has not reached
/// (R63e): another replica's commit is in the store already, so it is seconds at most.
const TOKEN_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// How many change sets are replayed before `open` writes a checkpoint.
const CHECKPOINT_AFTER: usize = 5_000;

/// What became of a decided change set that waited for a group commit.
#[derive(Debug)]
enum Outcome {
    Durable(Revision),
    /// Its batch, or one before it, was not written: decide again on fresh state.
    Retry,
    Failed(String),
}

/// Change sets decided but not yet durable. Writers decide one after another on `tip`;
/// whichever writer holds the flush lock commits everything queued in one store
/// transaction (one fsync for many writers) and only then publishes the state.
struct Queue {
    /// The published state plus every change set in `pending`.
    tip: Arc<State>,
    pending: Vec<(u64, Commit)>,
    next_ticket: u64,
    outcomes: HashMap<u64, Outcome>,
}

/// A deployment served from memory and made durable through a [`Store`].
pub struct Deputy<S: Store> {
    store: S,
    epoch: u64,
    /// What checks read: only ever durable state.
    current: ArcSwap<State>,
    queue: Mutex<Queue>,
    /// Held while a batch is written and published; `current` changes only under it.
    flusher: Mutex<()>,
    clock: Box<dyn Fn() -> i64 + Send + Sync>,
    /// How long a read asked for a revision this process has not reached waits for it
    /// (R63e).
    token_wait: std::time::Duration,
    /// Things the operator should hear about that did not stop the deployment.
    warnings: Mutex<Vec<String>>,
    telemetry: Telemetry,
}

/// Locks, recovering from a poisoned lock: the guarded data is always left consistent
/// before anything that could panic.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl<S: Store> std::fmt::Debug for Deputy<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deputy")
            .field("epoch", &self.epoch)
            .field("revision", &self.current.load().revision)
            .finish()
    }
}

fn system_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl<S: Store> Deputy<S> {
    /// Opens a deployment: loads the newest checkpoint and replays the change feed after it.
    pub fn open(store: S) -> Result<Self, ServiceError> {
        let epoch = store.epoch()?;
        let mut state = load_checkpoint(&store)?;
        let replayed = catch_up(&store, &mut state)?;
        let state = Arc::new(state);
        let deputy = Deputy {
            store,
            epoch,
            current: ArcSwap::new(state.clone()),
            queue: Mutex::new(Queue {
                tip: state,
                pending: Vec::new(),
                next_ticket: 0,
                outcomes: HashMap::new(),
            }),
            flusher: Mutex::new(()),
            warnings: Mutex::new(Vec::new()),
            clock: Box::new(system_clock),
            token_wait: TOKEN_WAIT,
            telemetry: Telemetry::default(),
        };
        if replayed >= CHECKPOINT_AFTER {
            // A checkpoint only shortens the next start: failing to write one loses
            // nothing, so it is reported, not fatal.
            if let Err(e) = deputy.checkpoint() {
                lock(&deputy.warnings).push(format!("could not save a checkpoint: {e}"));
            }
        }
        Ok(deputy)
    }

    /// Replaces how long a read waits for a revision it was shown but has not reached
    /// (R63e; 2 s by default).
    pub fn with_token_wait(mut self, wait: std::time::Duration) -> Self {
        self.token_wait = wait;
        self
    }

    /// Replaces the clock (tests pin time to check expiry).
    pub fn with_clock(mut self, clock: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// The series operators read through `/metrics` (R62).
    pub fn telemetry(&self) -> &Telemetry {
        &self.telemetry
    }

    /// How many revisions the store holds beyond the state checks read: zero for a
    /// process that made every write itself; another writer's changes show here until
    /// they are replayed (R63a).
    pub fn revision_lag(&self) -> Result<u64, ServiceError> {
        let head = self.store.head()?;
        Ok(head.saturating_sub(self.current.load().revision))
    }

    /// Problems that did not stop the deployment (a checkpoint that could not be saved).
    pub fn warnings(&self) -> Vec<String> {
        lock(&self.warnings).clone()
    }

    pub fn now(&self) -> i64 {
        (self.clock)()
    }

    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// The newest published state. Lock-free: never waits for a writer (R56).
    pub fn snapshot(&self) -> Arc<State> {
        self.current.load_full()
    }

    /// A state at least as fresh as `revision` (R50): catches up from the store when
    /// another replica wrote it, and waits for it up to the token wait (R63e), never
    /// answering from older data. Blocks: call it off an async runtime's workers.
    pub fn snapshot_at_least(&self, revision: Revision) -> Result<Arc<State>, ServiceError> {
        let current = self.snapshot();
        if current.revision >= revision {
            return Ok(current);
        }
        let started = std::time::Instant::now();
        loop {
            self.refresh()?;
            let current = self.snapshot();
            if current.revision >= revision {
                return Ok(current);
            }
            let left = self.token_wait.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(ServiceError::FutureRevision {
                    wanted: revision,
                    head: current.revision,
                });
            }
            std::thread::sleep(left.min(std::time::Duration::from_millis(10)));
        }
    }

    /// A state at least as fresh as the token, refusing tokens of another epoch (R50, R66).
    pub fn snapshot_for(&self, token: Token) -> Result<Arc<State>, ServiceError> {
        if token.epoch != self.epoch {
            return Err(ServiceError::StaleEpoch { token });
        }
        self.snapshot_at_least(token.revision)
    }

    /// The token of the newest published state.
    pub fn token(&self) -> Token {
        Token { epoch: self.epoch, revision: self.snapshot().revision }
    }

    /// Follows the store (R63a): when another process committed (the CLI on the same
    /// file, another replica), replays what it wrote so checks see it. Cheap when nothing
    /// changed: one read of the store's head. Returns how many revisions it caught up.
    pub fn follow(&self) -> Result<u64, ServiceError> {
        let before = self.current.load().revision;
        if self.store.head()? <= before {
            return Ok(0);
        }
        self.refresh()?;
        Ok(self.current.load().revision.saturating_sub(before))
    }

    /// Catches up with changes other replicas committed.
    pub fn refresh(&self) -> Result<(), ServiceError> {
        let _flush = lock(&self.flusher);
        let mut queue = lock(&self.queue);
        if !queue.pending.is_empty() {
            // A batch is about to be written; it will meet any newer revision as a
            // conflict and catch up then.
            return Ok(());
        }
        let mut state = (*self.snapshot()).clone();
        if catch_up(&self.store, &mut state)? > 0 {
            let state = Arc::new(state);
            self.current.store(state.clone());
            queue.tip = state;
        }
        Ok(())
    }

    /// Whether the deployment has its root tenant.
    pub fn is_initialised(&self) -> bool {
        self.snapshot().root().is_some()
    }

    /// Decides and commits a command (the only way state changes). Returns once the change
    /// is durable and visible to checks. Concurrent writers share one fsync (group commit).
    pub fn execute<T>(
        &self,
        actor: Actor,
        source: Option<&str>,
        command: impl Fn(&mut Tx) -> Result<T, CommandError>,
    ) -> Result<Committed<T>, ServiceError> {
        for _attempt in 0..16 {
            let (ticket, output) = {
                let mut queue = lock(&self.queue);
                let now = self.now();
                let decided = queue.tip.decide(actor, now, &command)?;
                let commit = to_commit(&actor, source, now, &decided)?;
                let ticket = queue.next_ticket;
                queue.next_ticket += 1;
                queue.pending.push((ticket, commit));
                let Decided { next, output, .. } = decided;
                queue.tip = Arc::new(next);
                (ticket, output)
            };
            match self.flush_until(ticket) {
                Outcome::Durable(revision) => {
                    return Ok(Committed { output, revision, epoch: self.epoch });
                }
                // Another replica wrote first (or a batch before ours failed): decide
                // again on fresh state, so R5 holds when two writers race.
                Outcome::Retry => continue,
                Outcome::Failed(message) => return Err(StoreError::Backend(message).into()),
            }
        }
        Err(StoreError::Backend("too many revision conflicts in a row".into()).into())
    }

    /// Waits until the change set with `ticket` was written, writing the queued batch
    /// itself when no one else is.
    fn flush_until(&self, ticket: u64) -> Outcome {
        let _flush = lock(&self.flusher);
        let (tickets, commits, tip) = {
            let mut queue = lock(&self.queue);
            if let Some(outcome) = queue.outcomes.remove(&ticket) {
                return outcome;
            }
            let (tickets, commits): (Vec<u64>, Vec<Commit>) =
                std::mem::take(&mut queue.pending).into_iter().unzip();
            (tickets, commits, queue.tip.clone())
        };
        let base = self.current.load().revision;
        let started = std::time::Instant::now();
        let result = self.store.commit_batch(base, &commits);
        let committed = if result.is_ok() { commits.len() } else { 0 };
        self.telemetry.committed(started.elapsed(), committed);
        let mut queue = lock(&self.queue);
        match result {
            Ok(_) => {
                self.current.store(tip);
                for (i, t) in tickets.iter().enumerate() {
                    queue.outcomes.insert(*t, Outcome::Durable(base + i as u64 + 1));
                }
            }
            Err(error) => {
                let conflict = matches!(error, StoreError::Conflict { .. });
                if conflict {
                    self.telemetry.commit_conflicts.inc();
                }
                let mut fresh = (*self.snapshot()).clone();
                let caught_up =
                    if conflict { catch_up(&self.store, &mut fresh).map(|_| ()) } else { Ok(()) };
                if caught_up.is_ok() && conflict {
                    self.current.store(Arc::new(fresh));
                }
                queue.tip = self.snapshot();
                let failed = match (&caught_up, conflict) {
                    (Ok(()), true) => None,
                    (Err(e), _) => Some(e.to_string()),
                    (Ok(()), false) => Some(error.to_string()),
                };
                for t in tickets {
                    queue
                        .outcomes
                        .insert(t, failed.clone().map_or(Outcome::Retry, Outcome::Failed));
                }
                // Everything queued meanwhile was decided on top of the failed batch.
                for (t, _) in std::mem::take(&mut queue.pending) {
                    queue.outcomes.insert(t, Outcome::Retry);
                }
            }
        }
        queue.outcomes.remove(&ticket).unwrap_or(Outcome::Retry)
    }

    /// Loads a catalog and creates the root tenant of a new deployment (R25, R60).
    pub fn initialise(
        &self,
        catalog_toml: Option<&str>,
        root_key: &str,
        root_name: &str,
    ) -> Result<Committed<deputy_core::TenantId>, ServiceError> {
        let catalog = match catalog_toml {
            Some(text) => Catalog::from_toml(text)
                .map_err(|e| CommandError::invalid("catalog", e.to_string()))?,
            None => Catalog::shipped(),
        };
        let toml = catalog.source.clone();
        let key = root_key.to_owned();
        let name = root_name.to_owned();
        self.execute(Actor::System, None, move |tx| tx.init_deployment(&toml, &key, &name))
    }

    /// Imports a whole deployment (an export's changes) into an empty database, in
    /// revisions of at most `batch` changes. Everything is replayed on a scratch state
    /// first, so a damaged export is refused before anything is written. `progress` hears
    /// (changes committed, changes in all) after each batch.
    pub fn import(
        &self,
        changes: &[Change],
        batch: usize,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Revision, ServiceError> {
        let _flush = lock(&self.flusher);
        let mut queue = lock(&self.queue);
        let base = self.snapshot();
        if base.revision != 0 || !queue.pending.is_empty() {
            return Err(CommandError::conflict(None, None, "import needs an empty database").into());
        }
        if !matches!(changes.first(), Some(Change::Catalog { .. })) {
            return Err(
                CommandError::invalid("changes", "an export starts with its catalog").into()
            );
        }
        let batch = batch.max(1);
        let mut next = (*base).clone();
        for chunk in changes.chunks(batch) {
            next.apply(chunk).map_err(|e| CommandError::invalid("changes", e.to_string()))?;
        }
        if next.root().is_none() {
            return Err(CommandError::invalid("changes", "the export has no root tenant").into());
        }
        let mut revision = 0;
        let mut done = 0;
        for chunk in changes.chunks(batch) {
            let now = self.now();
            let payload =
                serde_json::to_string(chunk).map_err(|e| StoreError::Backend(e.to_string()))?;
            let activity = vec![NewActivity {
                at_ms: now,
                action: "deployment.imported".into(),
                actor: Some("system".into()),
                acting_as: "[]".into(),
                details: serde_json::json!({"changes": chunk.len(), "from": done}).to_string(),
                ..NewActivity::default()
            }];
            revision = self.store.commit(revision, &Commit { at_ms: now, payload, activity })?;
            done += chunk.len();
            progress(done, changes.len());
        }
        let next = Arc::new(next);
        self.current.store(next.clone());
        queue.tip = next;
        Ok(revision)
    }

    /// Writes a checkpoint of the current state, so the next start replays less.
    pub fn checkpoint(&self) -> Result<Revision, ServiceError> {
        let state = self.snapshot();
        let blob = checkpoint_blob(&state)?;
        self.store.save_checkpoint(&Checkpoint { revision: state.revision, blob })?;
        Ok(state.revision)
    }
}

/// Changes per line of a checkpoint.
const CHECKPOINT_LINE: usize = 8_192;

/// Serializes a state for [`Store::save_checkpoint`]: lines of at most `CHECKPOINT_LINE`
/// changes, so a cold start parses and applies one line at a time instead of holding the
/// whole list (see `load_checkpoint`).
pub fn checkpoint_blob(state: &State) -> Result<Vec<u8>, ServiceError> {
    let mut blob = Vec::new();
    for line in state.to_changes().chunks(CHECKPOINT_LINE) {
        serde_json::to_writer(&mut blob, line).map_err(|e| StoreError::Backend(e.to_string()))?;
        blob.push(b'\n');
    }
    Ok(blob)
}

/// Builds the state of the newest checkpoint (or an empty one). A checkpoint is lines of
/// JSON arrays of changes (an older one is a single line); the store hands it over in
/// parts, a second thread cuts and parses lines while this one applies them, so neither the
/// blob nor the parsed list is ever whole in memory.
fn load_checkpoint<S: Store>(store: &S) -> Result<State, ServiceError> {
    let mut state = State::new(Catalog::shipped());
    let revision = std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<Change>>(4);
        let reader = scope.spawn(move || {
            let mut pending: Vec<u8> = Vec::new();
            let send_lines = |pending: &mut Vec<u8>, last: bool| -> Result<(), StoreError> {
                let end = if last {
                    pending.len()
                } else {
                    match pending.iter().rposition(|b| *b == b'\n') {
                        Some(i) => i + 1,
                        None => return Ok(()),
                    }
                };
                for line in pending[..end].split(|b| *b == b'\n') {
                    if line.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    let changes = serde_json::from_slice(line)
                        .map_err(|e| StoreError::Corrupt(format!("checkpoint: {e}")))?;
                    // A closed channel means the applier stopped on an error.
                    sender
                        .send(changes)
                        .map_err(|_| StoreError::Corrupt("checkpoint: applier stopped".into()))?;
                }
                pending.drain(..end);
                Ok(())
            };
            let revision = store.load_checkpoint_parts(&mut |part| {
                pending.extend_from_slice(&part);
                drop(part);
                send_lines(&mut pending, false)
            })?;
            send_lines(&mut pending, true)?;
            Ok::<_, StoreError>(revision)
        });
        let mut applied = Ok(());
        for changes in receiver {
            if applied.is_ok() {
                applied = state.load(changes);
            }
            // After an error keep draining, so the reader finishes.
        }
        let revision = reader
            .join()
            .map_err(|_| StoreError::Backend("checkpoint reader panicked".into()))??;
        Ok::<_, ServiceError>((revision, applied))
    });
    let (revision, applied) = revision?;
    if let Some(revision) = revision {
        applied.map_err(|e| ServiceError::Replay { revision, message: e.to_string() })?;
        state.revision = revision;
    }
    Ok(state)
}

/// Applies every committed change set after the state's revision.
fn catch_up<S: Store>(store: &S, state: &mut State) -> Result<usize, ServiceError> {
    // Reading and parsing run on a second thread while this one applies: on a large
    // deployment's cold start the two take about as long as each other.
    let start = state.revision;
    std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel(4);
        scope.spawn(move || {
            let mut after = start;
            loop {
                // A few revisions at a time: an imported revision can hold megabytes.
                let batch = match store.changes_after(after, 16) {
                    Ok(batch) => batch,
                    Err(e) => {
                        let _ = sender.send(Err(ServiceError::from(e)));
                        return;
                    }
                };
                if batch.is_empty() {
                    return;
                }
                for c in batch {
                    after = c.revision;
                    let parsed = serde_json::from_str::<Vec<Change>>(&c.payload)
                        .map(|changes| (c.revision, changes))
                        .map_err(|e| ServiceError::Replay {
                            revision: c.revision,
                            message: e.to_string(),
                        });
                    let failed = parsed.is_err();
                    // A closed channel means the applier stopped on an error.
                    if sender.send(parsed).is_err() || failed {
                        return;
                    }
                }
            }
        });
        let mut n = 0;
        for item in receiver {
            let (revision, changes) = item?;
            if revision != state.revision + 1 {
                return Err(ServiceError::Replay {
                    revision,
                    message: format!("expected revision {}", state.revision + 1),
                });
            }
            state
                .apply_owned(changes)
                .map_err(|e| ServiceError::Replay { revision, message: e.to_string() })?;
            n += 1;
        }
        Ok(n)
    })
}

fn actor_label(actor: &Actor) -> String {
    match actor {
        Actor::System => "system".to_owned(),
        Actor::Principal { id, ctx } => {
            ctx.impersonation.map_or_else(|| id.to_string(), |i| i.actor.to_string())
        }
    }
}

fn to_commit<T>(
    actor: &Actor,
    source: Option<&str>,
    now: i64,
    decided: &Decided<T>,
) -> Result<Commit, ServiceError> {
    let payload =
        serde_json::to_string(&decided.changes).map_err(|e| StoreError::Backend(e.to_string()))?;
    let acting_as = match actor {
        Actor::System => serde_json::json!([]),
        Actor::Principal { id, ctx } => {
            let mut chain = Vec::new();
            if let Some(c) = ctx.switched {
                chain.push(serde_json::json!({"switched_into": c.to_string()}));
            }
            if ctx.impersonation.is_some() {
                chain.push(serde_json::json!({"impersonating": id.to_string()}));
            }
            serde_json::Value::Array(chain)
        }
    };
    let activity = decided
        .events
        .iter()
        .map(|e| NewActivity {
            at_ms: now,
            action: e.action.to_owned(),
            actor: Some(actor_label(actor)),
            subject: e.subject.clone(),
            tenant: e.tenant.map(|t| t.to_string()),
            acting_as: acting_as.to_string(),
            source: source.map(str::to_owned),
            details: e.details.to_string(),
        })
        .collect();
    Ok(Commit { at_ms: now, payload, activity })
}
