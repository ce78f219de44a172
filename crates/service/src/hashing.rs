//! Password hashing with bounded concurrency and reused memory (R15).
//!
//! Every Argon2id hash needs its cost's memory (19 MiB by default). Unbounded, a burst of
//! anonymous sign-ins holds one buffer per request in flight and exhausts the machine. So
//! hashing takes a permit first: at most `permits` hashes run at once (by default one per
//! core), at most `queue` more wait for a permit, briefly, and beyond them the caller is
//! told to come back later ([`Busy`], answered `503` with `Retry-After`). Each permit owns
//! one memory buffer that is reused from hash to hash, so memory stays at
//! `permits × cost` whatever the load, and nothing is left behind after a burst.

use crate::passwords::{HashCost, PasswordError};
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Too many hashes running and waiting: try again in a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many sign-ins at once; try again in a moment")]
pub struct Busy;

/// How many hashes may run and wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLimits {
    /// Hashes running at once.
    pub permits: usize,
    /// Callers waiting for a permit; more are refused at once.
    pub queue: usize,
    /// The longest a caller waits for a permit before it is refused.
    pub max_wait: Duration,
}

impl HashLimits {
    /// One hash per core, four waiting per core, at most two seconds of waiting.
    pub fn for_this_machine() -> HashLimits {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        HashLimits { permits: cores, queue: 4 * cores, max_wait: Duration::from_secs(2) }
    }
}

#[derive(Debug)]
struct Gate {
    waiting: usize,
    /// One buffer per free permit; a permit in use holds its own.
    free: Vec<Vec<Block>>,
}

/// Hashes and verifies passwords, never more at once than its limits allow.
#[derive(Debug)]
pub struct Hasher {
    cost: HashCost,
    limits: HashLimits,
    gate: Mutex<Gate>,
    freed: Condvar,
}

/// A permit to hash, with its memory; gives both back when dropped.
#[derive(Debug)]
pub struct Permit<'h> {
    hasher: &'h Hasher,
    memory: Vec<Block>,
}

impl Hasher {
    pub fn new(cost: HashCost, limits: HashLimits) -> Hasher {
        let permits = limits.permits.max(1);
        // Buffers are allocated on first use, so an idle server holds none.
        let free = (0..permits).map(|_| Vec::new()).collect();
        Hasher {
            cost,
            limits: HashLimits { permits, ..limits },
            gate: Mutex::new(Gate { waiting: 0, free }),
            freed: Condvar::new(),
        }
    }

    pub fn cost(&self) -> HashCost {
        self.cost
    }

    fn lock(&self) -> MutexGuard<'_, Gate> {
        self.gate.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A permit, waiting in the queue when all are taken; [`Busy`] when the queue is full
    /// or the wait runs out.
    pub fn permit(&self) -> Result<Permit<'_>, Busy> {
        let mut gate = self.lock();
        if let Some(memory) = gate.free.pop() {
            return Ok(Permit { hasher: self, memory });
        }
        if gate.waiting >= self.limits.queue {
            return Err(Busy);
        }
        gate.waiting += 1;
        let deadline = Instant::now() + self.limits.max_wait;
        let memory = loop {
            if let Some(memory) = gate.free.pop() {
                break Some(memory);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break None;
            }
            gate = self.freed.wait_timeout(gate, left).unwrap_or_else(PoisonError::into_inner).0;
        };
        gate.waiting -= 1;
        memory.map(|memory| Permit { hasher: self, memory }).ok_or(Busy)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let memory = std::mem::take(&mut self.memory);
        self.hasher.lock().free.push(memory);
        self.hasher.freed.notify_one();
    }
}

fn hashing_error(e: impl std::fmt::Display) -> PasswordError {
    PasswordError::Hashing(e.to_string())
}

