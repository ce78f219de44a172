//! Deputy's engine: the model of tenants, principals, roles, grants and groups; the
//! commands that change it under the rules of SPEC.md; and the checks that read it.
//!
//! Pure and synchronous: no IO, no clock (callers pass `now`), no async runtime. A
//! [`State`] is an immutable value at a revision; [`State::decide`] runs a command on a
//! scratch copy and returns the change set and the next state; [`State::apply`] replays a
//! change set. Checks ([`State::check`], [`State::explain`]) read a state and never wait.

pub mod catalog;
pub mod check;
pub mod commands;
pub mod cow_vec;
pub mod ids;
pub mod lookup;
pub mod model;
pub mod name_index;
pub mod names;
pub mod perm_set;
pub mod review;
pub mod state;
pub mod tx;

pub use catalog::Catalog;
pub use check::{CheckError, Context, Decision, Explanation, Impersonation, Rank, Step, Target};
pub use ids::*;
pub use model::*;
pub use perm_set::PermSet;
pub use state::{ApplyError, Change, State};
pub use tx::{Actor, CommandError, Decided, ErrorKind, Event, Tx};
