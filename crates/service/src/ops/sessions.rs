//! Switching tenants (R43) and impersonation (R48, R49, R68). Each rotates the session
//! (R23): the old token stops working and the answer carries a new one.

use super::names;
use crate::Token;
use crate::auth::{Auth, AuthError, Caller, NewSession, SessionData};
use crate::deputy::ServiceError;
use deputy_core::commands::access::MAX_IMPERSONATION_MS;
use deputy_core::{CommandError, ErrorKind};
use deputy_store::Store;
use deputy_store::secrets::SecretStore;

/// What a session change gives back: the new session and the token of its revision.
pub type Rotated = (NewSession, Token);

/// A name the asker cannot see answers as a missing one (R58), whatever refused it.
fn unseen_as(e: ServiceError, missing: impl FnOnce() -> CommandError) -> AuthError {
    match e {
        ServiceError::Command(c) if c.kind == ErrorKind::NotFound => {
            AuthError::Service(missing().into())
        }
        other => other.into(),
    }
}

/// Switches the session into a client tenant reached through a partner grant, or back
/// home (R43).
pub fn switch<S: Store + SecretStore>(
    ctx: &Auth<S>,
    caller: &Caller,
    source: Option<&str>,
    tenant: &str,
) -> Result<Rotated, AuthError> {
    let missing = || CommandError::unknown("tenant", format!("no tenant `{tenant}`"));
    let committed = ctx
        .deputy()
        .execute(caller.actor(), source, |tx| {
            let t = names::tenant(tx.state(), tenant, "tenant")?;
            tx.switch_tenant(t)
        })
        .map_err(|e| unseen_as(e, missing))?;
    let data =
        SessionData { switched: committed.output.switched.map(|t| t.0), ..caller.data.clone() };
    Ok((ctx.rotate(caller, data)?, committed.token()))
}

/// What an impersonation asks for (R48).
#[derive(Debug, Clone)]
pub struct Impersonate<'a> {
    /// The principal to act as, by logon or id.
    pub target: &'a str,
    /// Why, kept in the activity log and shown in the banner.
    pub reason: &'a str,
    /// How long; at most (and by default) the deployment's maximum.
    pub minutes: Option<i64>,
    /// Mail the target that support is acting as them.
    pub notify_target: bool,
}

/// Starts impersonating (R48, R49, R68).
pub fn impersonate<S: Store + SecretStore>(
    ctx: &Auth<S>,
    caller: &Caller,
    source: Option<&str>,
    ask: Impersonate<'_>,
) -> Result<Rotated, AuthError> {
    let missing = || CommandError::unknown("target", format!("no principal `{}`", ask.target));
    let minutes = ask.minutes.unwrap_or(MAX_IMPERSONATION_MS / 60_000);
    let committed = ctx
        .deputy()
        .execute(caller.actor(), source, |tx| {
            let target = names::principal(tx.state(), ask.target, "target")?;
            let started = tx.start_impersonation(
                target,
                ask.reason,
                minutes.saturating_mul(60_000),
                MAX_IMPERSONATION_MS,
            )?;
            Ok((target, started))
        })
        .map_err(|e| unseen_as(e, missing))?;
    let (target, started) = committed.output;
    let data = SessionData {
        impersonating: Some(target.0),
        impersonation_expires_ms: Some(started.expires_at),
        ..caller.data.clone()
    };
    if ask.notify_target {
        let s = ctx.deputy().snapshot();
        let who = s
            .principal(caller.principal)
            .map_or_else(|| caller.principal.to_string(), |p| p.display_name());
        ctx.notify(
            target,
            "Your account is being accessed by support",
            &format!(
                "{who} is acting as you for up to {minutes} minutes.\nReason: {}\n",
                ask.reason
            ),
        )?;
    }
    let token = Token { epoch: committed.epoch, revision: committed.revision };
    Ok((ctx.rotate(caller, data)?, token))
}

/// Stops impersonating: back to the impersonator's own session.
pub fn stop_impersonating<S: Store + SecretStore>(
    ctx: &Auth<S>,
    caller: &Caller,
    source: Option<&str>,
) -> Result<Rotated, AuthError> {
    let committed = ctx.deputy().execute(caller.actor(), source, |tx| tx.stop_impersonation())?;
    let data =
        SessionData { impersonating: None, impersonation_expires_ms: None, ..caller.data.clone() };
    Ok((ctx.rotate(caller, data)?, committed.token()))
}
