//! The service as a scenario layer: the engine's commands run through [`Deputy::execute`],
//! committed to the store, and read back from the published snapshot at least as fresh as
//! the last write.

use crate::{Deputy, ServiceError};
use deputy_core::{Actor, CommandError, Millis, State, Tx};
use deputy_scenarios::commands::{Execute, Failed};
use deputy_scenarios::model::Layer;
use deputy_store::Store;
use std::sync::Arc;

/// A `Deputy` seen by the scenario driver; see [`deputy_scenarios::commands::Commands`].
#[derive(Debug)]
pub struct Service<'a, S: Store> {
    pub deputy: &'a Deputy<S>,
    /// The revision of the last write: reads wait for it (R50).
    revision: u64,
}

impl<'a, S: Store> Service<'a, S> {
    pub fn new(deputy: &'a Deputy<S>) -> Self {
        Service { deputy, revision: deputy.snapshot().revision }
    }
}

impl<S: Store> Execute for Service<'_, S> {
    fn layer(&self) -> Layer {
        Layer::Service
    }

    fn execute<T>(
        &mut self,
        actor: Actor,
        command: impl Fn(&mut Tx) -> Result<T, CommandError>,
    ) -> Result<T, Failed> {
        match self.deputy.execute(actor, None, command) {
            Ok(done) => {
                self.revision = done.revision;
                Ok(done.output)
            }
            Err(ServiceError::Command(e)) => Err(Failed::Refused(e)),
            Err(e) => Err(Failed::Broken(e.to_string())),
        }
    }

    fn state(&self) -> Result<Arc<State>, String> {
        self.deputy.snapshot_at_least(self.revision).map_err(|e| e.to_string())
    }

    fn now(&self) -> Millis {
        self.deputy.now()
    }
}
