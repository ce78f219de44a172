//! What-if previews (R67), batch checks (R54) and access reviews (R72): reads that run the
//! engine on the published state, or on a pending change that is never committed.

use crate::{Deputy, ServiceError};
use deputy_core::review::{AccessDiff, ReviewRow, diff_access};
use deputy_core::{
    Actor, CheckError, CommandError, Context, Decision, PermId, PrincipalId, Target, TenantId, Tx,
};
use deputy_store::Store;
use std::time::{Duration, Instant};

/// One triple of a batch check.
#[derive(Debug, Clone, Copy)]
pub struct CheckItem {
    pub principal: PrincipalId,
    pub permission: PermId,
    pub target: Target,
    pub ctx: Context,
}

impl<S: Store> Deputy<S> {
    /// Decides `command` on the current state without committing it and reports who would
    /// lose or gain which access (R67), within `budget`.
    pub fn what_if<T>(
        &self,
        actor: Actor,
        budget: Duration,
        command: impl Fn(&mut Tx) -> Result<T, CommandError>,
    ) -> Result<(AccessDiff, u64), ServiceError> {
        let base = self.snapshot();
        let now = self.now();
        let decided = base.decide(actor, now, &command)?;
        let started = Instant::now();
        let diff = diff_access(&base, &decided.next, &decided.changes, now, &mut || {
            started.elapsed() > budget
        });
        Ok((diff, base.revision))
    }

    /// Many checks on one snapshot (R54); each answer or its own error (R55).
    pub fn check_batch(
        &self,
        items: &[CheckItem],
        at_least: Option<u64>,
    ) -> Result<(Vec<Result<Decision, CheckError>>, u64), ServiceError> {
        let state = match at_least {
            Some(rev) => self.snapshot_at_least(rev)?,
            None => self.snapshot(),
        };
        let now = self.now();
        let answers = items
            .iter()
            .map(|i| state.check(i.principal, i.permission, i.target, i.ctx, now))
            .collect();
        Ok((answers, state.revision))
    }

    /// Every principal's effective access in a tenant, with reasons (R72).
    pub fn review_tenant(&self, tenant: TenantId) -> (Vec<ReviewRow>, u64) {
        let state = self.snapshot();
        (state.review_tenant(tenant, self.now()), state.revision)
    }

    /// Everything a principal may do and why (R72).
    pub fn review_principal(&self, principal: PrincipalId) -> (Vec<ReviewRow>, u64) {
        let state = self.snapshot();
        (state.review_principal(principal, self.now()), state.revision)
    }
}
