//! A check's answer as one caller sees it (R52, R58): explain names only the principals and
//! tenants the caller may see, and a denial for a principal it cannot see says no more than
//! that it is denied.
//!
//! The engine stays pure: the shell passes a predicate saying which entities the caller
//! may see (the engine's own visibility rules, evaluated by the shell for its caller), and
//! the evaluator words and redacts its answer by it. The console sees everything, so
//! [`State::check`] and [`State::explain`] name everything.

use super::{Context, Decision, Eval, Explanation, GrantingPath, PathFilter, Step, Target};
use crate::check::CheckError;
use crate::ids::*;
use crate::model::*;
use crate::state::State;
use serde::Serialize;

/// A principal or tenant an answer may mention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entity {
    Principal(PrincipalId),
    Tenant(TenantId),
}

/// Whether the caller may see an entity, so that an answer may name it (R52, R58).
pub type MayName<'a> = &'a dyn Fn(Entity) -> bool;

/// How explain refers to a principal the caller cannot see (R52).
pub const UNSEEN_PRINCIPAL: &str = "a principal you cannot see";
/// How explain refers to a tenant the caller cannot see (R52).
pub const UNSEEN_TENANT: &str = "a tenant you cannot see";

/// An entity as the caller sees it: the value itself, or the words for one it cannot see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Seen<T> {
    Named(T),
    Unseen(&'static str),
}

/// A granting path as a caller sees it (R52, R69): the provenance of what it may see, and
/// [`UNSEEN_PRINCIPAL`] or [`UNSEEN_TENANT`] in place of what it may not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeenPath {
    pub holder: Seen<PrincipalId>,
    pub through_delegates: Vec<Seen<PrincipalId>>,
    pub origin: &'static str,
    pub role: Option<RoleId>,
    pub permission: Option<PermId>,
    pub scope: Option<Seen<Scope>>,
    pub grant: Option<GrantId>,
    pub assignment: Option<AssignmentId>,
    pub assigned_by: Option<Seen<Author>>,
    pub assigned_at: Option<Millis>,
    pub expires_at: Option<Millis>,
    pub grant_approved_by: Option<Seen<Author>>,
    pub grant_expires_at: Option<Millis>,
}

/// The denial for a principal the caller cannot see, whatever step failed.
///
/// INVARIANT: it depends on the permission alone, so a caller that cannot see a principal
/// cannot tell its suspended home, its status, its owner chain or its delegate limits from
/// a plain lack of access; it learns only "denied", which `check` answers anyway.
pub(crate) fn unseen_denial(s: &State, x: PermId) -> String {
    format!("{UNSEEN_PRINCIPAL} has no path to `{}` here", s.catalog.perm_name(x))
}

impl State {
    /// `check` (R51) as answered to a caller that may see only what `may_name` admits:
    /// a denial for a principal (or impersonator) it cannot see always fails at step
    /// [`Step::Paths`], whichever step failed, so the step tells nothing about it (R52).
    /// `may_name` is asked only on a denial.
    #[allow(clippy::too_many_arguments)]
    pub fn check_as(
        &self,
        principal: PrincipalId,
        permission: PermId,
        target: Target,
        ctx: Context,
        now: Millis,
        may_name: MayName<'_>,
    ) -> Result<Decision, CheckError> {
        let decision = self.check(principal, permission, target, ctx, now)?;
        if !decision.is_allowed() && unseen_argument(principal, ctx, may_name) {
            return Ok(Decision::Denied(Step::Paths));
        }
        Ok(decision)
    }

    /// `explain` (R52) as answered to a caller that may see only what `may_name` admits:
    /// others are [`UNSEEN_PRINCIPAL`] and [`UNSEEN_TENANT`] in the reason and the paths,
    /// and a denial for a principal it cannot see reads as a plain lack of access. Agrees
    /// with [`State::check_as`] on the decision.
    #[allow(clippy::too_many_arguments)]
    pub fn explain_as(
        &self,
        principal: PrincipalId,
        permission: PermId,
        target: Target,
        ctx: Context,
        now: Millis,
        may_name: MayName<'_>,
    ) -> Result<Explanation<SeenPath>, CheckError> {
        let mut eval = Eval::<true>::new(self, now);
        eval.names = Some(may_name);
        let decision = eval.top(principal, permission, target, ctx, PathFilter::Any)?;
        if decision.is_allowed() {
            let paths = eval.paths.iter().map(|p| self.seen_path(p, may_name)).collect();
            return Ok(Explanation { decision, reason: None, paths });
        }
        if unseen_argument(principal, ctx, may_name) {
            return Ok(Explanation {
                decision: Decision::Denied(Step::Paths),
                reason: Some(unseen_denial(self, permission)),
                paths: Vec::new(),
            });
        }
        Ok(Explanation { decision, reason: eval.reason, paths: Vec::new() })
    }

    /// A granting path with what the caller may not see replaced (R52), the rest of its
    /// provenance kept (R69).
    pub fn seen_path(&self, path: &GrantingPath, may_name: MayName<'_>) -> SeenPath {
        let principal = |p: PrincipalId| {
            if may_name(Entity::Principal(p)) {
                Seen::Named(p)
            } else {
                Seen::Unseen(UNSEEN_PRINCIPAL)
            }
        };
        let author = |a: &Author| match a {
            Author::Principal(p) if !may_name(Entity::Principal(*p)) => {
                Seen::Unseen(UNSEEN_PRINCIPAL)
            }
            _ => Seen::Named(a.clone()),
        };
        let scope = |scope: Scope| {
            let tenant = match scope {
                Scope::Tenant { tenant, .. } | Scope::Client { client: tenant } => Some(tenant),
                Scope::Resource { resource } => self.resource(resource).map(|r| r.tenant),
                Scope::Group { group } => self.group(group).and_then(|g| match g.owner {
                    GroupOwner::Tenant(t) => Some(t),
                    GroupOwner::User(p) => self.principal(p).map(|p| p.home),
                }),
            };
            match tenant {
                Some(t) if may_name(Entity::Tenant(t)) => Seen::Named(scope),
                _ => Seen::Unseen(UNSEEN_TENANT),
            }
        };
        SeenPath {
            holder: principal(path.holder),
            through_delegates: path.through_delegates.iter().map(|d| principal(*d)).collect(),
            origin: path.origin,
            role: path.role,
            permission: path.permission,
            scope: path.scope.map(scope),
            grant: path.grant,
            assignment: path.assignment,
            assigned_by: path.assigned_by.as_ref().map(author),
            assigned_at: path.assigned_at,
            expires_at: path.expires_at,
            grant_approved_by: path.grant_approved_by.as_ref().map(author),
            grant_expires_at: path.grant_expires_at,
        }
    }
}

/// Whether a principal the check is about, or its impersonator, is one the caller cannot
/// see: then its denial must not say why (R52).
fn unseen_argument(principal: PrincipalId, ctx: Context, may_name: MayName<'_>) -> bool {
    !may_name(Entity::Principal(principal))
        || ctx.impersonation.is_some_and(|i| !may_name(Entity::Principal(i.actor)))
}
