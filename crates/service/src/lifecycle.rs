//! Status changes and what dies with them (R11, R12, R13, R20, R23, R36), for every shell.
//!
//! The API, the portal and the CLI change a principal's status only through
//! [`crate::ops::users`] (and R44's replacements through [`crate::ops::partners`]), which
//! end these after the commit, so the same secrets end whichever shell made the change. They are also
//! refused at use on their own: every session, invitation and reset carries the
//! principal's status serial from when it was made ([`deputy_core::Principal::status_serial`]),
//! and one from before a status change no longer works, even if a revocation here was
//! never reached (another process, a crash between the commit and the deletion).

use crate::deputy::{Deputy, ServiceError};
use deputy_core::{PrincipalId, Status};
use deputy_store::Store;
use deputy_store::secrets::{SecretKind, SecretStore};

/// What a principal loses at a status change: its sessions (R23) and its pending links
/// (R12, R13). A cancelled one also loses its API keys (R20).
fn dying_kinds(status: Status) -> &'static [SecretKind] {
    const CHANGED: &[SecretKind] =
        &[SecretKind::Session, SecretKind::Invitation, SecretKind::PasswordReset];
    const CANCELLED: &[SecretKind] = &[
        SecretKind::Session,
        SecretKind::ApiKey,
        SecretKind::Invitation,
        SecretKind::PasswordReset,
    ];
    if status == Status::Cancelled { CANCELLED } else { CHANGED }
}

/// Deletes what must die after `principal`'s status changed, and the sessions of its
/// delegates (R36: a deactivated owner's delegates cannot act; a cancelled owner's are
/// cancelled with it). Returns the principals whose secrets were deleted, so a process
/// can drop them from its own caches.
pub fn revoke_after_status_change<S: Store + SecretStore>(
    deputy: &Deputy<S>,
    principal: PrincipalId,
) -> Result<Vec<PrincipalId>, ServiceError> {
    let s = deputy.snapshot();
    let mut pending = vec![principal];
    let mut done = Vec::new();
    while let Some(p) = pending.pop() {
        if done.contains(&p) {
            continue;
        }
        let Some(found) = s.principal(p) else { continue };
        let kinds = if p == principal || found.status == Status::Cancelled {
            dying_kinds(found.status)
        } else {
            &[SecretKind::Session]
        };
        deputy.store().delete_secrets_of(p.0, kinds)?;
        done.push(p);
        pending.extend(s.delegates_of(p));
    }
    Ok(done)
}
