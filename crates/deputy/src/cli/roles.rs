//! Roles and single permissions at the console (R26, R27, R32): given in a tenant or on a
//! resource, and removed.

use super::{Failure, Outcome, done, made};
use clap::Args;
use deputy_core::{AssignmentId, State};
use deputy_service::auth::Auth;
use deputy_service::ops::roles::{Given, Place};
use deputy_service::ops::{self, Asker};
use deputy_service::resolve;
use deputy_store::BoxedBackend;
use serde_json::json;

#[derive(Debug, Args)]
pub struct AssignArgs {
    logon: String,
    role: String,
    #[arg(long, required_unless_present = "resource")]
    tenant: Option<String>,
    #[arg(long)]
    subtree: bool,
    #[arg(long, conflicts_with = "tenant")]
    resource: Option<String>,
}

#[derive(Debug, Args)]
pub struct UnassignArgs {
    logon: String,
    assignment: String,
}

pub(super) fn assign(
    args: &AssignArgs,
    s: &State,
    auth: &Auth<BoxedBackend>,
    by: Asker<'_>,
) -> Outcome {
    let AssignArgs { logon, role, tenant, subtree, resource } = args;
    // One argument names a role or, failing that, a single permission (R26).
    let given = if resolve::role(s, role).is_ok() {
        Given::Role(role.clone())
    } else if resolve::permission(s, role).is_ok() {
        Given::Permission(role.clone())
    } else {
        return Err(Failure::NotFound(format!("no role or permission named `{role}`")));
    };
    let place = match (tenant, resource) {
        (Some(t), _) => Place::Tenant { tenant: t.clone(), subtree: *subtree },
        (None, Some(r)) => Place::Resource(r.clone()),
        (None, None) => return Err(Failure::Usage("give --tenant or --resource".into())),
    };
    let c = ops::roles::assign(auth, by, logon, given, place, None)?;
    made(&c, format!("gave `{role}` to `{logon}`"), "assignment")
}

pub(super) fn unassign(args: &UnassignArgs, auth: &Auth<BoxedBackend>, by: Asker<'_>) -> Outcome {
    let UnassignArgs { logon, assignment } = args;
    if assignment.parse::<AssignmentId>().is_err() {
        return Err(Failure::Usage(format!(
            "assignment: `{assignment}` is not an assignment id like `a12`"
        )));
    }
    let c = ops::roles::unassign(auth, by, logon, assignment)?;
    done(c.revision, format!("removed {assignment} from `{logon}`"), json!({}))
}
