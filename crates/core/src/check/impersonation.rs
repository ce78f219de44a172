//! Step 2 (R48, R68): an impersonation counts while it is unexpired, its target active,
//! and the impersonator still allowed to impersonate the target.

use super::*;

impl<'s, const EXPLAIN: bool> Eval<'s, EXPLAIN> {
    /// Step 2's conditions (R48, R68): unexpired, an active target, and the impersonator
    /// still holding `impersonate` in the target's home tenant at a rank not below the
    /// target's there.
    pub(super) fn verify_impersonation(
        &mut self,
        p: &Principal,
        imp: Impersonation,
        reach: Reach,
    ) -> Result<(), Step> {
        let (principal, home, actor_id) = (p.id, p.home, imp.actor);
        if self.now >= imp.expires_at {
            return Err(self.deny(Step::Impersonation, |_| "the impersonation has expired".into()));
        }
        if !p.is_active() {
            return Err(self.deny(Step::Impersonation, |e| {
                format!("impersonated principal {} is not active", e.pname(principal))
            }));
        }
        let may_impersonate =
            self.s.catalog.permission_id(crate::perms::IMPERSONATE).is_some_and(|imp_perm| {
                let mut inner = Eval::<false>::new(self.s, self.now);
                inner
                    .eval(
                        actor_id,
                        imp_perm,
                        &Resolved { tenant: home, resource: None, kind: None },
                        reach,
                        PathFilter::Any,
                        0,
                    )
                    .is_ok()
                    && inner.rank_in(actor_id, home, reach, 0)
                        >= inner.rank(principal, home, None, 0)
            });
        if !may_impersonate {
            return Err(self.deny(Step::Impersonation, |e| {
                format!("{} may no longer impersonate {}", e.pname(actor_id), e.pname(principal))
            }));
        }
        Ok(())
    }
}
