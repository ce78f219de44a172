//! Deputy's service layer: the use cases the CLI, the API and the portal share.
//!
//! A write takes the writer lock, decides the command on the newest state with the engine,
//! commits the change set with a revision precondition (fsync before acknowledging), and
//! only then publishes the next state with one atomic pointer swap. Checks load the
//! published state without any lock, so they never wait for a writer (R56).

pub mod demo;
pub mod deputy;
pub mod tokens;
pub mod what_if;

pub use deputy::{Committed, Deputy, ServiceError};
pub use what_if::CheckItem;
