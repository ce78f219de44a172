//! Steps 3–9 in their order for one principal: suspension (R8), status up the owner chain
//! (R11, R36), entitlement (R3, R31), then the paths (steps 6–7) or the delegate's limits
//! (step 9), and requirements (R26).

use super::*;

impl<'s, const EXPLAIN: bool> Eval<'s, EXPLAIN> {
    /// Steps 3–9 for principal `pid`, counting the paths `reach` allows.
    pub(super) fn eval(
        &mut self,
        pid: PrincipalId,
        x: PermId,
        tgt: &Resolved,
        reach: Reach,
        filter: PathFilter,
        depth: u32,
    ) -> Result<(), Step> {
        let s = self.s;
        let catalog = &*s.catalog;
        let Some(p) = s.principal(pid) else {
            return Err(self.deny(Step::Exists, |_| format!("principal {pid} does not exist")));
        };
        let Some(t) = s.tenant(tgt.tenant) else {
            return Err(self.deny(Step::Exists, |_| "target tenant does not exist".into()));
        };
        if depth > MAX_DEPTH {
            return Err(self.deny(Step::Delegate, |_| "owner chain is too deep".into()));
        }
        // Step 3: suspension (R8). `checks.read` held from outside a suspended subtree
        // still answers checks on it; the paths step drops holdings from inside.
        let checks_read = catalog.is_checks_read(x);
        if self.target_blocked(t, filter) && !checks_read {
            return Err(self.deny(Step::Suspension, |e| {
                format!("tenant {} or one of its ancestors is suspended", e.tname(tgt.tenant))
            }));
        }
        if s.tenant(p.home).is_none_or(|h| h.blocked) {
            return Err(self.deny(Step::Suspension, |e| {
                format!(
                    "home tenant {} of {} or one of its ancestors is suspended",
                    e.tname(p.home),
                    e.pname(pid)
                )
            }));
        }
        // Step 4: status, up the owner chain (R11, R36).
        if !p.is_active() {
            return Err(
                self.deny(Step::Status, |e| format!("{} is {}", e.pname(pid), p.status.as_str()))
            );
        }
        let mut owner = p.owner();
        let mut hops = 0;
        while let Some(o) = owner {
            match s.principal(o) {
                Some(op) if op.is_active() => owner = op.owner(),
                Some(op) => {
                    let status = op.status;
                    return Err(self.deny(Step::Status, |e| {
                        format!("owner {} of {} is {}", e.pname(o), e.pname(pid), status.as_str())
                    }));
                }
                None => {
                    return Err(self.deny(Step::Status, |_| format!("owner {o} does not exist")));
                }
            }
            hops += 1;
            if hops > MAX_DEPTH {
                return Err(self.deny(Step::Status, |_| "owner chain is too deep".into()));
            }
        }
        self.eval_rest(p, t, x, tgt, reach, filter, depth)
    }

    /// Step 3 for the target (R8): a suspended tenant or ancestor blocks every permission
    /// in it. Authority *over* a tenant comes from above it, so there only a suspension
    /// above the tenant blocks: its holders can still lift the tenant's own.
    fn target_blocked(&self, t: &Tenant, filter: PathFilter) -> bool {
        match filter {
            PathFilter::FromAbove => {
                t.parent.and_then(|parent| self.s.tenant(parent)).is_some_and(|p| p.blocked)
            }
            PathFilter::Any => t.blocked,
        }
    }

    /// Steps 5–9 (and the target half of step 3) for a principal whose home and status
    /// were already checked: requirements and owners re-enter here, since they share the
    /// principal's home and its owner chain was checked whole.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn eval_rest(
        &mut self,
        p: &'s Principal,
        t: &'s Tenant,
        x: PermId,
        tgt: &Resolved,
        reach: Reach,
        filter: PathFilter,
        depth: u32,
    ) -> Result<(), Step> {
        let s = self.s;
        let catalog = &*s.catalog;
        let pid = p.id;
        if depth > MAX_DEPTH {
            return Err(self.deny(Step::Delegate, |_| "owner chain is too deep".into()));
        }
        if self.target_blocked(t, filter) && !catalog.is_checks_read(x) {
            return Err(self.deny(Step::Suspension, |e| {
                format!("tenant {} or one of its ancestors is suspended", e.tname(tgt.tenant))
            }));
        }
        // Step 5: entitlement (R3, R31).
        if !catalog.core.contains(x) && !t.entitlements.contains(x) {
            return Err(self.deny(Step::Entitlement, |e| {
                format!("tenant {} is not entitled to {}", e.tname(tgt.tenant), e.xname(x))
            }));
        }
        if catalog.root_only.contains(x) && s.root() != Some(tgt.tenant) {
            return Err(self.deny(Step::Entitlement, |e| {
                format!("{} is effective in the root tenant alone", e.xname(x))
            }));
        }
        // Steps 6–7, or step 9 for a delegate.
        match &p.delegate {
            Some(access) => self.delegate_step(p, t, access, x, tgt, reach, filter, depth)?,
            None => self.paths_step(p, x, tgt, reach, filter)?,
        }
        // Step 8: requirements (R26), on the same target.
        for req in &catalog.permission(x).requires {
            let recording = std::mem::replace(&mut self.recording, false);
            let result = self.eval_rest(p, t, *req, tgt, reach, filter, depth + 1);
            self.recording = recording;
            if result.is_err() {
                return Err(self.wrap(Step::Requirements, |e, inner| {
                    format!(
                        "{} requires {}, which {} lacks: {inner}",
                        e.xname(x),
                        e.xname(*req),
                        e.pname(pid)
                    )
                }));
            }
        }
        Ok(())
    }
}
