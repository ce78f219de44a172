//! Deputy's service layer: the use cases the CLI, the API and the portal share.
//!
//! A write decides its command with the engine on the newest decided state, queues the
//! change set, and waits for a group commit: one writer at a time commits everything queued
//! in one store transaction with a revision precondition (one fsync for many writers), and
//! only then publishes the next state with one atomic pointer swap. Checks load the
//! published state without any lock, so they never wait for a writer (R56), and never see
//! a change before it is durable.

pub mod access_tokens;
pub mod auth;
pub mod demo;
pub mod deputy;
pub mod hashing;
pub mod lifecycle;
pub mod mail;
pub mod ops;
pub mod passwords;
pub mod resolve;
pub mod telemetry;
pub mod tokens;
pub mod what_if;

pub use deputy::{Committed, Deputy, ServiceError, Token, checkpoint_blob};
pub use what_if::CheckItem;
