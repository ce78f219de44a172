//! "Add Access to Another Business" codes at the console (R37a): issued, shown once, and
//! redeemed.

use super::{Failure, Outcome, done};
use clap::Subcommand;
use deputy_http::routes::refs::{PrincipalRef, TenantRef};
use deputy_service::auth::Auth;
use deputy_service::ops::{self, Asker};
use deputy_store::BoxedBackend;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum AccessCodeCmd {
    /// Issue a code for TENANT carrying roles; the code is printed once.
    Issue {
        tenant: String,
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[arg(long, default_value_t = 30)]
        days: i64,
    },
    /// Redeem a code (run with --as the redeemer).
    Redeem { code: String },
}

pub(super) fn run(cmd: &AccessCodeCmd, auth: &Auth<BoxedBackend>, by: Asker<'_>) -> Outcome {
    match cmd {
        AccessCodeCmd::Issue { tenant, roles, days } => {
            if !(1..=365).contains(days) {
                return Err(Failure::Usage("--days: between 1 and 365".into()));
            }
            let c = ops::access::issue_code(auth, by, tenant, roles, Some(*days))?;
            let s = auth.deputy().snapshot();
            let issued = &c.output;
            Ok((
                json!({"revision": c.revision, "code": issued.code, "id": issued.id.to_string(), "tenant": TenantRef::of(&s, issued.tenant)}),
                format!(
                    "access code for `{tenant}` (shown once, valid {days} days):\n{}",
                    issued.code
                ),
                0,
            ))
        }
        AccessCodeCmd::Redeem { code } => {
            let c = ops::access::redeem_code(auth, by, code)?;
            let s = auth.deputy().snapshot();
            let (tenant, holder) =
                (TenantRef::of(&s, c.output.tenant), PrincipalRef::of(&s, c.output.holder));
            let assignments: Vec<String> =
                c.output.assignments.iter().map(ToString::to_string).collect();
            done(
                c.revision,
                format!("access to `{}` added", tenant.key),
                json!({"tenant": tenant, "holder": holder, "assignments": assignments}),
            )
        }
    }
}
