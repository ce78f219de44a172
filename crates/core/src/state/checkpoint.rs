//! A [`State`] as a change list and back: checkpoints and exports.

use super::*;

impl State {
    /// Rebuilds a state from a checkpoint's changes (see [`State::to_changes`]).
    pub fn from_changes(changes: &[Change], revision: u64) -> Result<State, ApplyError> {
        let mut state = State::new(Catalog::shipped());
        for change in changes {
            state.apply_one(change.clone())?;
        }
        state.revision = revision;
        Ok(state)
    }

    /// Every entity as a change list: applying it to an empty state with the same catalog
    /// rebuilds this state (a checkpoint, or an export).
    pub fn to_changes(&self) -> Vec<Change> {
        let mut out = Vec::with_capacity(
            1 + self.tenants.len() + self.principals.len() + self.resources.len(),
        );
        out.push(Change::Catalog { toml: self.catalog.source.clone() });
        // Ids are dense, so tenants are created in id order. A tenant moved under a newer one
        // (R1) is first created under the root, then moved, parents before children, so no
        // step refers to a tenant not yet created or makes a cycle.
        let root = self.root;
        let mut moved = Vec::new();
        for t in self.tenants.iter() {
            match t.parent {
                Some(parent) if parent >= t.id => {
                    moved.push(t.id);
                    out.push(Change::Tenant(Tenant { parent: root, ..t.clone() }));
                }
                _ => out.push(Change::Tenant(t.clone())),
            }
        }
        if !moved.is_empty() {
            let moved: std::collections::BTreeSet<TenantId> = moved.into_iter().collect();
            for t in root.map(|r| self.subtree(r)).unwrap_or_default() {
                if moved.contains(&t)
                    && let Some(tenant) = self.tenant(t)
                {
                    out.push(Change::Tenant(tenant.clone()));
                }
            }
        }
        out.push(Change::AssignmentCounter { next: self.next_assignment });
        out.extend(self.principals.iter().map(|p| Change::Principal(p.clone())));
        out.extend(self.resources.iter().map(|r| Change::Resource(r.clone())));
        out.extend(self.grants.iter().map(|g| Change::Grant(g.clone())));
        out.extend(self.groups.iter().map(|g| Change::Group(g.clone())));
        out.extend(self.access_codes.iter().map(|c| Change::AccessCode(c.clone())));
        let mut placements: Vec<_> = self.placement.iter().collect();
        placements.sort_by_key(|((o, t), _)| (*o, *t));
        out.extend(placements.into_iter().map(|((owner, tenant), group)| Change::Placement {
            owner: *owner,
            tenant: *tenant,
            group: Some(*group),
        }));
        out
    }
}
