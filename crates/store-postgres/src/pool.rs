//! A small bounded pool of blocking PostgreSQL clients.
//!
//! The port is synchronous and the service calls it from blocking threads, so a client is
//! taken for one call and handed back. At most [`Pool::max`] connections are open at once;
//! a caller beyond that waits for one to come back. A client whose connection broke is
//! dropped instead of returned, and the next caller opens a fresh one.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use deputy_store::StoreError;
use postgres::{Client, Config, NoTls};

/// Statements every new connection runs before it is used: Deputy's schema first on the
/// search path, and an fsync of the WAL before `COMMIT` returns (R64), whatever the server's
/// default is.
const SESSION_SETUP: &str = "SET search_path TO deputy, pg_catalog; \
     SET synchronous_commit TO on; \
     SET default_transaction_isolation TO 'read committed'";

pub(crate) struct Pool {
    config: Config,
    /// For messages: where the server is, without a password.
    location: String,
    max: usize,
    state: Mutex<State>,
    returned: Condvar,
}

struct State {
    idle: Vec<Client>,
    /// Connections open now, idle or lent out.
    open: usize,
}

impl Pool {
    pub(crate) fn new(config: Config, location: String, max: usize) -> Self {
        Self {
            config,
            location,
            max: max.max(1),
            state: Mutex::new(State { idle: Vec::new(), open: 0 }),
            returned: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is two plain fields, consistent between statements: usable after a panic.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `work` on a pooled client, opening one if none is idle and the pool has room.
    pub(crate) fn with_client<T>(
        &self,
        work: impl FnOnce(&mut Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut client = self.take()?;
        let result = work(&mut client);
        self.give_back(client);
        result
    }

    fn take(&self) -> Result<Client, StoreError> {
        let mut state = self.lock();
        loop {
            if let Some(client) = state.idle.pop() {
                return Ok(client);
            }
            if state.open < self.max {
                state.open += 1;
                drop(state);
                return self.connect().inspect_err(|_| {
                    self.lock().open -= 1;
                    self.returned.notify_one();
                });
            }
            state = self.returned.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn give_back(&self, client: Client) {
        let mut state = self.lock();
        if client.is_closed() {
            state.open -= 1;
        } else {
            state.idle.push(client);
        }
        drop(state);
        self.returned.notify_one();
    }

    /// A new connection, set up for Deputy.
    pub(crate) fn connect(&self) -> Result<Client, StoreError> {
        let mut client = self.config.connect(NoTls).map_err(|error| {
            StoreError::Backend(format!(
                "cannot connect to PostgreSQL at `{}`: {}",
                self.location,
                crate::describe(&error)
            ))
        })?;
        client.batch_execute(SESSION_SETUP).map_err(crate::pg_error)?;
        Ok(client)
    }
}