impl Permit<'_> {
    /// This permit's memory, grown to `blocks` if it is smaller (it is kept grown).
    fn memory(&mut self, blocks: usize) -> &mut [Block] {
        if self.memory.len() < blocks {
            self.memory.resize(blocks, Block::default());
        }
        &mut self.memory[..blocks]
    }

    /// The PHC string of a new Argon2id hash of `password` with a random salt, at the
    /// hasher's cost.
    pub fn hash(&mut self, password: &str) -> Result<String, PasswordError> {
        let cost = self.hasher.cost;
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(hashing_error)?;
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(hashing_error)?;
        let salt_string = SaltString::encode_b64(&salt).map_err(hashing_error)?;
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        argon
            .hash_password_into_with_memory(
                password.as_bytes(),
                &salt,
                &mut out,
                self.memory(params.block_count()),
            )
            .map_err(hashing_error)?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(hashing_error)?,
            salt: Some(salt_string.as_salt()),
            hash: Some(Output::new(&out).map_err(hashing_error)?),
        };
        Ok(phc.to_string())
    }

    /// Whether `password` matches the stored `phc`, with the parameters the hash was made
    /// with (older, cheaper hashes still verify). The comparison is constant-time
    /// (`Output`'s equality). A malformed hash never matches.
    pub fn verify(&mut self, password: &str, phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else { return false };
        let (Ok(algorithm), Ok(params)) =
            (Algorithm::try_from(parsed.algorithm), Params::try_from(&parsed))
        else {
            return false;
        };
        let version = parsed.version.map_or(Ok(Version::V0x13), Version::try_from);
        let (Ok(version), Some(salt), Some(expected)) = (version, parsed.salt, parsed.hash) else {
            return false;
        };
        let mut salt_bytes = [0u8; 64];
        let Ok(salt) = salt.decode_b64(&mut salt_bytes) else { return false };
        let mut out = [0u8; 64];
        let Some(out) = out.get_mut(..expected.len()) else { return false };
        let blocks = params.block_count();
        let argon = Argon2::new(algorithm, version, params);
        if argon
            .hash_password_into_with_memory(password.as_bytes(), salt, out, self.memory(blocks))
            .is_err()
        {
            return false;
        }
        Output::new(out).is_ok_and(|computed| computed == expected)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const CHEAP: HashCost = HashCost { memory_kib: 1024, iterations: 1, parallelism: 1 };

    #[test]
    fn r15_pooled_hashes_verify_and_interoperate_with_the_argon2_crate() {
        let hasher = Hasher::new(HashCost::DEFAULT, HashLimits::for_this_machine());
        let phc = hasher.permit().unwrap().hash("correct horse battery staple").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        let mut permit = hasher.permit().unwrap();
        assert!(permit.verify("correct horse battery staple", &phc));
        assert!(!permit.verify("correct horse battery stapl", &phc));
        assert!(!permit.verify("correct horse battery staple", "not a hash"));
        // Hashes made by the crate's own API verify here, and ours there.
        let theirs = crate::passwords::hash("correct horse battery staple", CHEAP).unwrap();
        assert!(permit.verify("correct horse battery staple", &theirs));
        assert!(crate::passwords::verify("correct horse battery staple", &phc));
    }

    #[test]
    fn r15_no_more_hashes_run_than_permits_and_the_queue_is_bounded() {
        let limits = HashLimits { permits: 2, queue: 3, max_wait: Duration::from_secs(30) };
        let hasher = Arc::new(Hasher::new(CHEAP, limits));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let busy = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..40)
            .map(|_| {
                let (hasher, running, most, busy) =
                    (hasher.clone(), running.clone(), most.clone(), busy.clone());
                std::thread::spawn(move || match hasher.permit() {
                    Ok(mut permit) => {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        let phc = permit.hash("correct horse battery staple").unwrap();
                        std::thread::sleep(Duration::from_millis(20));
                        running.fetch_sub(1, Ordering::SeqCst);
                        assert!(permit.verify("correct horse battery staple", &phc));
                    }
                    Err(Busy) => {
                        busy.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(most.load(Ordering::SeqCst) <= 2, "at most two at once");
        // 40 callers, 2 running and 3 waiting at most at any instant: many were refused.
        assert!(busy.load(Ordering::SeqCst) > 0);
        // Every buffer came back.
        assert_eq!(hasher.lock().free.len(), 2);
    }

    #[test]
    fn r15_a_wait_for_a_permit_is_bounded() {
        let limits = HashLimits { permits: 1, queue: 1, max_wait: Duration::from_millis(50) };
        let hasher = Hasher::new(CHEAP, limits);
        let held = hasher.permit().unwrap();
        let started = Instant::now();
        assert_eq!(hasher.permit().err(), Some(Busy));
        assert!(started.elapsed() >= Duration::from_millis(50));
        drop(held);
        assert!(hasher.permit().is_ok());
    }
}
