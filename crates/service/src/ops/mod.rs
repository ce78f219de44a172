//! Every write a shell offers: one typed function per operation, by area (the areas of
//! `deputy_core::commands`).
//!
//! An operation resolves the names it is given (tenant keys, logon names, role names, or
//! ids) on the state it decides on, lets the engine decide as the asker, waits until the
//! change is durable, and then does what follows a commit: ending secrets that must die,
//! queueing mail, forgetting cached credentials. HTTP, the CLI and the portal parse their
//! input, call one operation and render its answer, so a rule such as "deactivation ends
//! sessions" is written once, here, and holds in every shell. Refusals are the engine's
//! words ([`deputy_core::CommandError`]), so every shell refuses alike.
//!
//! Sign-in, sessions and links are the operations of [`crate::auth::Auth`] itself.

pub mod access;
pub mod groups;
pub mod names;
pub mod partners;
pub mod resources;
pub mod roles;
pub mod sessions;
pub mod tenants;
pub mod users;

use crate::Committed;
use crate::auth::{Auth, AuthError};
use deputy_core::{Actor, CommandError, Tx};
use deputy_store::Store;
use deputy_store::secrets::SecretStore;

/// Who asks, and where from (kept with the activity, R53): what every operation takes
/// besides its own arguments.
#[derive(Debug, Clone, Copy)]
pub struct Asker<'a> {
    pub actor: Actor,
    /// The client's address, for the activity log; none at the console.
    pub source: Option<&'a str>,
}

impl<'a> Asker<'a> {
    pub fn new(actor: Actor, source: Option<&'a str>) -> Asker<'a> {
        Asker { actor, source }
    }

    /// The deployment's operator at the console (the CLI without `--as`).
    pub const CONSOLE: Asker<'static> = Asker { actor: Actor::System, source: None };
}

/// Decides `command` as the asker and waits until it is durable.
fn run<S: Store + SecretStore, T>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    command: impl Fn(&mut Tx) -> Result<T, CommandError>,
) -> Result<Committed<T>, AuthError> {
    Ok(ctx.deputy().execute(by.actor, by.source, command)?)
}
